"""The migration that built documents from history gives what the app writes."""

import importlib
from unittest import mock

from django.apps import apps
from django.test import TestCase

from monographs import services
from monographs.documents import document_digest, document_load
from monographs.history import change_context
from monographs.models import Citation, Indication, MagnesiumForm, Revision
from monographs.pages import MonographPage
from tests import factories

migration = importlib.import_module("monographs.migrations.0004_build_documents")
build_documents = migration.build_documents
# Evidence fields 0004 read that schema 2 (issue 15) removed: the tally and
# applicability are now computed from study rows.
REMOVED_EVIDENCE_FIELDS = {"applicability", "studies_improved", "studies_total"}
EVIDENCE_V1 = (
    "evidence",
    [
        name
        for name in migration.ROWS["evidence"][1]
        if name not in REMOVED_EVIDENCE_FIELDS
    ],
    True,
)


def schema_1_part(document):
    """The part of a document migration 0004 builds: the fields schema 1 had.

    Documents have grown since (studies, certainty domains, dose populations,
    a citation's publisher); 0004 is frozen at schema 1, so what it rebuilds
    is compared with that part of what the app stores.
    """
    if not document:
        return document
    rows = {}
    for kind, (_model, fields, _cites) in migration.ROWS.items():
        keep = {"id", "citations", *fields}
        rows[kind] = [
            {name: value for name, value in row.items() if name in keep}
            for row in document["rows"].get(kind, [])
        ]
    citation_fields = {"id", *migration.CITATION_FIELDS}
    return {
        "form": {
            name: value
            for name, value in document["form"].items()
            if name in {"id", *migration.FORM_FIELDS}
        },
        "rows": rows,
        "citations": {
            pk: {n: v for n, v in values.items() if n in citation_fields}
            for pk, values in document["citations"].items()
        },
        "topics": document["topics"],
    }


def rendered(revision):
    """Everything a reader's page shows of a revision, as HTML fragments."""
    monograph = document_load(revision)
    if monograph is None:
        return None
    page = MonographPage(monograph)
    return [
        str(page.summary),
        str(page.usage),
        [str(row.html) for row in page.evidence_rows],
        [str(row.html) for row in page.dose_rows],
        [(n, citation.key, citation.title) for n, citation, _ in page.references],
        [row.row.indication.name for row in page.evidence_rows],
        [synonym.name for synonym in page.synonyms],
    ]


class GoldenMigrationTests(TestCase):
    """A generated dataset: every revision's document as the app stored it,
    against the one the migration rebuilds from the history tables alone
    (on the fields the migration knows), and both rendered."""

    @classmethod
    def setUpTestData(cls):
        editor = factories.EditorFactory()
        reviewer = factories.ReviewerFactory()
        sources = [
            factories.CitationFactory(key=f"source{n}", title=f"Source {n}")
            for n in range(4)
        ]
        uses = [
            factories.IndicationFactory(name=f"Use {n}", slug=f"use-{n}")
            for n in range(3)
        ]
        for number in range(3):
            with change_context(reason="Wrote it", user=editor):
                form = factories.MagnesiumFormFactory(
                    name=f"Magnesium golden {number}",
                    slug=f"magnesium-golden-{number}",
                    summary=f"Text [@source{number}].",
                )
                factories.SynonymFactory(form=form)
                factories.EvidenceFactory(
                    form=form, indication=uses[number], summary="May help."
                ).citations.add(sources[number + 1])
                factories.DoseFactory(form=form, notes="With food [@source0].")
            factories.publish(form, user=reviewer)
            for step in range(3):
                with change_context(reason=f"Edit {step}", user=editor):
                    form = MagnesiumForm.objects.get(pk=form.pk)
                    form.summary = f"Text {step} [@source{step}]."
                    form.save()
                    factories.FAQFactory(form=form, question=f"Q{step}?")
            with change_context(reason="Corrected a source", user=editor):
                citation = Citation.objects.get(key=f"source{number}")
                citation.title = f"Corrected source {number}"
                citation.save()
                use = Indication.objects.get(pk=uses[number].pk)
                use.name = f"Renamed use {number}"
                use.save()
            factories.publish(form, user=reviewer)
        services.monograph_delete(form=form, user=reviewer, reason="Duplicate")
        services.monograph_recover(form_id=form.pk, user=reviewer)

    def test_every_revision_renders_the_same_both_ways(self):
        stored = {
            revision.pk: (revision.document, rendered(revision))
            for revision in Revision.objects.with_document()
        }
        self.assertGreater(len(stored), 15)
        Revision.objects.update(document={}, name="", slug="", digest="", author="")

        with mock.patch.dict(migration.ROWS, {"evidence": EVIDENCE_V1}):
            build_documents(apps, None)

        for revision in Revision.objects.with_document().order_by("form_id", "number"):
            with self.subTest(form=revision.form_id, number=revision.number):
                document, page = stored[revision.pk]
                self.assertEqual(
                    schema_1_part(revision.document), schema_1_part(document)
                )
                # A schema 1 document still loads, and renders the same.
                self.assertEqual(rendered(revision), page)
                self.assertEqual(revision.deleted, not document)
                self.assertEqual(revision.digest, document_digest(revision.document))
                self.assertTrue(revision.author)
