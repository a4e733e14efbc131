from django.core.cache import cache
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from monographs.history import change_context
from tests import factories


class FormDetailViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.first = factories.CitationFactory(key="first2020", title="The first paper")
        cls.second = factories.CitationFactory(
            key="second2021", title="The second paper"
        )
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            summary="Gentle on the gut [@second2021].",
            usage="Used for sleep [@first2020] and as a supplement [@second2021].",
        )
        factories.SynonymFactory(
            form=cls.form, name="Magnesium bisglycinate", slug="magnesium-bisglycinate"
        )
        evidence = factories.EvidenceFactory(
            form=cls.form, summary="Mostly oxide trials."
        )
        evidence.citations.add(cls.first)
        factories.StudyFactory(
            evidence=evidence,
            design="systematic-review",
            salt="oxide",
            studies_included=8,
            studies_improved=5,
        )
        factories.DoseFactory(form=cls.form, minimum_mg=125, maximum_mg=300)
        factories.FormSideEffectFactory(form=cls.form)
        factories.InteractionFactory(form=cls.form)
        factories.PrecautionFactory(form=cls.form)
        factories.FAQFactory(form=cls.form)
        factories.publish(cls.form)

    def test_shows_every_section(self):
        response = self.client.get("/forms/magnesium-glycinate/")
        self.assertContains(response, "<h1>Magnesium glycinate</h1>", html=True)
        for text in [
            "Uses and evidence",
            "5 of 8 studies found an improvement",
            "Studies of other salts or of magnesium in general",
            "125–300",
            "Side effects",
            "Tetracycline antibiotics",
            "4–6 h after",
            "Kidney disease",
            "Can I take it with food?",
            "References",
            "Also called Magnesium bisglycinate",
        ]:
            with self.subTest(text=text):
                self.assertContains(response, text)

    def test_worked_conversion_to_elemental_magnesium(self):
        response = self.client.get("/forms/magnesium-glycinate/")
        self.assertContains(
            response, "500 mg of it holds about 71 mg of elemental magnesium"
        )

    def test_citations_are_numbered_in_order_of_first_appearance(self):
        response = self.client.get("/forms/magnesium-glycinate/")
        references = response.context["page"].references
        self.assertEqual(
            [(n, c.key) for n, c, _ in references],
            [(1, "second2021"), (2, "first2020")],
        )
        self.assertContains(response, '<li id="ref-1">', count=1)
        self.assertContains(response, 'href="#ref-1" id="cite-1-1"')
        self.assertContains(response, 'href="#ref-1" id="cite-1-2"')
        self.assertContains(response, 'href="#cite-1-2"')

    def test_synonym_redirects_permanently(self):
        response = self.client.get("/forms/magnesium-bisglycinate/")
        self.assertRedirects(response, "/forms/magnesium-glycinate/", status_code=301)

    def test_unknown_form_is_a_404(self):
        self.assertEqual(
            self.client.get("/forms/magnesium-unobtainium/").status_code, 404
        )

    def test_query_count_does_not_grow_with_rows(self):
        with CaptureQueriesContext(connection) as first:
            self.client.get("/forms/magnesium-glycinate/")
        for _ in range(5):
            evidence = factories.EvidenceFactory(form=self.form)
            evidence.citations.add(factories.CitationFactory())
            factories.DoseFactory(form=self.form).citations.add(
                factories.CitationFactory()
            )
            factories.FormSideEffectFactory(form=self.form)
            factories.FAQFactory(form=self.form)
        factories.publish(self.form)
        cache.clear()
        with self.assertNumQueries(len(first.captured_queries)):
            self.client.get("/forms/magnesium-glycinate/")


class FormListViewTests(TestCase):
    def test_lists_forms_with_category_and_elemental_percent(self):
        factories.publish(
            factories.MagnesiumFormFactory(
                name="Magnesium oxide", slug="magnesium-oxide"
            )
        )
        response = self.client.get("/forms/")
        self.assertContains(response, 'href="/forms/magnesium-oxide/"')
        self.assertContains(response, "14.1<")
        self.assertContains(response, "Organic salt")


class MovedMonographTests(TestCase):
    """A monograph whose slug changed: its old addresses, and its synonym's,
    lead to it, feed and API included."""

    @classmethod
    def setUpTestData(cls):
        reviewer = factories.ReviewerFactory()
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        factories.SynonymFactory(
            form=cls.form, name="Magnesium bisglycinate", slug="magnesium-bisglycinate"
        )
        factories.publish(cls.form, user=reviewer)
        factories.publish(
            factories.MagnesiumFormFactory(
                name="Magnesium oxide", slug="magnesium-oxide"
            ),
            user=reviewer,
        )
        with change_context(reason="New address", user=reviewer):
            cls.form.slug = "magnesium-glycinate-chelate"
            cls.form.save()
        factories.publish(cls.form, user=reviewer)

    def test_old_addresses_redirect_permanently(self):
        for old, new in [
            (
                "/forms/magnesium-glycinate/history/feed/",
                "/forms/magnesium-glycinate-chelate/history/feed/",
            ),
            (
                "/api/v1/forms/magnesium-glycinate/",
                "/api/v1/forms/magnesium-glycinate-chelate/",
            ),
            (
                "/api/v1/forms/magnesium-bisglycinate/",
                "/api/v1/forms/magnesium-glycinate-chelate/",
            ),
            (
                "/changes/?form=magnesium-glycinate&page=1",
                "/changes/?form=magnesium-glycinate-chelate&page=1",
            ),
            (
                "/citations/export.ris?form=magnesium-glycinate",
                "/citations/export.ris?form=magnesium-glycinate-chelate",
            ),
            (
                "/citations/export.bib?form=magnesium-bisglycinate",
                "/citations/export.bib?form=magnesium-glycinate-chelate",
            ),
            (
                "/forms/compare/?forms=magnesium-oxide,magnesium-glycinate",
                "/forms/compare/?forms=magnesium-oxide&forms=magnesium-glycinate-chelate",
            ),
        ]:
            with self.subTest(old=old):
                response = self.client.get(old)
                self.assertRedirects(
                    response, new, status_code=301, fetch_redirect_response=False
                )
                self.assertEqual(self.client.get(new).status_code, 200)

    def test_an_address_no_monograph_had_is_still_a_404(self):
        for url in [
            "/forms/magnesium-unobtainium/history/feed/",
            "/api/v1/forms/magnesium-unobtainium/",
            "/changes/?form=magnesium-unobtainium",
            "/citations/export.ris?form=magnesium-unobtainium",
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)
