"""A revision's Markdown is rendered once, on approval, and replayed exactly."""

from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from monographs.documents import document_load
from monographs.history import change_context
from monographs.models import Revision
from monographs.pages import MonographPage
from monographs.rendering import RENDERER
from monographs.services.rendering import revision_render, revisions_render
from tests import factories
from tests.public.helpers import forget_cached_pages


def page_html(page):
    """Everything a page renders from text, in page order."""
    parts = [
        page.summary,
        page.composition_note,
        page.usage,
        page.mechanism,
        page.disclaimer,
    ]
    for rows in page.rendered_rows.values():
        parts.extend(f"{item.html}|{item.refs}" for item in rows)
    parts.append(repr([(n, c.key, a) for n, c, a in page.references]))
    parts.append(repr(page.unresolved))
    return parts


class RevisionRenderTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        factories.CitationFactory(key="first2020", title="First")
        factories.CitationFactory(key="second2021", title="Second")
        attached = factories.CitationFactory(key="attached2019", title="Attached")
        with change_context(reason="Wrote it", user=cls.reviewer):
            cls.form = factories.MagnesiumFormFactory(
                summary="Gentle [@second2021].\r\n\r\nSee *also* [@first2020; @gone2000].",
                mechanism="Works [@first2020], twice [@second2021].",
            )
            factories.EvidenceFactory(
                form=cls.form, summary="May help [@first2020]."
            ).citations.add(attached)
            factories.FAQFactory(form=cls.form, answer="**Yes** [@attached2019].")
        factories.publish(cls.form, user=cls.reviewer)

    def published(self):
        return Revision.objects.with_document().get(
            pk=self.form.publication.revision_id
        )

    def live_page(self, revision):
        revision.rendering = None
        return MonographPage(document_load(revision))

    def test_approval_records_the_rendering(self):
        rendering = self.published().rendering
        self.assertEqual(rendering["renderer"], RENDERER)
        self.assertTrue(rendering["texts"])

    def test_replay_gives_exactly_the_live_page(self):
        replayed = MonographPage(document_load(self.published()))
        self.assertIsNotNone(replayed._replay)
        self.assertEqual(replayed._replay.position, len(replayed._replay.entries))
        self.assertEqual(
            page_html(replayed), page_html(self.live_page(self.published()))
        )
        self.assertIn("cite-", replayed.summary)
        self.assertEqual(replayed.unresolved, ["gone2000"])

    def test_another_renderers_recording_is_ignored(self):
        revision = self.published()
        revision.rendering = {**revision.rendering, "renderer": "older"}
        page = MonographPage(document_load(revision))
        self.assertIsNone(page._replay)
        self.assertEqual(page_html(page), page_html(self.live_page(self.published())))

    def test_a_recording_of_other_text_is_not_replayed(self):
        revision = self.published()
        texts = [list(entry) for entry in revision.rendering["texts"]]
        # The third text rendered differently: replay stops there, and the
        # rest renders live, numbered on from what was replayed.
        texts[2][1] = "<p>Not what the document says</p>"
        texts[2][0] = "0" * 16
        revision.rendering = {**revision.rendering, "texts": texts}
        page = MonographPage(document_load(revision))
        self.assertEqual(page._replay.position, 2)
        self.assertEqual(page_html(page), page_html(self.live_page(self.published())))

    def test_different_resolvable_citations_are_not_replayed(self):
        revision = self.published()
        revision.rendering = {**revision.rendering, "known": "0" * 16}
        self.assertIsNone(MonographPage(document_load(revision))._replay)

    def test_the_reader_page_is_the_same_either_way(self):
        url = self.form.get_absolute_url()
        forget_cached_pages()
        replayed = self.client.get(url).content
        Revision.objects.update(rendering=None)
        forget_cached_pages()
        live = self.client.get(url).content
        self.assertEqual(replayed, live)

    def test_a_deletion_has_nothing_to_render(self):
        revision = self.published()
        revision.document = {}
        self.assertIsNone(revision_render(revision=revision))


class RenderRevisionsCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        reviewer = factories.ReviewerFactory()
        cls.forms = []
        for name in ["Magnesium one", "Magnesium two"]:
            with change_context(reason="Wrote it", user=reviewer):
                form = factories.MagnesiumFormFactory(name=name, summary="Text.")
            factories.publish(form, user=reviewer)
            cls.forms.append(form)
        # An unapproved revision is never rendered: no reader opens it.
        with change_context(reason="Draft", user=reviewer):
            cls.forms[0].summary = "Draft text."
            cls.forms[0].save()

    def test_renders_only_missing_and_stale_recordings(self):
        first, second = (form.publication.revision_id for form in self.forms)
        Revision.objects.filter(pk=first).update(rendering=None)
        Revision.objects.filter(pk=second).update(
            rendering={"renderer": "older", "known": "", "texts": []}
        )
        out = StringIO()
        call_command("render_revisions", stdout=out)
        self.assertEqual(out.getvalue().strip(), "Rendered 2 revision(s).")
        self.assertEqual(revisions_render(), 0)
        self.assertEqual(revisions_render(force=True), 2)
        renderers = Revision.objects.filter(pk__in=[first, second]).values_list(
            "rendering__renderer", flat=True
        )
        self.assertEqual(set(renderers), {RENDERER})
        draft = Revision.objects.latest_for(self.forms[0].pk)
        self.assertIsNone(Revision.objects.get(pk=draft.pk).rendering)
