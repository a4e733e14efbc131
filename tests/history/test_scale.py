"""History, permalink and diff pages cost the same number of queries at 10 and 1,000 revisions."""

from django.core.cache import cache
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from monographs.history import change_context
from monographs.models import MagnesiumForm
from tests import factories
from tests.history.helpers import approve, latest

APPROVE_EVERY = 100


def build(editor, reviewer, revisions, name):
    """A monograph with one row of each kind and ``revisions`` revisions in all.

    Every revision rewrites the summary; every tenth also a dose and a FAQ.
    Every ``APPROVE_EVERY``th revision, the middle one and the second-to-last
    are approved; the last one waits for review.
    """
    approved = {revisions // 2, revisions - 1}
    citation = factories.CitationFactory()
    with change_context(reason="Wrote the monograph", user=editor):
        form = factories.MagnesiumFormFactory(name=name, summary="Revision 1.")
        evidence = factories.EvidenceFactory(form=form)
        evidence.citations.add(citation)
        factories.FormSideEffectFactory(form=form)
        dose = factories.DoseFactory(form=form)
        factories.InteractionFactory(form=form)
        factories.PrecautionFactory(form=form)
        faq = factories.FAQFactory(form=form)
        factories.SynonymFactory(form=form)
    approve(form, reviewer)
    for number in range(2, revisions + 1):
        with change_context(reason=f"Edit {number}", user=editor):
            form.summary = f"Revision {number}."
            form.save(update_fields=["summary"])
            if number % 10 == 0:
                dose.notes = f"Dose note {number}."
                dose.save()
                faq.answer = f"Answer {number}."
                faq.save()
        if number < revisions and (number % APPROVE_EVERY == 0 or number in approved):
            approve(form, reviewer)
    assert latest(form).number == revisions
    return MagnesiumForm.objects.get(pk=form.pk)


class QueryCountScaleTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.small = build(cls.editor, cls.reviewer, 10, "Magnesium small")
        cls.large = build(cls.editor, cls.reviewer, 1000, "Magnesium large")

    def count(self, url):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        return len(queries)

    def assertSameCost(self, small_url, large_url):
        self.client.get(small_url)  # warm any per-process caches
        # Measure rendering, not the page cache: both requests miss it.
        cache.clear()
        expected = self.count(small_url)
        cache.clear()
        with self.assertNumQueries(expected):
            response = self.client.get(large_url)
        self.assertEqual(response.status_code, 200, large_url)

    def pages(self, large_published):
        """(small form URL, large form URL) pairs for the same kind of page."""
        small, large = self.small.slug, self.large.slug
        return [
            (f"/forms/{small}/history/", f"/forms/{large}/history/"),
            (f"/forms/{small}/revisions/1/", f"/forms/{large}/revisions/1/"),
            (
                f"/forms/{small}/revisions/9/",
                f"/forms/{large}/revisions/{large_published}/",
            ),
            (f"/forms/{small}/revisions/5/", f"/forms/{large}/revisions/500/"),
            (
                f"/forms/{small}/diff/?from=1&to=9",
                f"/forms/{large}/diff/?from=1&to={large_published}",
            ),
            (
                f"/forms/{small}/diff/?from=5&to=9",
                f"/forms/{large}/diff/?from=500&to={large_published}",
            ),
            (f"/forms/{small}/", f"/forms/{large}/"),
            (f"/api/v1/forms/{small}/", f"/api/v1/forms/{large}/"),
            (f"/forms/{small}/history/feed/", f"/forms/{large}/history/feed/"),
        ]

    def test_the_large_monograph_has_a_thousand_revisions(self):
        self.assertEqual(latest(self.large).number, 1000)
        self.assertEqual(self.large.published_revision.number, 999)

    def test_reader_pages_do_not_grow_with_the_history(self):
        for small_url, large_url in self.pages(large_published=999):
            with self.subTest(url=large_url):
                self.assertSameCost(small_url, large_url)

    def test_staff_pages_do_not_grow_with_the_history(self):
        self.client.force_login(self.editor)
        small, large = self.small.slug, self.large.slug
        pages = self.pages(large_published=999) + [
            (f"/forms/{small}/revisions/10/", f"/forms/{large}/revisions/1000/"),
            (
                f"/forms/{small}/diff/?from=9&to=10",
                f"/forms/{large}/diff/?from=999&to=1000",
            ),
            (f"/forms/{small}/draft/", f"/forms/{large}/draft/"),
            (f"/forms/{small}/history/", f"/forms/{large}/history/?page=20"),
        ]
        for small_url, large_url in pages:
            with self.subTest(url=large_url):
                self.assertSameCost(small_url, large_url)

    def test_history_pages_list_fifty_revisions_each(self):
        self.client.force_login(self.editor)
        last = self.client.get(f"/forms/{self.large.slug}/history/?page=20")
        self.assertContains(last, "Page 20 of 20")
        self.assertContains(last, f'href="/forms/{self.large.slug}/revisions/1/"')
        self.assertEqual(
            self.client.get(f"/forms/{self.large.slug}/history/?page=21").status_code,
            404,
        )
        readers = self.client_class().get(f"/forms/{self.large.slug}/history/")
        self.assertContains(readers, "Edit 999")
        self.assertNotContains(readers, "Edit 998")

    def test_old_permalink_shows_its_own_text(self):
        response = self.client.get(f"/forms/{self.large.slug}/revisions/500/")
        self.assertContains(response, "Revision 500.")
        self.assertContains(response, "Answer 500.")
        self.assertNotContains(response, "Revision 999.")
