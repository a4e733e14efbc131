"""Readers only ever see approved revisions: unapproved edits and unpublished
monographs never show on a public page, in search, the API, exports or the
sitemap."""

import json
from decimal import Decimal

from django.test import TestCase

from monographs.models import Citation, Evidence, MagnesiumForm, Revision
from monographs.services import monograph_request_changes, monograph_submit
from tests import factories
from tests.public.helpers import (
    edit,
    forget_cached_pages,
    page_tree,
    parse_bibtex,
    parse_ris,
)
from tests.public.test_monograph_page import build_glycinate

GLYCINATE = "/forms/magnesium-glycinate/"
GLYCINATE_KEYS = ["smith2019", "abbasi2012", "held2002", "tetra2010"]


def public_urls():
    return [
        "/",
        "/forms/",
        GLYCINATE,
        "/forms/compare/?forms=magnesium-glycinate,magnesium-oxide",
        "/indications/",
        "/indications/sleep-quality/",
        "/side-effects/",
        "/side-effects/diarrhoea/",
        "/interactions/",
        "/citations/",
        "/search/?q=magnesium",
        "/search/?q=glycinate",
        "/api/v1/forms/",
        "/api/v1/forms/magnesium-glycinate/",
        "/citations/export.ris?form=magnesium-glycinate",
        "/citations/export.bib?form=magnesium-glycinate",
        "/citations/export.json?form=magnesium-glycinate",
        "/sitemap.xml",
    ]


class UnapprovedEditTests(TestCase):
    """An editor changed a published monograph; no reviewer has approved it."""

    @classmethod
    def setUpTestData(cls):
        cls.form, cls.reviewer, cls.citations = build_glycinate()
        cls.oxide = factories.MagnesiumFormFactory(
            name="Magnesium oxide", slug="magnesium-oxide"
        )
        factories.publish(cls.oxide)
        cls.published_number = Revision.objects.latest_number(cls.form.pk)
        cls.editor = factories.EditorFactory(first_name="Ed", last_name="Itor")
        # Citations are shared reference data, listed in the bibliography
        # whether or not a page cites them: its title is not draft text.
        draft_citation = factories.CitationFactory(
            key="draftcite2024", title="Pending citation title"
        )
        form = MagnesiumForm.objects.get(pk=cls.form.pk)
        with edit(cls.editor, "Unreviewed rewrite"):
            form.name = "Magnesium glycinate DRAFT NAME"
            form.summary = "DRAFT summary about wombats [@draftcite2024]."
            form.tolerability_notes = "DRAFT tolerability."
            form.elemental_mg_percent = Decimal("99.00")
            form.mechanism = "DRAFT mechanism."
            form.save()
            evidence = form.evidence.get(indication__slug="sleep-quality")
            evidence.direction = Evidence.Direction.HARM
            evidence.certainty = Evidence.Certainty.HIGH
            evidence.outcome = "DRAFT outcome"
            evidence.summary = "DRAFT evidence summary."
            evidence.save()
            evidence.citations.add(draft_citation)
            factories.FAQFactory(
                form=form, question="DRAFT question?", answer="Wombat."
            )
            factories.InteractionFactory(
                form=form, drug_class="DRAFT drug class", significance="major"
            )
            factories.FormSideEffectFactory(
                form=form,
                side_effect=factories.SideEffectFactory(
                    name="Wobbliness", slug="wobbliness"
                ),
            )
            factories.EvidenceFactory(
                form=form,
                indication=factories.IndicationFactory(
                    name="Levitation", slug="levitation"
                ),
            )
            form.precautions.get(label="Pregnancy").delete()
            factories.SynonymFactory(
                form=form, name="Magnesium draftonym", slug="magnesium-draftonym"
            )
        cls.draft_number = Revision.objects.latest_number(cls.form.pk)

    def test_the_edit_made_a_new_unpublished_revision(self):
        self.assertGreater(self.draft_number, self.published_number)
        form = MagnesiumForm.objects.get(pk=self.form.pk)
        self.assertEqual(form.published_revision.number, self.published_number)

    def test_no_public_page_shows_draft_text(self):
        for url in public_urls():
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                for text in [
                    b"DRAFT",
                    b"wombat",
                    b"Wombat",
                    b"draftcite2024",
                    b"draftonym",
                ]:
                    self.assertNotIn(text, response.content)

    def test_monograph_page_shows_the_published_revision(self):
        response = self.client.get(GLYCINATE)
        self.assertContains(response, "<h1>Magnesium glycinate</h1>", html=True)
        self.assertContains(response, "A chelate that is gentle on the gut")
        self.assertContains(response, "12.0% by weight")
        self.assertContains(response, "Pregnancy")
        status = page_tree(response).find("p", class_="review-status").text()
        self.assertIn("Last reviewed on 5 March 2024 by Ada Lovelace.", status)
        self.assertIn(f"Revision {self.published_number}.", status)
        row = page_tree(response).by_id("evidence-sleep-quality")
        self.assertIn("may improve", row.text())
        self.assertIn("5 of 8 studies found an improvement", row.text())
        self.assertIn("Certainty: low", row.text())

    def test_forms_list_and_chart_show_the_published_values(self):
        response = self.client.get("/forms/")
        self.assertContains(response, "12.0%")
        self.assertNotContains(response, "99.00")

    def test_indication_page_shows_the_published_evidence(self):
        response = self.client.get("/indications/sleep-quality/")
        self.assertContains(response, "may improve")
        self.assertContains(response, "Held 2002")
        self.assertNotContains(response, "worsens")
        self.assertNotContains(response, "8 of 8")

    def test_topics_only_a_draft_names_have_no_public_page(self):
        # Topic pages come from published documents: none names these yet.
        self.assertEqual(self.client.get("/side-effects/wobbliness/").status_code, 404)
        self.assertEqual(self.client.get("/indications/levitation/").status_code, 404)

    def test_topics_added_only_in_a_draft_are_not_listed(self):
        # Only the draft uses "Wobbliness" and "Levitation"; readers would
        # find an empty page behind each link.
        for url, name in [
            ("/side-effects/", "Wobbliness"),
            ("/indications/", "Levitation"),
            ("/", "Levitation"),
            ("/sitemap.xml", "wobbliness"),
            ("/sitemap.xml", "levitation"),
        ]:
            with self.subTest(url=url, name=name):
                self.assertNotContains(self.client.get(url), name)

    def test_search_finds_the_published_text_only(self):
        response = self.client.get("/search/", {"q": "wombats"})
        self.assertContains(response, "Nothing matches")
        response = self.client.get("/search/", {"q": "chelate"})
        self.assertContains(response, 'href="/forms/magnesium-glycinate/"')

    def test_api_reports_the_published_revision(self):
        data = json.loads(self.client.get("/api/v1/forms/magnesium-glycinate/").content)
        self.assertEqual(data["revision"], self.published_number)
        self.assertEqual(data["name"], "Magnesium glycinate")
        self.assertEqual(data["elemental_mg_percent"], "12.00")
        listed = json.loads(self.client.get("/api/v1/forms/").content)["results"]
        glycinate = next(i for i in listed if i["slug"] == "magnesium-glycinate")
        self.assertEqual(glycinate["revision"], self.published_number)
        self.assertEqual(glycinate["name"], "Magnesium glycinate")

    def test_exports_of_the_form_have_the_published_citations(self):
        ris = self.client.get("/citations/export.ris?form=magnesium-glycinate")
        self.assertEqual(
            [record["ID"][0] for record in parse_ris(ris.content.decode())],
            GLYCINATE_KEYS,
        )
        bib = self.client.get("/citations/export.bib?form=magnesium-glycinate")
        self.assertEqual(
            [key for _, key, _ in parse_bibtex(bib.content.decode())], GLYCINATE_KEYS
        )

    def test_bibliography_leaves_out_citations_only_drafts_cite(self):
        response = self.client.get("/citations/")
        self.assertIsNone(
            page_tree(response).find("li", id=f"citation-{self.draft_citation_pk()}")
        )
        self.assertNotContains(response, "draftcite2024")

    def draft_citation_pk(self):
        return Citation.objects.get(key="draftcite2024").pk

    def test_sitemap_keeps_the_published_review_date(self):
        response = self.client.get("/sitemap.xml")
        self.assertContains(
            response, "<loc>http://testserver/forms/magnesium-glycinate/</loc>"
        )
        self.assertContains(response, "<lastmod>2024-03-05</lastmod>")

    def test_draft_revision_permalink_is_a_404_for_readers(self):
        response = self.client.get(f"{GLYCINATE}revisions/{self.draft_number}/")
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, "DRAFT", status_code=404)
        response = self.client.get(f"{GLYCINATE}revisions/{self.published_number}/")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "DRAFT")

    def test_draft_preview_is_a_404_for_readers(self):
        self.assertEqual(self.client.get(f"{GLYCINATE}draft/").status_code, 404)
        self.client.force_login(factories.UserFactory())
        self.assertEqual(self.client.get(f"{GLYCINATE}draft/").status_code, 404)

    def test_staff_draft_preview_is_never_stored(self):
        self.client.force_login(self.editor)
        response = self.client.get(f"{GLYCINATE}draft/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"], "private, no-store")

    def test_unapproved_synonym_does_not_redirect_yet(self):
        response = self.client.get("/forms/magnesium-draftonym/")
        self.assertEqual(response.status_code, 404)

    def test_review_workflow_states_keep_the_published_page(self):
        form = MagnesiumForm.objects.get(pk=self.form.pk)
        monograph_submit(form=form, user=self.editor)
        forget_cached_pages()
        self.assertContains(self.client.get(GLYCINATE), "A chelate that is gentle")
        monograph_request_changes(
            form=form,
            user=self.reviewer,
            revision_number=self.draft_number,
            comment="No wombats.",
        )
        forget_cached_pages()
        response = self.client.get(GLYCINATE)
        self.assertContains(response, "A chelate that is gentle")
        self.assertNotContains(response, "DRAFT")

    def test_approval_publishes_the_edit_everywhere_at_once(self):
        urls = [
            GLYCINATE,
            "/forms/",
            "/search/?q=wombats",
            "/api/v1/forms/magnesium-glycinate/",
            "/indications/sleep-quality/",
        ]
        for url in urls:
            self.assertNotContains(self.client.get(url), "DRAFT")
        factories.publish(MagnesiumForm.objects.get(pk=self.form.pk))
        # No cache is cleared: readers get the approved text straight away.
        self.assertContains(self.client.get(GLYCINATE), "DRAFT summary about wombats")
        self.assertContains(self.client.get("/forms/"), "DRAFT NAME")
        self.assertContains(self.client.get("/search/?q=wombats"), "1 result")
        self.assertContains(
            self.client.get("/api/v1/forms/magnesium-glycinate/"), "DRAFT summary"
        )
        self.assertContains(self.client.get("/indications/sleep-quality/"), "worsens")


class UnapprovedSlugChangeTests(TestCase):
    """The address of a monograph is content too: changing it needs review."""

    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate", summary="Published."
        )
        factories.publish(cls.form)
        form = MagnesiumForm.objects.get(pk=cls.form.pk)
        with edit(factories.EditorFactory(), "Rename the address"):
            form.slug = "magnesium-glycinate-renamed"
            form.save()

    def test_published_address_still_works(self):
        response = self.client.get(GLYCINATE)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Published.")

    def test_unapproved_address_is_not_live(self):
        response = self.client.get("/forms/magnesium-glycinate-renamed/")
        self.assertEqual(response.status_code, 404)

    def test_links_on_the_forms_list_lead_to_the_page(self):
        tree = page_tree(self.client.get("/forms/"))
        link = tree.find("table").find("tbody").find("a").attrs["href"]
        self.assertEqual(self.client.get(link).status_code, 200)

    def test_api_and_exports_use_the_published_address(self):
        self.assertEqual(
            self.client.get("/api/v1/forms/magnesium-glycinate/").status_code, 200
        )
        self.assertEqual(
            self.client.get(
                "/citations/export.ris", {"form": "magnesium-glycinate"}
            ).status_code,
            200,
        )
        listed = json.loads(self.client.get("/api/v1/forms/").content)["results"]
        detail = self.client.get(listed[0]["api_url"].removeprefix("http://testserver"))
        self.assertEqual(detail.status_code, 200)


class NeverPublishedTests(TestCase):
    """A monograph no reviewer has approved is a 404 everywhere public."""

    @classmethod
    def setUpTestData(cls):
        cls.published = factories.MagnesiumFormFactory(
            name="Magnesium oxide", slug="magnesium-oxide"
        )
        use = factories.IndicationFactory(name="Sleep quality", slug="sleep-quality")
        effect = factories.SideEffectFactory(name="Diarrhoea", slug="diarrhoea")
        factories.EvidenceFactory(form=cls.published, indication=use)
        factories.FormSideEffectFactory(form=cls.published, side_effect=effect)
        factories.publish(cls.published)
        cls.secret_citation = factories.CitationFactory(
            key="secret2024", title="Secret paper"
        )
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium secretate",
            slug="magnesium-secretate",
            summary="Secretate summary text about quokkas.",
        )
        factories.SynonymFactory(
            form=cls.form, name="Magnesium hush", slug="magnesium-hush"
        )
        factories.EvidenceFactory(form=cls.form, indication=use).citations.add(
            cls.secret_citation
        )
        factories.FormSideEffectFactory(form=cls.form, side_effect=effect)
        factories.InteractionFactory(form=cls.form, drug_class="Secret drug class")
        factories.FAQFactory(form=cls.form, question="Secret question?")
        reviewer = factories.ReviewerFactory()
        monograph_submit(form=cls.form, user=factories.EditorFactory())
        monograph_request_changes(
            form=cls.form,
            user=reviewer,
            revision_number=Revision.objects.latest_number(cls.form.pk),
            comment="Not yet.",
        )

    def test_its_own_addresses_are_404(self):
        for url in [
            "/forms/magnesium-secretate/",
            "/forms/magnesium-secretate/draft/",
            "/forms/magnesium-secretate/revisions/1/",
            "/forms/magnesium-hush/",
            "/api/v1/forms/magnesium-secretate/",
            "/citations/export.ris?form=magnesium-secretate",
            "/citations/export.bib?form=magnesium-secretate",
            "/citations/export.json?form=magnesium-secretate",
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn(b"quokkas", response.content)

    def test_it_cannot_be_compared(self):
        response = self.client.get(
            "/forms/compare/", {"forms": "magnesium-oxide,magnesium-secretate"}
        )
        self.assertEqual(response.status_code, 400)

    def test_it_appears_on_no_public_page(self):
        for url in [
            "/",
            "/forms/",
            "/indications/sleep-quality/",
            "/side-effects/diarrhoea/",
            "/interactions/",
            "/citations/",
            f"/citations/{self.secret_citation.pk}/",
            "/search/?q=secretate",
            "/search/?q=quokkas",
            "/search/?q=hush",
            "/api/v1/forms/",
            "/sitemap.xml",
            "/forms/compare/?forms=x",
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertIn(response.status_code, {200, 400, 404})
                if url.startswith("/search/"):
                    # The page repeats the query: there must be no results.
                    self.assertContains(response, "Nothing matches")
                    self.assertIsNone(
                        page_tree(response).find("ol", class_="search-results")
                    )
                    continue
                for text in [
                    b"secretate",
                    b"Secretate",
                    b"quokkas",
                    b"Secret drug class",
                    b"Secret question",
                ]:
                    self.assertNotIn(text, response.content)

    def test_api_count_leaves_it_out(self):
        data = json.loads(self.client.get("/api/v1/forms/").content)
        self.assertEqual(data["count"], 1)
        self.assertEqual(
            [item["slug"] for item in data["results"]], ["magnesium-oxide"]
        )
