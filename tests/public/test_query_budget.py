"""The number of SQL queries of a public page does not grow with its content."""

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from monographs.documents import document_load
from monographs.models import (
    FormSideEffect,
    Interaction,
    MagnesiumForm,
    Publication,
    Revision,
    SearchDocument,
)
from monographs.search import document_fields
from tests import factories
from tests.public.helpers import edit, forget_cached_pages


def build_monograph(slug, size):
    """A published monograph with ``size`` rows of every kind and ~3*size citations."""
    row_citations = [
        factories.CitationFactory(key=f"{slug}-row-{n}") for n in range(size)
    ]
    text_citations = [
        factories.CitationFactory(key=f"{slug}-text-{n}") for n in range(size)
    ]
    indications = [
        factories.IndicationFactory(name=f"{slug} use {n}", slug=f"{slug}-use-{n}")
        for n in range(size)
    ]
    side_effects = [
        factories.SideEffectFactory(
            name=f"{slug} effect {n}", slug=f"{slug}-effect-{n}"
        )
        for n in range(size)
    ]
    with edit(None, "Build a monograph"):
        form = factories.MagnesiumFormFactory(
            name=f"Magnesium {slug}",
            slug=slug,
            summary=" ".join(f"Claim [@{c.key}]." for c in text_citations[: size // 2]),
            mechanism="Works somehow.",
            disclaimer="Not advice.",
        )
        factories.SynonymFactory(form=form, name=f"{slug} other", slug=f"{slug}-other")
        for n in range(size):
            factories.EvidenceFactory(
                form=form, indication=indications[n], summary=f"Row {n}."
            ).citations.add(row_citations[n])
            factories.FormSideEffectFactory(
                form=form,
                side_effect=side_effects[n],
                seriousness=(
                    FormSideEffect.Seriousness.MILD
                    if n % 2
                    else FormSideEffect.Seriousness.SEEK_ATTENTION
                ),
            ).citations.add(row_citations[n])
            factories.DoseFactory(form=form, population=f"Group {n}", position=n)
            factories.InteractionFactory(
                form=form,
                drug_class=f"Drug class {n}",
                significance=list(Interaction.Significance.values)[n % 3],
                position=n,
            ).citations.add(row_citations[n])
            factories.PrecautionFactory(
                form=form,
                label=f"Condition {n}",
                text=f"Care [@{row_citations[n].key}].",
                position=n,
            )
            factories.FAQFactory(
                form=form,
                question=f"Question {n}?",
                answer=f"Answer [@{text_citations[n].key}].",
                position=n,
            )
    factories.publish(form, user=factories.ReviewerFactory())
    return form


class QueryBudgetMixin:
    """Counts the queries of rendering a page, not of answering from the cache."""

    def count_queries(self, url):
        forget_cached_pages()
        with CaptureQueriesContext(connection) as context:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        return len(context.captured_queries)

    def assertSameQueries(self, small_url, large_url):
        expected = self.count_queries(small_url)
        forget_cached_pages()
        with self.assertNumQueries(expected):
            response = self.client.get(large_url)
        self.assertEqual(response.status_code, 200)


class MonographQueryBudgetTests(QueryBudgetMixin, TestCase):
    """5 against 50 of each of: evidence, side effects, doses, interactions,
    precautions, citations and FAQs."""

    @classmethod
    def setUpTestData(cls):
        cls.small = build_monograph("magnesium-small", 5)
        cls.large = build_monograph("magnesium-large", 50)

    def test_the_large_monograph_has_the_rows(self):
        response = self.client.get("/forms/magnesium-large/")
        self.assertEqual(len(response.context["page"].evidence_rows), 50)
        self.assertEqual(len(response.context["page"].faq_rows), 50)
        self.assertEqual(len(response.context["page"].references), 100)
        self.assertContains(response, '<li id="ref-100">')

    def test_monograph_page(self):
        self.assertSameQueries("/forms/magnesium-small/", "/forms/magnesium-large/")

    def test_api_detail(self):
        self.assertSameQueries(
            "/api/v1/forms/magnesium-small/", "/api/v1/forms/magnesium-large/"
        )

    def test_form_export(self):
        for export in ["ris", "bib", "json"]:
            with self.subTest(export=export):
                self.assertSameQueries(
                    f"/citations/export.{export}?form=magnesium-small",
                    f"/citations/export.{export}?form=magnesium-large",
                )

    def test_compare_page(self):
        other = build_monograph("magnesium-other", 5)
        self.assertSameQueries(
            f"/forms/compare/?forms=magnesium-small,{other.slug}",
            f"/forms/compare/?forms=magnesium-large,{other.slug}",
        )

    def test_revision_permalink(self):
        small, large = (
            form.published_revision.number for form in (self.small, self.large)
        )
        self.assertSameQueries(
            f"/forms/magnesium-small/revisions/{small}/",
            f"/forms/magnesium-large/revisions/{large}/",
        )

    def test_absolute_budgets(self):
        """A reader's page reads one publication and one document, whatever
        the monograph's size (the cache key costs one more query)."""
        number = self.large.published_revision.number
        edit_number = number + 1
        with edit(None, "One more revision"):
            MagnesiumForm.objects.get(pk=self.large.pk).save()
        factories.DoseFactory(form=self.large, population="Another group")
        factories.publish(self.large)
        edit_number = self.large.published_revision.number
        budgets = {
            "/forms/magnesium-large/": 3,
            f"/forms/magnesium-large/revisions/{number}/": 3,
            f"/forms/magnesium-large/diff/?from={number}&to={edit_number}": 4,
            "/api/v1/forms/magnesium-large/": 3,
        }
        for url, budget in budgets.items():
            with self.subTest(url=url):
                self.assertLessEqual(self.count_queries(url), budget)


class ListQueryBudgetTests(QueryBudgetMixin, TestCase):
    """Pages over all monographs: with 5 published forms, then with 50."""

    @classmethod
    def setUpTestData(cls):
        use = factories.IndicationFactory(name="Sleep quality", slug="sleep-quality")
        effect = factories.SideEffectFactory(name="Diarrhoea", slug="diarrhoea")
        cls.forms = []
        for number in range(50):
            form = factories.MagnesiumFormFactory(
                name=f"Magnesium list {number:02d}",
                slug=f"magnesium-list-{number:02d}",
                summary="Listed for budget tests.",
            )
            factories.SynonymFactory(form=form)
            factories.EvidenceFactory(form=form, indication=use).citations.add(
                factories.CitationFactory()
            )
            factories.FormSideEffectFactory(form=form, side_effect=effect)
            factories.InteractionFactory(form=form, drug_class=f"Drug {number}")
            factories.publish(form)
            cls.forms.append(form)

    def publish_only(self, count):
        """Leave the first ``count`` forms published; withdraw the others."""
        hidden = [form.pk for form in self.forms[count:]]
        Publication.objects.filter(form_id__in=hidden).update(withdrawn=True)
        SearchDocument.objects.filter(form_id__in=hidden).delete()

    def publish_all(self):
        Publication.objects.update(withdrawn=False)
        for form in self.forms:
            if not SearchDocument.objects.filter(form_id=form.pk).exists():
                publication = Publication.objects.get(form_id=form.pk)
                SearchDocument.objects.create(
                    form_id=form.pk,
                    revision=publication.revision,
                    **document_fields(
                        document_load(
                            Revision.objects.with_document().get(
                                pk=publication.revision_id
                            )
                        )
                    ),
                )

    def assertSameQueriesFor(self, url, fewer=5):
        self.publish_only(fewer)
        expected = self.count_queries(url)
        self.publish_all()
        forget_cached_pages()
        with self.assertNumQueries(expected):
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response

    def test_fewer_forms_are_shown_when_fewer_are_published(self):
        self.publish_only(5)
        response = self.client.get("/forms/")
        self.assertContains(response, 'class="chart-bar"', count=5)
        self.publish_all()
        forget_cached_pages()
        response = self.client.get("/forms/")
        self.assertContains(response, 'class="chart-bar"', count=50)

    def test_forms_list(self):
        self.assertSameQueriesFor("/forms/")

    def test_home_page(self):
        self.assertSameQueriesFor("/")

    def test_indication_page(self):
        response = self.assertSameQueriesFor("/indications/sleep-quality/")
        self.assertEqual(len(response.context["evidence"]), 50)

    def test_side_effect_page(self):
        self.assertSameQueriesFor("/side-effects/diarrhoea/")

    def test_interactions_page(self):
        self.assertSameQueriesFor("/interactions/")

    def test_bibliography(self):
        self.assertSameQueriesFor("/citations/")

    def test_api_list(self):
        self.assertSameQueriesFor("/api/v1/forms/")

    def test_api_list_second_page(self):
        self.assertSameQueriesFor("/api/v1/forms/?page=2", fewer=25)

    def test_search(self):
        self.assertSameQueriesFor("/search/?q=budget")

    def test_sitemap(self):
        self.assertSameQueriesFor("/sitemap.xml")

    def test_all_citations_export(self):
        for export in ["ris", "bib", "json"]:
            with self.subTest(export=export):
                self.assertSameQueriesFor(f"/citations/export.{export}")
