"""A folder import writes in bulk what file-by-file imports write row by row.

import_monographs imports a single file with RowWriter (each row looked up,
validated, saved and recorded on its own) and a folder with BulkWriter (a
kind of row at a time). Both are live; RowWriter is the simple one, so it is
the reference: a corpus from the benchmark (new forms, updates of published
forms, a file with cited rows, a file that fails) is imported once file by
file and once as a folder, in the same starting state, and every table of
the app must come out the same: live rows, revisions (documents, digests,
numbers, summaries), historical rows (count, type, reason, author, revision)
and their citations. Only what the database or the clock numbers differently
is left out: timestamps, and the ids of historical rows.
"""

from unittest import mock

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.test import TestCase

from bench import dataset
from monographs.documents import document_build, document_digest
from monographs.models import FormSideEffect, MagnesiumForm, Revision, SideEffect
from monographs.services.importing_bulk import ImportRun
from tests import factories
from tests.importing import TemporaryFolderMixin, page, run_import, write

CITED_UPDATE = """
doses:
  - population: Adults
    purpose: General supplementation
    minimum_mg: 150
    maximum_mg: 300
    notes: "Stored without the spaces at the end of its lines.  \\r\\n  "
    citations: [bench0003]
  - population: Older adults
    purpose: Sleep
    minimum_mg: 100
    maximum_mg: 200
    citations: [bench0004, bench0005]
interactions:
  - drug_class: Bisphosphonates
    significance: moderate
    mechanism: Binds the drug in the gut.
    management: Take them two hours apart.
    citations: [bench0006]
evidence:
  - indication: Sleep quality
    direction: benefit
    certainty: low
    summary: Two small trials [@bench0007].
    citations: [bench0007]
studies:
  - evidence: Sleep quality
    name: Trial A
    outcome: Sleep onset latency
    design: rct
    salt: oxide
    result: improved
"""


def table(model):
    """The model's rows, without timestamps or historical ids, in a stable order."""
    history = model._meta.model_name.startswith("historical")
    dropped = {"history_id", "m2m_history_id"} if history else set()
    fields = [
        field.attname
        for field in model._meta.concrete_fields
        if not isinstance(field, models.DateTimeField) and field.attname not in dropped
    ]
    rows = [
        dict(zip(fields, row, strict=True))
        for row in model.objects.order_by("pk").values_list(*fields)
    ]
    if history:
        return sorted(rows, key=repr)
    return rows


def historical_citations(model):
    """An m2m historical table's rows, each naming its historical row by content."""
    record = model._meta.get_field("history").related_model
    records = {
        values["history_id"]: repr(
            {
                name: value
                for name, value in values.items()
                if name not in ("history_id", "history_date")
            }
        )
        for values in record.objects.values()
    }
    rows = [
        {**values, "history_id": records[values["history_id"]]}
        for values in model.objects.values()
    ]
    for row in rows:
        del row["m2m_history_id"]
    return sorted(rows, key=repr)


def snapshot():
    tables = {}
    for model in apps.get_app_config("monographs").get_models(
        include_auto_created=True
    ):
        if "history" in {field.name for field in model._meta.fields} and (
            "m2m_history_id" in {field.attname for field in model._meta.fields}
        ):
            tables[model._meta.db_table] = historical_citations(model)
        else:
            tables[model._meta.db_table] = table(model)
    return tables


def sequences_reset():
    """Start every id sequence after the largest id, as after a rollback
    SQLite's do and PostgreSQL's do not: both runs number rows alike."""
    statements = connection.ops.sequence_reset_sql(
        no_style(),
        list(apps.get_app_config("monographs").get_models(include_auto_created=True)),
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class BulkImportTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor, cls.reviewer = dataset.users()
        cls.publisher = factories.ReviewerFactory()
        dataset.seed(cls.reviewer)
        dataset.add_citations(cls.editor, total=60)
        dataset.add_forms(
            cls.editor, cls.reviewer, total=MagnesiumForm.objects.count() + 4
        )

    def corpus(self):
        files = dataset.import_files(self.folder, count=40, update_every=7)
        # The last benchmark form: import_files updates the first few by name.
        cited = MagnesiumForm.objects.filter(
            slug__startswith="magnesium-benchmark-form"
        ).latest("slug")
        files.append(
            write(
                self.folder,
                "z/cited.md",
                f"---\ntitle: {cited.name}\n"
                'composition_note: "Normalised when saved.   "\n'
                f"{CITED_UPDATE.strip()}\n---\n\n"
                f"# {cited.name}\n### Usage\nUpdated, with cited rows.\n",
            )
        )
        # A new form with cited rows: its revision's document is built from
        # the rows the bulk writer holds.
        files.append(
            write(
                self.folder,
                "z/cited-new.md",
                "---\ntitle: Magnesium newly cited\ncategory: organic-salt\n"
                "elemental_mg_percent: 12.5\nsalt: oxide\n"
                'formula_basis: "MgX2   "\n'
                f"{CITED_UPDATE.strip()}\n---\n\n"
                "# Magnesium newly cited\n### Usage\nNew, with cited rows "
                "[@bench0008].\n",
            )
        )
        files.append(
            write(
                self.folder,
                "z/too-much.md",
                page(
                    "Magnesium overfull",
                    "### Usage\nA bad file.",
                    category="organic-salt",
                    elemental_mg_percent=150,
                ),
            )
        )
        return sorted(files)

    def imported(self, action):
        """The database after ``action``, which is then undone."""
        with transaction.atomic():
            sequences_reset()
            outcome = action()
            tables = snapshot()
            transaction.set_rollback(True)
        return outcome, tables

    def assertSameImport(self, **options):
        files = self.corpus()

        def file_by_file():
            runs = [run_import(path, **options) for path in files]
            return (
                [run.code for run in runs],
                "".join(run.err for run in runs),
            )

        def folder():
            run = run_import(self.folder, **options)
            self.assertDocumentsBuilt()
            return run.code, run.err

        (codes, reference_err), reference = self.imported(file_by_file)
        (code, err), bulk = self.imported(folder)
        self.assertEqual(sorted(set(codes)), [0, 1])
        self.assertEqual(code, 1)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        self.assertEqual(
            errors,
            [line for line in reference_err.splitlines() if line.startswith("error:")],
        )
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("too-much.md", errors[0])
        self.assertEqual(reference.keys(), bulk.keys())
        for name in reference:
            with self.subTest(table=name):
                self.assertEqual(bulk[name], reference[name])
        # The comparison is not empty: the imports wrote revisions and history.
        self.assertGreater(
            len(bulk["monographs_revision"]), len(self.before["monographs_revision"])
        )

    def assertDocumentsBuilt(self):
        """Each revision the import wrote holds what document_build gives."""
        checked = 0
        for form_id in MagnesiumForm.objects.values_list("pk", flat=True):
            latest = (
                Revision.objects.with_document()
                .for_form(form_id)
                .order_by("-number")
                .first()
            )
            if latest is None or not latest.summary.startswith("Imported from"):
                continue
            with self.subTest(form=latest.name):
                self.assertEqual(latest.document, document_build(form_id))
                self.assertEqual(latest.digest, document_digest(latest.document))
            checked += 1
        self.assertGreater(checked, 30)

    def setUp(self):
        super().setUp()
        self.before = snapshot()

    def test_a_folder_import_writes_what_file_by_file_imports_write(self):
        self.assertSameImport()

    def test_the_same_with_publish_as_a_reviewer(self):
        self.assertSameImport(publish=True, username=self.publisher.username)

    def test_the_same_when_the_files_are_committed_three_at_a_time(self):
        # The failing file falls inside a batch: it alone is rolled back.
        with mock.patch.object(ImportRun, "BATCH_FILES", 3):
            self.assertSameImport()

    def test_importing_the_folder_again_writes_nothing(self):
        self.corpus()
        run_import(self.folder)
        before = snapshot()
        again = run_import(self.folder)
        self.assertIn("0 created, 0 updated, 42 unchanged, 1 failed", again.out)
        self.assertEqual(snapshot(), before)

    def test_a_dry_run_of_the_folder_writes_nothing(self):
        self.corpus()
        run = run_import(self.folder, dry_run=True)
        self.assertIn("Would have:", run.out)
        self.assertEqual(snapshot(), self.before)


class RunCacheTests(TemporaryFolderMixin, TestCase):
    """What a run reuses from file to file is only what stayed written."""

    def test_a_topic_created_by_a_file_that_failed_is_created_again(self):
        side_effects = (
            "### Side Effects\nCommon side effects include:\n\n* Ghost effect\n"
        )
        write(
            self.folder,
            "a.md",
            page(
                "Magnesium first",
                side_effects,
                category="organic-salt",
                elemental_mg_percent=10,
                # A study of a use the file does not list fails the file
                # after its side effects were written.
                studies="[{evidence: Nothing, name: A, outcome: B}]",
            ),
        )
        write(
            self.folder,
            "b.md",
            page(
                "Magnesium second",
                side_effects,
                category="organic-salt",
                elemental_mg_percent=10,
            ),
        )
        run = run_import(self.folder)
        self.assertIn("1 created, 0 updated, 0 unchanged, 1 failed", run.out)
        self.assertIn("a.md", run.err)
        row = FormSideEffect.objects.get(form__name="Magnesium second")
        self.assertEqual(row.side_effect, SideEffect.objects.get(slug="ghost-effect"))
