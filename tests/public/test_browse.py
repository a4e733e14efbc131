from decimal import Decimal

from django.test import TestCase

from monographs.models import (
    Evidence,
    FormSideEffect,
    Interaction,
    Publication,
)
from tests import factories
from tests.public.helpers import forget_cached_pages, page_tree


def cells(row):
    return [cell.text() for cell in row.children if not isinstance(cell, str)]


class BrowseFixtureMixin:
    @classmethod
    def setUpTestData(cls):
        cls.sleep = factories.IndicationFactory(
            name="Sleep quality",
            slug="sleep-quality",
            description="How well and how long people sleep.",
        )
        cls.diarrhoea = factories.SideEffectFactory(name="Diarrhoea", slug="diarrhoea")
        cls.glycinate = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            category="amino-acid-chelate",
            salt="glycinate",
            elemental_mg_percent=Decimal("14.10"),
            tolerability_notes="Gentle on the gut.",
            absorption_notes="Well absorbed.",
        )
        cls.oxide = factories.MagnesiumFormFactory(
            name="Magnesium oxide",
            slug="magnesium-oxide",
            category="inorganic",
            salt="oxide",
            elemental_mg_percent=Decimal("60.30"),
            tolerability_notes="Often loosens stools.",
            absorption_notes="Poorly absorbed.",
        )
        cls.citrate = factories.MagnesiumFormFactory(
            name="Magnesium citrate",
            slug="magnesium-citrate",
            category="organic-salt",
            elemental_mg_percent=Decimal("16.20"),
        )
        cls.unpublished = factories.MagnesiumFormFactory(
            name="Magnesium secretate",
            slug="magnesium-secretate",
            elemental_mg_percent=Decimal("33.30"),
        )
        glycinate_sleep = factories.EvidenceFactory(
            form=cls.glycinate,
            indication=cls.sleep,
            direction=Evidence.Direction.BENEFIT,
            certainty=Evidence.Certainty.LOW,
        )
        # A review of oxide trials: indirect evidence for glycinate.
        factories.StudyFactory(
            evidence=glycinate_sleep,
            name="Oxide review",
            design="systematic-review",
            salt="oxide",
            outcome="Sleep quality",
            result="mixed",
            studies_included=8,
            studies_improved=5,
        )
        oxide_sleep = factories.EvidenceFactory(
            form=cls.oxide,
            indication=cls.sleep,
            direction=Evidence.Direction.MIXED,
            certainty=Evidence.Certainty.MODERATE,
        )
        factories.StudyFactory(
            evidence=oxide_sleep,
            name="Oxide trials",
            design="systematic-review",
            salt="oxide",
            outcome="Sleep quality",
            result="mixed",
            studies_included=6,
            studies_improved=3,
        )
        factories.EvidenceFactory(
            form=cls.unpublished,
            indication=cls.sleep,
            direction=Evidence.Direction.HARM,
            certainty=Evidence.Certainty.HIGH,
        )
        factories.FormSideEffectFactory(
            form=cls.oxide,
            side_effect=cls.diarrhoea,
            frequency=FormSideEffect.Frequency.COMMON,
            seriousness=FormSideEffect.Seriousness.MILD,
        )
        factories.FormSideEffectFactory(
            form=cls.glycinate,
            side_effect=cls.diarrhoea,
            frequency=FormSideEffect.Frequency.RARE,
            seriousness=FormSideEffect.Seriousness.MILD,
        )
        factories.FormSideEffectFactory(form=cls.unpublished, side_effect=cls.diarrhoea)
        for form in (cls.glycinate, cls.oxide, cls.citrate, cls.unpublished):
            factories.InteractionFactory(
                form=form,
                drug_class="Bisphosphonates",
                significance=Interaction.Significance.MODERATE,
                management="Separate doses by 2 hours.",
            )
        factories.InteractionFactory(
            form=cls.oxide,
            drug_class="Quinolone antibiotics",
            significance=Interaction.Significance.MAJOR,
            management="Take the antibiotic first.",
        )
        factories.InteractionFactory(
            form=cls.unpublished,
            drug_class="Secret drug class",
            significance=Interaction.Significance.MAJOR,
        )
        for form in (cls.glycinate, cls.oxide, cls.citrate):
            factories.publish(form)


class IndicationPageTests(BrowseFixtureMixin, TestCase):
    def setUp(self):
        self.response = self.client.get("/indications/sleep-quality/")
        self.tree = page_tree(self.response)

    def test_evidence_matrix_has_a_row_per_published_form(self):
        self.assertEqual(self.response.status_code, 200)
        self.assertContains(self.response, "<h1>Sleep quality</h1>", html=True)
        self.assertContains(self.response, "How well and how long people sleep.")
        rows = [cells(row) for row in self.tree.find("tbody").find_all("tr")]
        self.assertEqual(
            rows,
            [
                [
                    "Magnesium glycinate",
                    "Magnesium glycinate may improve sleep quality.",
                    "Low",
                    "None: indirect evidence only",
                ],
                [
                    "Magnesium oxide",
                    "Magnesium oxide probably has inconsistent effects on sleep "
                    "quality.",
                    "Moderate",
                    "Sleep quality: 3 of 6 studies found an improvement",
                ],
            ],
        )

    def test_indirect_studies_are_listed_apart_and_never_credited(self):
        indirect = self.tree.by_id("indirect-evidence")
        rows = [cells(row) for row in indirect.find("tbody").find_all("tr")]
        self.assertEqual(len(rows), 1)
        self.assertTrue(rows[0][0].startswith("Oxide review"))
        self.assertEqual(rows[0][1], "Magnesium oxide")
        self.assertEqual(rows[0][3], "Magnesium glycinate")
        # Oxide's own trials are credited to oxide, not listed as indirect.
        self.assertNotIn("Oxide trials", indirect.text())

    def test_each_row_links_to_the_claim_on_the_monograph(self):
        links = [
            row.find("a").attrs["href"]
            for row in self.tree.find("tbody").find_all("tr")
        ]
        self.assertEqual(
            links,
            [
                "/forms/magnesium-glycinate/#evidence-sleep-quality",
                "/forms/magnesium-oxide/#evidence-sleep-quality",
            ],
        )
        for link in links:
            path, anchor = link.split("#")
            with self.subTest(link=link):
                target = page_tree(self.client.get(path))
                self.assertIsNotNone(target.by_id(anchor))

    def test_unpublished_form_is_not_in_the_matrix(self):
        self.assertNotContains(self.response, "Magnesium secretate")
        self.assertNotContains(self.response, "worsens")

    def test_use_no_published_page_names_has_no_page(self):
        factories.IndicationFactory(name="Migraine", slug="migraine")
        self.assertEqual(self.client.get("/indications/migraine/").status_code, 404)

    def test_unknown_use_is_a_404(self):
        self.assertEqual(self.client.get("/indications/levitation/").status_code, 404)

    def test_list_links_each_use(self):
        response = self.client.get("/indications/")
        self.assertContains(response, 'href="/indications/sleep-quality/"')


class SideEffectPageTests(BrowseFixtureMixin, TestCase):
    def test_lists_published_forms_with_frequency_and_seriousness(self):
        response = self.client.get("/side-effects/diarrhoea/")
        tree = page_tree(response)
        rows = [cells(row) for row in tree.find("tbody").find_all("tr")]
        self.assertEqual(
            rows,
            [
                ["Magnesium glycinate", "Rare", "Usually mild"],
                ["Magnesium oxide", "Common", "Usually mild"],
            ],
        )
        self.assertIsNotNone(
            tree.find("a", href="/forms/magnesium-oxide/#side-effects")
        )
        self.assertNotContains(response, "Magnesium secretate")

    def test_list_and_unknown(self):
        self.assertContains(
            self.client.get("/side-effects/"), 'href="/side-effects/diarrhoea/"'
        )
        self.assertEqual(self.client.get("/side-effects/levitation/").status_code, 404)


class InteractionListTests(BrowseFixtureMixin, TestCase):
    def setUp(self):
        self.response = self.client.get("/interactions/")
        self.rows = [
            cells(row) for row in page_tree(self.response).find("tbody").find_all("tr")
        ]

    def test_most_significant_first_with_management(self):
        self.assertEqual(
            [row[0] for row in self.rows], ["Quinolone antibiotics", "Bisphosphonates"]
        )
        self.assertEqual(self.rows[0][1], "Major: do not combine")
        self.assertEqual(self.rows[0][3], "Take the antibiotic first.")
        self.assertEqual(self.rows[1][3], "Separate doses by 2 hours.")

    def test_forms_that_list_each_interaction(self):
        self.assertEqual(self.rows[0][4], "Magnesium oxide")
        self.assertEqual(self.rows[1][4], "All forms")

    def test_the_significance_is_said_to_be_mgrefs_own_rating(self):
        # No source rates these interactions: mgref rates the advice they give.
        self.assertContains(self.response, "<strong>mgref’s own rating</strong>")
        self.assertContains(self.response, "not a rating those sources publish")

    def test_unpublished_interactions_are_left_out(self):
        self.assertNotContains(self.response, "Secret drug class")
        self.assertNotContains(self.response, "Magnesium secretate")


class FormListTests(BrowseFixtureMixin, TestCase):
    def setUp(self):
        self.response = self.client.get("/forms/")
        self.tree = page_tree(self.response)

    def test_table_of_category_elemental_percent_and_tolerability(self):
        table = self.tree.find("table", class_="data")
        rows = [cells(row)[1:] for row in table.find("tbody").find_all("tr")]
        self.assertEqual(
            rows,
            [
                ["Magnesium citrate", "Organic salt", "16.2", "Not yet covered"],
                [
                    "Magnesium glycinate",
                    "Amino-acid chelate",
                    "14.1",
                    "Gentle on the gut.",
                ],
                ["Magnesium oxide", "Inorganic", "60.3", "Often loosens stools."],
            ],
        )
        self.assertIsNotNone(table.find("a", href="/forms/magnesium-oxide/"))

    def test_chart_has_a_labelled_bar_per_published_form(self):
        chart = self.tree.find("figure", class_="chart")
        self.assertIsNotNone(chart, "no chart")
        self.assertIn("Elemental magnesium", chart.find(class_="chart-title").text())
        self.assertEqual(len(chart.find_all("rect", class_="chart-bar")), 3)
        # Labels and values are text beside each bar, largest first.
        self.assertEqual(
            [label.text() for label in chart.find_all(class_="chart-label")],
            ["Magnesium oxide", "Magnesium citrate", "Magnesium glycinate"],
        )
        self.assertEqual(
            [value.text() for value in chart.find_all(class_="chart-value")],
            ["60.3%", "16.2%", "14.1%"],
        )

    def test_chart_bars_are_proportional(self):
        widths = [
            float(bar.attrs["width"])
            for bar in self.tree.find("figure", class_="chart").find_all("rect")
        ]
        self.assertEqual(widths, [60.3, 16.2, 14.1])

    def test_chart_needs_no_script_and_no_style_attribute(self):
        self.assertNotContains(self.response, "<script")
        self.assertNotContains(self.response, "style=")
        chart = self.tree.find("figure", class_="chart")
        # The bars are decoration: the values are read from the text.
        for svg in chart.find_all("svg"):
            self.assertEqual(svg.attrs.get("aria-hidden"), None)
        for track in chart.find_all(class_="chart-track"):
            self.assertEqual(track.attrs.get("aria-hidden"), "true")

    def test_unpublished_form_is_left_out(self):
        self.assertNotContains(self.response, "Magnesium secretate")
        self.assertNotContains(self.response, "33.30")

    def test_empty_site_has_no_chart(self):
        Publication.objects.update(withdrawn=True)
        forget_cached_pages()
        response = self.client.get("/forms/")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "<svg")
        self.assertNotContains(response, 'class="chart"')


class HomePageTests(BrowseFixtureMixin, TestCase):
    def test_lists_published_forms_and_uses(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'href="/forms/magnesium-glycinate/"')
        self.assertContains(response, 'href="/indications/sleep-quality/"')
        self.assertNotContains(response, "Magnesium secretate")


class FormCompareTests(BrowseFixtureMixin, TestCase):
    URL = "/forms/compare/"

    def test_puts_forms_side_by_side_in_the_order_asked(self):
        response = self.client.get(
            self.URL, {"forms": "magnesium-oxide,magnesium-glycinate"}
        )
        self.assertEqual(response.status_code, 200)
        tree = page_tree(response)
        table = tree.find("table", class_="compare")
        self.assertEqual(
            [cell.text() for cell in table.find("thead").find_all("th")],
            ["Magnesium oxide", "Magnesium glycinate"],
        )
        rows = {
            cells(row)[0]: cells(row)[1:] for row in table.find("tbody").find_all("tr")
        }
        self.assertEqual(rows["Category"], ["Inorganic", "Amino-acid chelate"])
        self.assertEqual(rows["Elemental Mg (% by weight)"], ["60.3", "14.1"])
        self.assertEqual(rows["Absorption"], ["Poorly absorbed.", "Well absorbed."])
        self.assertEqual(
            rows["Gut tolerability"], ["Often loosens stools.", "Gentle on the gut."]
        )
        # Glycinate lists side effects, none of them common.
        self.assertEqual(
            rows["Common side effects"], ["Diarrhoea", "None listed as common"]
        )
        evidence = rows["Evidence: Sleep quality"]
        self.assertIn("Probably has inconsistent effects on", evidence[0])
        self.assertIn("3 of 6 studies found an improvement", evidence[0])
        self.assertIn("May improve", evidence[1])
        self.assertIn("Low certainty", evidence[1])
        self.assertIn("Studies of this form: none; indirect evidence", evidence[1])

    def test_form_without_evidence_for_a_use_says_so(self):
        response = self.client.get(
            self.URL, {"forms": "magnesium-citrate,magnesium-oxide"}
        )
        self.assertContains(response, "No evidence recorded")

    def test_spaces_around_slugs_are_ignored(self):
        response = self.client.get(
            self.URL, {"forms": " magnesium-oxide , magnesium-citrate "}
        )
        self.assertEqual(response.status_code, 200)

    def assertProblem(self, forms, explanation):
        response = self.client.get(self.URL, {"forms": forms})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, explanation, status_code=400)
        self.assertContains(response, 'class="site-header"', status_code=400)
        return response

    def test_unknown_slug_is_a_400_that_names_it(self):
        self.assertProblem(
            "magnesium-oxide,magnesium-unobtainium",
            "No published form has the address magnesium-unobtainium.",
        )

    def test_unpublished_slug_is_a_400(self):
        response = self.assertProblem(
            "magnesium-oxide,magnesium-secretate",
            "No published form has the address magnesium-secretate.",
        )
        self.assertNotContains(response, "Magnesium secretate", status_code=400)
        self.assertNotContains(response, 'value="magnesium-secretate"', status_code=400)

    def test_a_single_slug_is_a_400(self):
        self.assertProblem("magnesium-oxide", "Choose at least two forms")

    def test_an_empty_choice_is_a_400_and_no_choice_offers_the_boxes(self):
        self.assertProblem("", "Choose at least two forms")
        # Opened from a link, nothing asked yet: no error, the boxes to tick.
        response = self.client.get(self.URL)
        self.assertContains(response, "<h1>Compare forms</h1>")
        self.assertNotContains(response, 'role="alert"')
        self.assertContains(
            response, '<input type="checkbox" name="forms" value="magnesium-oxide">'
        )

    def test_duplicates_are_a_400(self):
        self.assertProblem(
            "magnesium-oxide,magnesium-oxide", "Each form can appear only once"
        )

    def test_too_many_slugs_are_a_400(self):
        self.assertProblem(
            "a,b,c,d,e", "You asked for 5 forms; the comparison fits at most 4."
        )

    def test_problem_page_offers_the_forms_one_can_compare(self):
        response = self.assertProblem("x", "Choose at least two forms")
        for slug in ["magnesium-citrate", "magnesium-glycinate", "magnesium-oxide"]:
            self.assertContains(
                response,
                f'<input type="checkbox" name="forms" value="{slug}">',
                status_code=400,
            )

    def test_markup_in_a_slug_is_escaped(self):
        response = self.client.get(
            self.URL, {"forms": "magnesium-oxide,<script>alert(1)</script>"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertNotContains(response, "<script>alert(1)", status_code=400)
        self.assertContains(response, "&lt;script&gt;", status_code=400)
