"""A revision is one immutable document; readers are served from approved ones."""

import hashlib
import json
import threading
import time
from unittest import skipUnless

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client, TestCase, TransactionTestCase

from monographs import services
from monographs.documents import (
    document_assemble,
    document_build,
    document_digest,
    document_load,
)
from monographs.history import change_context
from monographs.models import (
    Citation,
    Indication,
    MagnesiumForm,
    Publication,
    Revision,
)
from monographs.schema import (
    ROW_KINDS,
    SCHEMA_VERSION,
    TOPIC_FIELDS,
    TOPIC_MODELS,
    citation_fields,
    form_fields,
    normalize_text,
    row_fields,
)
from monographs.services import seed_load
from tests import factories
from tests.admin.test_monograph_admin import change_url, open_change_form
from tests.public.helpers import forget_cached_pages


def build_published(reviewer):
    """A published monograph citing one source from a row and one from its text."""
    row_source = factories.CitationFactory(key="rowsource2020", title="Row source")
    text_source = factories.CitationFactory(key="textsource2021", title="Text source")
    sleep = factories.IndicationFactory(name="Sleep quality", slug="sleep-quality")
    with change_context(reason="Wrote it", user=reviewer):
        form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            summary="Gentle.\n\nSee [@textsource2021].",
        )
        factories.EvidenceFactory(
            form=form, indication=sleep, summary="May help."
        ).citations.add(row_source)
    factories.publish(form, user=reviewer)
    return form, row_source, text_source, sleep


class NormalizeTextTests(TestCase):
    def test_line_endings_and_trailing_whitespace(self):
        self.assertEqual(normalize_text("One  \r\nTwo\t\rThree\n\n"), "One\nTwo\nThree")

    def test_one_line_loses_trailing_whitespace_only(self):
        self.assertEqual(normalize_text("  Indented\u00a0\t "), "  Indented")
        self.assertEqual(normalize_text("Clean"), "Clean")

    def test_other_values_pass_through(self):
        self.assertIsNone(normalize_text(None))
        self.assertEqual(normalize_text(3), 3)


class DocumentTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        cls.form, cls.row_source, cls.text_source, cls.sleep = build_published(
            cls.reviewer
        )

    def test_holds_fields_rows_citations_topics_and_schema(self):
        document = document_build(self.form.pk)
        self.assertEqual(document["schema"], SCHEMA_VERSION)
        self.assertEqual(document["form"]["id"], self.form.pk)
        self.assertEqual(document["form"]["slug"], "magnesium-glycinate")
        evidence = document["rows"]["evidence"][0]
        self.assertEqual(evidence["citations"], [self.row_source.pk])
        self.assertEqual(
            set(evidence) - {"id", "citations"}, set(row_fields("evidence"))
        )
        # Cited by a row and by a [@key] marker in the text.
        self.assertEqual(
            {c["key"] for c in document["citations"].values()},
            {"rowsource2020", "textsource2021"},
        )
        self.assertNotIn("note", document["citations"][str(self.row_source.pk)])
        self.assertEqual(
            document["topics"]["indication"][str(self.sleep.pk)]["name"],
            "Sleep quality",
        )
        self.assertEqual(set(document["rows"]), {kind.name for kind in ROW_KINDS})

    def test_a_revision_stores_the_document_it_was_saved_as(self):
        latest = Revision.objects.with_document().latest_for(self.form.pk)
        self.assertEqual(latest.document, document_build(self.form.pk))
        self.assertEqual((latest.name, latest.slug), (self.form.name, self.form.slug))

    def test_loading_needs_no_query(self):
        latest = Revision.objects.with_document().latest_for(self.form.pk)
        with self.assertNumQueries(0):
            monograph = document_load(latest)
            row = monograph.evidence[0]
            self.assertEqual(row.indication.name, "Sleep quality")
            self.assertEqual([c.key for c in row.cited], ["rowsource2020"])
            self.assertEqual(str(row), "Magnesium glycinate: Sleep quality")

    def test_a_partial_load_leaves_out_the_other_kinds_and_is_not_shared(self):
        latest = Revision.objects.with_document().latest_for(self.form.pk)
        listed = document_load(latest, kinds=["synonyms"])
        self.assertEqual(listed.form.name, "Magnesium glycinate")
        self.assertEqual(listed.synonyms, [])
        self.assertIsNone(listed.evidence)
        self.assertEqual(
            listed.topics["indication"][self.sleep.pk].name, "Sleep quality"
        )
        self.assertEqual(len(document_load(latest).evidence), 1)
        with self.assertRaisesMessage(ValueError, "studies need their evidence"):
            document_load(
                Revision.objects.with_document().latest_for(self.form.pk),
                kinds=["studies"],
            )

    def test_a_save_that_changes_nothing_writes_no_revision(self):
        count = Revision.objects.count()
        with change_context(reason="Nothing", user=self.reviewer):
            MagnesiumForm.objects.get(pk=self.form.pk).save()
        self.assertEqual(Revision.objects.count(), count)
        self.assertEqual(self.form.history.count(), 1)


def orm_document(form_id):
    """document_build the plain way, through QuerySets built per call: what
    its compiled queries must give."""
    form = MagnesiumForm.objects.filter(pk=form_id).values("id", *form_fields()).first()
    rows = {}
    for kind in ROW_KINDS:
        by_id = {}
        for instance in kind.model.objects.filter(form_id=form_id):
            row = by_id[instance.pk] = {"id": instance.pk}
            for name in row_fields(kind.name):
                row[name] = getattr(instance, kind.model._meta.get_field(name).attname)
            if kind.cites:
                row["citations"] = [c.pk for c in instance.citations.all()]
        rows[kind.name] = list(by_id.values())

    def citations(ids, keys):
        return Citation.objects.filter(Q(pk__in=ids) | Q(key__in=keys)).values(
            "id", *citation_fields()
        )

    def topics(name, ids):
        model = apps.get_model("monographs", TOPIC_MODELS[name])
        return model.objects.filter(pk__in=ids).values("id", *TOPIC_FIELDS)

    return document_assemble(form, rows, citations, topics)


class DocumentBuildTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()

    def test_equals_a_build_through_the_orm(self):
        forms = MagnesiumForm.objects.all()
        self.assertGreater(len(forms), 5)
        for form in forms:
            with self.subTest(form=form.slug):
                self.assertEqual(document_build(form.pk), orm_document(form.pk))

    def test_digest_is_of_the_canonical_json(self):
        documents = [document_build(form.pk) for form in MagnesiumForm.objects.all()]
        documents.append(
            {
                "text": "".join(map(chr, range(0x3000))) + "\U0001f600 \u2028",
                "n": [0, -1],
            }
        )
        for document in documents:
            canonical = json.dumps(
                document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            self.assertEqual(
                document_digest(document),
                hashlib.sha256(canonical.encode()).hexdigest(),
            )

    def test_queries_do_not_grow_with_rows(self):
        # The form and each row kind, which bring their topics and citations.
        rows_only = 1 + len(ROW_KINDS)
        form = factories.MagnesiumFormFactory(summary="Cites nothing by key.")
        document_build(form.pk)
        with self.assertNumQueries(rows_only):
            document_build(form.pk)
        with change_context(reason="More rows"):
            factories.FAQFactory.create_batch(20, form=form)
            factories.DoseFactory(form=form).citations.set(Citation.objects.all()[:5])
            factories.EvidenceFactory.create_batch(3, form=form)
        with self.assertNumQueries(rows_only):
            document = document_build(form.pk)
        self.assertEqual(len(document["citations"]), 5)
        self.assertEqual(len(document["topics"]["indication"]), 3)
        # Citations named only by [@key] in the text: one query for them all.
        glycinate = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        with self.assertNumQueries(rows_only + 1):
            document = document_build(glycinate.pk)
        self.assertIn("dai2018", {c["key"] for c in document["citations"].values()})


class CrlfResubmissionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        cls.form, *_ = build_published(cls.reviewer)

    def test_an_untouched_form_posted_with_crlf_writes_no_revision(self):
        self.client.force_login(self.reviewer)
        data = open_change_form(self.client, self.form)
        # What a browser posts: every textarea's line breaks as CRLF.
        data = {
            name: value.replace("\n", "\r\n") if isinstance(value, str) else value
            for name, value in data.items()
        }
        self.assertIn("\r\n", data["summary"])
        data["edit_summary"] = "Looked at it"
        before = Revision.objects.count()
        response = self.client.post(change_url(self.form), data, follow=True)
        self.assertEqual(response.redirect_chain[0][1], 302)
        self.assertEqual(Revision.objects.count(), before)
        self.assertEqual(self.form.status, MagnesiumForm.Status.PUBLISHED)
        # Said as it is, not "was changed successfully".
        self.assertContains(response, "Nothing was changed, so no revision was saved.")
        self.assertNotContains(response, "changed successfully")


class PermalinkImmutabilityTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        cls.form, cls.row_source, cls.text_source, cls.sleep = build_published(
            cls.reviewer
        )
        cls.number = cls.form.published_revision.number

    def permalink(self, slug="magnesium-glycinate"):
        forget_cached_pages()
        return Client().get(f"/forms/{slug}/revisions/{self.number}/", follow=True)

    def test_unchanged_after_citation_topic_and_slug_edits(self):
        before = self.permalink()
        self.assertEqual(before.status_code, 200)
        self.assertContains(before, "Row source")
        with change_context(reason="Corrected", user=self.reviewer):
            citation = Citation.objects.get(pk=self.row_source.pk)
            citation.title = "Corrected title"
            citation.save()
            topic = Indication.objects.get(pk=self.sleep.pk)
            topic.name = "Sleep"
            topic.save()
            form = MagnesiumForm.objects.get(pk=self.form.pk)
            form.slug = "magnesium-bisglycinate-chelate"
            form.summary = "Rewritten."
            form.save()
        factories.publish(form, user=self.reviewer)

        after = self.permalink()
        self.assertEqual(
            after.redirect_chain[-1][0], f"/forms/{form.slug}/revisions/{self.number}/"
        )
        self.assertEqual(after.content, before.content)
        # The new revision carries all three changes.
        current = Client().get(f"/forms/{form.slug}/")
        self.assertContains(current, "Corrected title")
        self.assertContains(current, "Rewritten.")


class CitationReviewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        cls.editor = factories.EditorFactory()
        cls.form, cls.row_source, cls.text_source, _ = build_published(cls.reviewer)
        with change_context(reason="Also cites it", user=cls.reviewer):
            cls.other = factories.MagnesiumFormFactory(
                name="Magnesium citrate",
                slug="magnesium-citrate",
                summary="[@rowsource2020]",
            )
        factories.publish(cls.other, user=cls.reviewer)

    def edit_citation(self):
        self.client.force_login(self.editor)
        with change_context(reason="Fixed the title", user=self.editor):
            citation = Citation.objects.get(pk=self.row_source.pk)
            citation.title = "Unreviewed new title"
            citation.save()

    def test_an_unapproved_citation_edit_appears_nowhere_public(self):
        self.edit_citation()
        forget_cached_pages()
        reader = Client()
        for url in [
            "/forms/magnesium-glycinate/",
            "/forms/magnesium-citrate/",
            "/citations/",
            f"/citations/{self.row_source.pk}/",
            "/citations/export.ris",
            "/citations/export.bib",
            "/citations/export.json",
            "/api/v1/forms/magnesium-glycinate/",
        ]:
            with self.subTest(url=url):
                response = reader.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertNotContains(response, "Unreviewed new title")
                # The API lists references by key; every other page by title.
                shown = "rowsource2020" if "/api/" in url else "Row source"
                self.assertContains(response, shown)

    def test_it_is_a_pending_change_of_every_citing_monograph(self):
        self.edit_citation()
        for form in (self.form, self.other):
            with self.subTest(form=form.name):
                latest = Revision.objects.latest_for(form.pk)
                self.assertIn("Fixed the title", latest.summary)
                self.assertEqual(
                    form.status, MagnesiumForm.Status.PUBLISHED_WITH_CHANGES
                )
                review = self.client.get(
                    f"/admin/monographs/magnesiumform/{form.pk}/review/"
                )
                self.assertContains(
                    review, '<h3 class="diff-section-heading">References</h3>'
                )
                self.assertContains(review, "Unreviewed")

    def test_approval_publishes_it(self):
        self.edit_citation()
        factories.publish(self.form, user=self.reviewer)
        forget_cached_pages()
        self.assertContains(
            Client().get("/forms/magnesium-glycinate/"), "Unreviewed new title"
        )
        # The other page still shows the title it was approved with.
        self.assertNotContains(
            Client().get("/forms/magnesium-citrate/"), "Unreviewed new title"
        )

    def test_an_editors_note_is_not_a_change(self):
        before = Revision.objects.count()
        with change_context(reason="Note", user=self.editor):
            citation = Citation.objects.get(pk=self.row_source.pk)
            citation.note = "Checked against PubMed."
            citation.save()
        self.assertEqual(Revision.objects.count(), before)


class DeletionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        cls.form, *_ = build_published(cls.reviewer)
        cls.number = cls.form.published_revision.number

    def test_gone_from_every_public_list_in_the_same_request_cycle(self):
        reader = Client()
        urls = ["/", "/forms/", "/search/?q=gentle", "/api/v1/forms/", "/sitemap.xml"]
        link = "/forms/magnesium-glycinate/"
        for url in urls:
            self.assertContains(reader.get(url), link)
        services.monograph_delete(
            form=self.form, user=self.reviewer, reason="Duplicate"
        )
        # No cache is cleared: the withdrawal itself moves every cache key.
        for url in urls:
            with self.subTest(url=url):
                self.assertNotContains(reader.get(url), link)
        self.assertEqual(reader.get("/forms/magnesium-glycinate/").status_code, 410)
        self.assertEqual(
            reader.get("/api/v1/forms/magnesium-glycinate/").status_code, 404
        )

    def test_listed_in_changes_and_feeds_with_its_history_kept(self):
        revision = services.monograph_delete(
            form=self.form, user=self.reviewer, reason="Duplicate"
        )
        self.assertTrue(revision.deleted)
        self.assertEqual(
            Revision.objects.with_document().get(pk=revision.pk).document, {}
        )
        reader = Client()
        changes = reader.get("/changes/")
        self.assertContains(changes, "Duplicate")
        self.assertContains(reader.get("/changes/feed/"), "Magnesium glycinate deleted")
        self.assertEqual(
            reader.get(
                f"/forms/magnesium-glycinate/revisions/{self.number}/"
            ).status_code,
            200,
        )

    def test_recovered_through_review(self):
        services.monograph_delete(form=self.form, user=self.reviewer, reason="Oops")
        revision = services.monograph_recover(form_id=self.form.pk, user=self.reviewer)
        form = MagnesiumForm.objects.get(pk=self.form.pk)
        self.assertEqual(form.status, MagnesiumForm.Status.DRAFT)
        self.assertEqual(Client().get("/forms/magnesium-glycinate/").status_code, 410)
        services.monograph_approve(
            form=form, user=self.reviewer, revision_number=revision.number
        )
        self.assertEqual(Client().get("/forms/magnesium-glycinate/").status_code, 200)
        self.assertFalse(Publication.objects.get(form_id=form.pk).withdrawn)


class ReaderLeakTests(TestCase):
    """What a draft said, or who someone is, never reaches readers."""

    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory(first_name="Rita", last_name="Ng")
        cls.form, cls.row_source, cls.text_source, cls.sleep = build_published(
            cls.reviewer
        )

    def test_a_deleted_draft_is_named_as_readers_last_saw_it(self):
        with change_context(reason="Draft rename", user=self.reviewer):
            form = MagnesiumForm.objects.get(pk=self.form.pk)
            form.name, form.slug = "Secret draft name", "secret-draft-slug"
            form.save()
        services.monograph_delete(form=form, user=self.reviewer, reason="Gone")
        reader = Client()
        for url in [
            "/changes/",
            "/changes/feed/",
            "/forms/magnesium-glycinate/history/",
        ]:
            with self.subTest(url=url):
                response = reader.get(url)
                self.assertNotContains(response, "Secret draft name")
                self.assertNotContains(response, "secret-draft-slug")
        self.assertEqual(reader.get("/forms/secret-draft-slug/").status_code, 404)

    def test_a_permalink_keeps_the_name_it_was_written_with(self):
        number = self.form.published_revision.number
        url = f"/forms/magnesium-glycinate/revisions/{number}/"
        before = Client().get(url)
        self.assertContains(before, "Rita Ng")
        self.reviewer.first_name, self.reviewer.last_name = "", ""
        self.reviewer.save()
        forget_cached_pages()
        after = Client().get(url)
        self.assertEqual(after.content, before.content)
        self.assertNotContains(after, self.reviewer.username)

    def test_a_renamed_topics_old_address_redirects(self):
        with change_context(reason="Another page", user=self.reviewer):
            other = factories.MagnesiumFormFactory(slug="magnesium-citrate")
            factories.EvidenceFactory(form=other, indication=self.sleep)
        factories.publish(other, user=self.reviewer)
        with change_context(reason="Renamed", user=self.reviewer):
            topic = Indication.objects.get(pk=self.sleep.pk)
            topic.name, topic.slug = "Sleep", "sleep"
            topic.save()
        # Not approved yet: the old name and address stand.
        self.assertEqual(Client().get("/indications/sleep-quality/").status_code, 200)
        # Approved on one page only: the other still links the old address.
        factories.publish(self.form, user=self.reviewer)
        forget_cached_pages()
        response = Client().get("/indications/sleep-quality/")
        self.assertRedirects(response, "/indications/sleep/", status_code=301)

    def test_bad_form_filters_are_404(self):
        for value in ["%00", "a b", "<script>"]:
            with self.subTest(value=value):
                response = Client().get(f"/changes/?form={value}")
                self.assertEqual(response.status_code, 404)


class RowMoveTests(TestCase):
    def test_a_rows_own_page_cannot_move_it(self):
        reviewer = factories.ReviewerFactory()
        form, *_ = build_published(reviewer)
        other = factories.MagnesiumFormFactory()
        faq = factories.FAQFactory(form=form, question="Why?")
        self.client.force_login(reviewer)
        response = self.client.get(f"/admin/monographs/faq/{faq.pk}/change/")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, 'name="form"')
        self.assertContains(response, form.name)
        self.assertNotEqual(other.pk, form.pk)


@skipUnless(connection.vendor == "postgresql", "needs two real connections")
class CitationEditRaceTests(TransactionTestCase):
    """A citation edit and an editor's save of a monograph citing it, at once:
    each gets its own revision number, none is lost."""

    def test_both_writes_get_a_revision(self):
        user = factories.SuperuserFactory()
        form, citation, *_ = build_published(user)
        before = Revision.objects.latest_number(form.pk)
        citation_numbered = threading.Event()
        errors = []

        def edit_citation():
            try:
                with transaction.atomic():
                    with change_context(reason="Fixed the title", user=user):
                        fixed = Citation.objects.get(pk=citation.pk)
                        fixed.title = "Fixed title"
                        fixed.save()
                    # Revision numbered, not yet committed: hold it open.
                    citation_numbered.set()
                    time.sleep(1)
            except Exception as error:
                errors.append(error)
            finally:
                connection.close()

        def save_monograph():
            try:
                citation_numbered.wait(10)
                with (
                    transaction.atomic(),
                    change_context(reason="Edited the summary", user=user),
                ):
                    edited = MagnesiumForm.objects.get(pk=form.pk)
                    edited.summary = "Edited."
                    edited.save()
            except Exception as error:
                errors.append(error)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=edit_citation),
            threading.Thread(target=save_monograph),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(errors, [])
        summaries = list(
            Revision.objects.for_form(form.pk)
            .filter(number__gt=before)
            .order_by("number")
            .values_list("number", "summary")
        )
        self.assertEqual(len(summaries), 2)
        self.assertIn("Fixed the title", summaries[0][1])
        self.assertEqual(summaries[1], (before + 2, "Edited the summary"))
