from decimal import Decimal

from django.test import TestCase

from monographs.models import Evidence, FormSideEffect, Interaction, Precaution
from tests import factories
from tests.public.helpers import forget_cached_pages, page_tree, set_review_date

URL = "/forms/magnesium-glycinate/"


def build_glycinate():
    """A complete published monograph; returns (form, reviewer, citations)."""
    smith = factories.CitationFactory(
        key="smith2019",
        authors="Smith A, Jones B",
        title="Magnesium and sleep",
        journal="Sleep Med",
        year=2019,
        volume="12",
        issue="3",
        pages="100-110",
        pmid="31000001",
        pmcid="PMC6000001",
        doi="10.1016/j.sleep.2019.001",
    )
    abbasi = factories.CitationFactory(key="abbasi2012", title="Magnesium in elderly")
    held = factories.CitationFactory(key="held2002", title="Oxide and sleep EEG")
    tetra = factories.CitationFactory(
        key="tetra2010", title="Chelation of tetracycline"
    )
    form = factories.MagnesiumFormFactory(
        name="Magnesium glycinate",
        slug="magnesium-glycinate",
        category="amino-acid-chelate",
        salt="glycinate",
        formula_basis="Mg(C2H4NO2)2",
        elemental_mg_percent=Decimal("12.00"),
        summary="A chelate that is gentle on the gut [@smith2019].",
        usage="Taken mostly for sleep [@abbasi2012] and cramps [@smith2019].",
        mechanism="Magnesium blocks NMDA receptors and calms neurons.",
        precaution_notes="Check with your doctor first.",
        disclaimer="This page is general information, not medical advice.",
    )
    factories.SynonymFactory(
        form=form, name="Magnesium bisglycinate", slug="magnesium-bisglycinate"
    )
    sleep = factories.IndicationFactory(name="Sleep quality", slug="sleep-quality")
    cramps = factories.IndicationFactory(name="Muscle cramps", slug="muscle-cramps")
    anxiety = factories.IndicationFactory(name="Anxiety", slug="anxiety")
    sleep_use = factories.EvidenceFactory(
        form=form,
        indication=sleep,
        direction=Evidence.Direction.BENEFIT,
        certainty=Evidence.Certainty.LOW,
        summary="Most trials used magnesium oxide.",
    )
    sleep_use.citations.add(held)
    factories.StudyFactory(
        evidence=sleep_use,
        name="Held 2002",
        design="systematic-review",
        salt="oxide",
        outcome="Sleep quality",
        result="mixed",
        studies_included=8,
        studies_improved=5,
    )
    cramps_use = factories.EvidenceFactory(
        form=form,
        indication=cramps,
        direction=Evidence.Direction.NO_EFFECT,
        certainty=Evidence.Certainty.MODERATE,
        imprecision=1,
        imprecision_reason="Few participants.",
    )
    factories.StudyFactory(
        evidence=cramps_use,
        name="Cramp review",
        design="systematic-review",
        salt="glycinate",
        outcome="Cramp frequency",
        result="no-difference",
        studies_included=7,
        studies_improved=1,
    )
    factories.EvidenceFactory(
        form=form,
        indication=anxiety,
        direction=Evidence.Direction.MIXED,
        certainty=Evidence.Certainty.VERY_LOW,
        risk_of_bias=2,
        risk_of_bias_reason="Unblinded.",
        imprecision=1,
        imprecision_reason="One small trial.",
    )
    factories.DoseFactory(
        form=form,
        population="Adults",
        purpose="General supplementation",
        minimum_mg=125,
        maximum_mg=300,
        timing="With the evening meal",
        position=0,
    )
    factories.DoseFactory(
        form=form,
        population="Children 9–13 years",
        age_band="9-13y",
        purpose="Dietary top-up",
        minimum_mg=50,
        maximum_mg=110,
        position=1,
    )
    factories.FormSideEffectFactory(
        form=form,
        side_effect=factories.SideEffectFactory(name="Diarrhoea", slug="diarrhoea"),
        frequency=FormSideEffect.Frequency.COMMON,
        seriousness=FormSideEffect.Seriousness.MILD,
    )
    factories.FormSideEffectFactory(
        form=form,
        side_effect=factories.SideEffectFactory(name="Nausea", slug="nausea"),
        frequency=FormSideEffect.Frequency.UNCOMMON,
        seriousness=FormSideEffect.Seriousness.MILD,
    )
    factories.FormSideEffectFactory(
        form=form,
        side_effect=factories.SideEffectFactory(
            name="Hypermagnesaemia", slug="hypermagnesaemia"
        ),
        frequency=FormSideEffect.Frequency.RARE,
        seriousness=FormSideEffect.Seriousness.SEEK_ATTENTION,
        notes="Muscle weakness and slow breathing need urgent care.",
    )
    factories.InteractionFactory(
        form=form,
        drug_class="Potassium-sparing diuretics",
        significance=Interaction.Significance.MINOR,
        management="Have your magnesium level checked.",
        position=0,
    )
    factories.InteractionFactory(
        form=form,
        drug_class="Integrase inhibitors",
        significance=Interaction.Significance.MAJOR,
        mechanism="Magnesium *binds* the antiretroviral in the gut.",
        management="Take the antiretroviral 2 h before magnesium.",
        position=1,
    )
    factories.InteractionFactory(
        form=form,
        drug_class="Tetracycline antibiotics",
        significance=Interaction.Significance.MODERATE,
        management="Take the antibiotic 2 h before or 4–6 h after magnesium.",
        position=2,
    ).citations.add(tetra)
    factories.PrecautionFactory(
        form=form,
        kind=Precaution.Kind.CONTRAINDICATION,
        label="Kidney disease",
        text="Do not take it without your kidney doctor's advice.",
        position=0,
    )
    factories.PrecautionFactory(
        form=form, label="Pregnancy", text="Stay within the usual dose.", position=1
    )
    factories.FAQFactory(
        form=form,
        question="Can I take it with food?",
        answer="Yes, food can reduce loose stools.",
        position=0,
    )
    factories.FAQFactory(
        form=form,
        question="Is it better than oxide?",
        answer="It is gentler on the gut [@smith2019].",
        position=1,
    )
    reviewer = factories.ReviewerFactory(
        username="ada", first_name="Ada", last_name="Lovelace"
    )
    set_review_date(factories.publish(form, user=reviewer))
    return (
        form,
        reviewer,
        {
            "smith": smith,
            "abbasi": abbasi,
            "held": held,
            "tetra": tetra,
        },
    )


def cells(row):
    return [cell.text() for cell in row.children if not isinstance(cell, str)]


class MonographPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form, cls.reviewer, cls.citations = build_glycinate()

    def setUp(self):
        self.response = self.client.get(URL)
        self.tree = page_tree(self.response)

    def section(self, element_id):
        section = self.tree.by_id(element_id)
        self.assertIsNotNone(section, f"no element with id {element_id}")
        return section

    def test_page_is_found_with_the_form_name_as_heading(self):
        self.assertEqual(self.response.status_code, 200)
        self.assertContains(self.response, "<h1>Magnesium glycinate</h1>", html=True)
        self.assertContains(self.response, "Also called Magnesium bisglycinate.")

    def test_summary_comes_first(self):
        summary = self.section("summary")
        self.assertIn("A chelate that is gentle on the gut", summary.text())
        body = self.response.content.decode()
        self.assertLess(body.index('id="summary"'), body.index('id="uses"'))

    def test_facts_about_the_form(self):
        about = self.section("about")
        self.assertIn("Amino-acid chelate", about.text())
        self.assertIn("Mg(C2H4NO2)2", about.text())
        self.assertIn("12.0% by weight", about.text())

    def test_each_use_shows_its_grade_statement_tally_and_applicability(self):
        expected = {
            "evidence-sleep-quality": [
                "Magnesium glycinate may improve sleep quality.",
                "Certainty: low",
                "5 of 8 studies found an improvement",
                "Studies of other salts or of magnesium in general",
            ],
            "evidence-muscle-cramps": [
                "Magnesium glycinate probably results in little to no difference "
                "in muscle cramps.",
                "Certainty: moderate",
                "1 of 7 studies found an improvement",
                "Studies of this form",
            ],
            "evidence-anxiety": [
                "The evidence is very uncertain about the effect of Magnesium "
                "glycinate on anxiety.",
                "Certainty: very low",
                "No studies are recorded for this use yet",
            ],
        }
        for anchor, values in expected.items():
            with self.subTest(anchor=anchor):
                text = " ".join(self.section(anchor).text().split())
                for value in values:
                    self.assertIn(value, text)

    def test_uses_are_listed_by_name_and_link_to_the_use_page(self):
        uses = self.section("uses")
        rows = [
            use.attrs["id"] for use in uses.find_all("article") if "id" in use.attrs
        ]
        self.assertEqual(
            rows,
            ["evidence-anxiety", "evidence-muscle-cramps", "evidence-sleep-quality"],
        )
        self.assertIsNotNone(uses.find("a", href="/indications/sleep-quality/"))
        self.assertIn("Most trials used magnesium oxide.", uses.text())
        self.assertIn("Taken mostly for sleep", uses.text())

    def test_dosing_in_elemental_mg_with_populations(self):
        dosing = self.section("dosing")
        table = dosing.find("table")
        self.assertIn("mg of elemental magnesium", table.find("caption").text())
        rows = [cells(row) for row in table.find("tbody").find_all("tr")]
        self.assertEqual(
            rows[0][:4],
            [
                "Adults Adults, 19 years and older",
                "General supplementation",
                "125–300",
                "By mouth; With the evening meal",
            ],
        )
        self.assertEqual(
            rows[1][:3],
            [
                "Children 9–13 years Children, 9–13 years",
                "Dietary top-up",
                "50–110",
            ],
        )

    def test_worked_conversion_from_salt_weight(self):
        dosing = self.section("label-weight")
        self.assertIn(
            "Magnesium glycinate is 12.0% magnesium by weight, so 500 mg of it "
            "holds about 60 mg of elemental magnesium, and 1,000 mg about 120 mg.",
            dosing.text(),
        )

    def test_side_effects_are_split_into_common_and_seek_medical_attention(self):
        section = self.section("side-effects")
        headings = [heading.text() for heading in section.find_all("h3")]
        self.assertEqual(headings, ["Common, usually mild", "Seek medical attention"])
        mild, serious = section.find_all("ul")
        self.assertNotIn("serious", mild.attrs.get("class", ""))
        self.assertIn("serious", serious.attrs["class"])
        self.assertIn("Diarrhoea", mild.text())
        self.assertIn("Nausea", mild.text())
        self.assertNotIn("Hypermagnesaemia", mild.text())
        self.assertIn("Hypermagnesaemia", serious.text())
        self.assertIn("slow breathing need urgent care", serious.text())
        self.assertNotIn("Diarrhoea", serious.text())
        self.assertIsNotNone(section.find("a", href="/side-effects/diarrhoea/"))

    def test_side_effects_show_how_often(self):
        section = self.section("side-effects")
        self.assertIn("Diarrhoea Common", section.text())
        self.assertIn("Nausea Uncommon", section.text())
        self.assertIn("Hypermagnesaemia Rare", section.text())

    def test_interactions_are_ordered_by_significance_with_management(self):
        section = self.section("interactions")
        rows = [cells(row) for row in section.find("tbody").find_all("tr")]
        self.assertEqual(
            [row[0] for row in rows],
            [
                "Integrase inhibitors",
                "Tetracycline antibiotics",
                "Potassium-sparing diuretics",
            ],
        )
        self.assertEqual(
            [row[1] for row in rows],
            [
                "Major: do not combine",
                "Moderate: use cautiously or avoid",
                "Minor: be aware",
            ],
        )
        self.assertIn("Take the antiretroviral 2 h before magnesium.", rows[0][3])
        self.assertIn("4–6 h after magnesium.", rows[1][3])
        self.assertIn("Have your magnesium level checked.", rows[2][3])

    def test_precautions(self):
        section = self.section("precautions")
        self.assertIn("Check with your doctor first.", section.text())
        terms = [term.text() for term in section.find_all("dt")]
        self.assertEqual(terms, ["Kidney disease Contraindication", "Pregnancy"])
        self.assertIn("without your kidney doctor's advice", section.text())

    def test_how_it_works(self):
        self.assertIn(
            "Magnesium blocks NMDA receptors", self.section("how-it-works").text()
        )

    def test_faqs_in_order(self):
        section = self.section("faqs")
        self.assertEqual(
            [term.text() for term in section.find_all("dt")],
            ["Can I take it with food?", "Is it better than oxide?"],
        )
        self.assertIn("food can reduce loose stools", section.text())

    def test_disclaimer(self):
        disclaimer = self.tree.find("section", class_="disclaimer")
        self.assertIsNotNone(disclaimer)
        self.assertIn("not medical advice", disclaimer.text())

    def test_sections_appear_in_reading_order(self):
        body = self.response.content.decode()
        positions = [
            body.index(f'id="{anchor}"')
            for anchor in [
                "summary",
                "uses",
                "dosing",
                "side-effects",
                "interactions",
                "precautions",
                "how-it-works",
                "faqs",
                "references",
            ]
        ]
        self.assertEqual(positions, sorted(positions))
        self.assertLess(body.index('class="disclaimer"'), body.index('id="references"'))

    def test_last_reviewed_date_and_reviewer(self):
        status = self.tree.find("p", class_="review-status")
        self.assertIn("Last reviewed on 5 March 2024 by Ada Lovelace.", status.text())
        self.assertTrue(status.find("time").attrs["datetime"].startswith("2024-03-05"))

    def test_last_reviewed_links_to_the_history(self):
        status = self.tree.find("p", class_="review-status")
        links = [link.attrs["href"] for link in status.find_all("a")]
        self.assertTrue(links, "the review line links nowhere")
        for href in links:
            with self.subTest(href=href):
                self.assertEqual(self.client.get(href).status_code, 200)

    def test_table_of_contents_links_resolve(self):
        toc = self.tree.find("nav", class_="toc")
        for link in toc.find_all("a"):
            with self.subTest(href=link.attrs["href"]):
                self.assertIsNotNone(self.tree.by_id(link.attrs["href"][1:]))

    def test_every_in_page_link_has_a_target(self):
        for link in self.tree.find_all("a"):
            href = link.attrs.get("href", "")
            if href.startswith("#") and href != "#content":
                with self.subTest(href=href):
                    self.assertIsNotNone(self.tree.by_id(href[1:]))


class MonographReferencesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form, cls.reviewer, cls.citations = build_glycinate()

    def setUp(self):
        self.response = self.client.get(URL)
        self.tree = page_tree(self.response)
        self.references = self.tree.by_id("references").find("ol")

    def test_references_are_numbered_by_first_appearance(self):
        items = self.references.find_all("li")
        self.assertEqual(
            [item.attrs["id"] for item in items], ["ref-1", "ref-2", "ref-3", "ref-4"]
        )
        titles = [
            "Magnesium and sleep",
            "Magnesium in elderly",
            "Oxide and sleep EEG",
            "Chelation of tetracycline",
        ]
        for item, title in zip(items, titles, strict=True):
            with self.subTest(title=title):
                self.assertIn(title, item.text())

    def test_in_text_markers_carry_the_reference_number(self):
        summary = self.tree.by_id("summary")
        marker = summary.find("a", href="#ref-1")
        self.assertEqual(marker.text(), "1")
        usage_markers = [
            a.text()
            for a in self.tree.by_id("uses").find_all("a")
            if a.attrs.get("href", "").startswith("#ref-")
        ]
        self.assertEqual(usage_markers[:2], ["2", "1"])

    def test_citation_in_vancouver_style_with_identifier_links(self):
        first = self.tree.by_id("ref-1")
        self.assertIn(
            "Smith A, Jones B. Magnesium and sleep. Sleep Med. 2019;12(3):100-110.",
            first.text(),
        )
        self.assertIsNotNone(
            first.find("a", href="https://pubmed.ncbi.nlm.nih.gov/31000001/")
        )
        self.assertIsNotNone(
            first.find(
                "a", href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC6000001/"
            )
        )
        self.assertIsNotNone(
            first.find("a", href="https://doi.org/10.1016/j.sleep.2019.001")
        )

    def test_back_links_lead_to_each_place_a_reference_is_cited(self):
        first = self.tree.by_id("ref-1")
        backlinks = [
            link.attrs["href"]
            for link in first.find_all("a")
            if link.attrs["href"].startswith("#cite-")
        ]
        # Summary, usage and the second FAQ cite smith2019.
        self.assertEqual(backlinks, ["#cite-1-1", "#cite-1-2", "#cite-1-3"])
        for href in backlinks:
            target = self.tree.by_id(href[1:])
            self.assertEqual(target.attrs["href"], "#ref-1")

    def test_every_reference_has_a_back_link(self):
        # The issue: "back-links to where each is cited". References attached
        # to an evidence row or an interaction are cited there too.
        for item in self.references.find_all("li"):
            with self.subTest(reference=item.attrs["id"]):
                backlinks = [
                    link
                    for link in item.find_all("a")
                    if link.attrs.get("href", "").startswith("#")
                ]
                self.assertTrue(backlinks, f"{item.attrs['id']} has no back-link")

    def test_row_citations_link_to_their_reference(self):
        sleep = self.tree.by_id("uses")
        self.assertIsNotNone(sleep.find("a", href="#ref-3"))
        self.assertIsNotNone(self.tree.by_id("interactions").find("a", href="#ref-4"))

    def test_uncited_citations_are_not_listed(self):
        factories.CitationFactory(key="unused2000", title="Never cited anywhere")
        forget_cached_pages()
        response = self.client.get(URL)
        self.assertNotContains(response, "Never cited anywhere")


class MonographEdgeCaseTests(TestCase):
    def test_minimal_monograph_says_what_is_missing(self):
        factories.publish(
            factories.MagnesiumFormFactory(name="Magnesium bare", slug="magnesium-bare")
        )
        response = self.client.get("/forms/magnesium-bare/")
        self.assertContains(
            response,
            "This monograph does not yet cover: uses and evidence, dosing, side "
            "effects, interactions with medicines, precautions, how it works, "
            "frequently asked questions.",
        )
        for empty in ("uses", "dosing", "side-effects", "interactions", "faqs"):
            self.assertNotContains(response, f'id="{empty}"')
        self.assertNotContains(response, "Not written yet")
        self.assertContains(response, "This page cites no sources yet.")

    def test_unknown_citation_key_is_shown_as_missing_not_dropped(self):
        factories.publish(
            factories.MagnesiumFormFactory(
                slug="magnesium-gap", summary="Claimed somewhere [@nosuchpaper]."
            )
        )
        response = self.client.get("/forms/magnesium-gap/")
        self.assertContains(response, "[citation needed: nosuchpaper]")

    def test_content_html_is_escaped_or_sanitized(self):
        form = factories.MagnesiumFormFactory(
            slug="magnesium-xss",
            summary="<script>alert('x')</script> [x](javascript:alert(1))",
            mechanism="<img src=x onerror=alert(2)>",
        )
        factories.InteractionFactory(form=form, drug_class="<b>Bold</b> drugs")
        factories.publish(form)
        response = self.client.get("/forms/magnesium-xss/")
        self.assertNotContains(response, "<script>alert")
        self.assertNotContains(response, "javascript:")
        self.assertNotContains(response, "<img src=x")
        self.assertNotContains(response, "<b>Bold</b>")
        self.assertContains(response, "&lt;b&gt;Bold&lt;/b&gt; drugs")

    def test_worked_conversion_rounds_to_whole_milligrams(self):
        factories.publish(
            factories.MagnesiumFormFactory(
                name="Magnesium citrate",
                slug="magnesium-citrate",
                elemental_mg_percent=Decimal("16.20"),
            )
        )
        response = self.client.get("/forms/magnesium-citrate/")
        self.assertContains(
            response, "500 mg of it holds about 81 mg of elemental magnesium"
        )
        self.assertContains(response, "1,000 mg about 162 mg")
