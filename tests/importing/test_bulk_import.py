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

A folder is imported in fast batches, without a savepoint per file: a file
that fails after writing rolls its batch back, to be imported again file by
file with savepoints. On PostgreSQL the numbers the rolled-back inserts took
from the sequences are gone, so there the files after such a failure are
compared with their ids renumbered in order (``renumbered``).
"""

from contextlib import contextmanager
from unittest import mock

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

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


def _fields(model):
    """The model's columns compared: not timestamps, which the clock sets."""
    return [
        field.attname
        for field in model._meta.concrete_fields
        if not isinstance(field, models.DateTimeField)
    ]


def _historical(model):
    return model._meta.model_name.startswith("historical")


def _id_space(model, field):
    """The model whose ids ``field`` of ``model`` holds, or None."""
    if _historical(model):
        if field.attname in ("history_id", "m2m_history_id"):
            return None
        if field.attname == "id":
            return model.instance_type._meta.label
    elif field.primary_key:
        return model._meta.label
    if field.is_relation and not _historical(field.related_model):
        return field.related_model._meta.label
    return None


def _renumber(raw):
    """Every id in ``raw`` ({model: rows}) replaced by its rank among the
    ids of its model found anywhere: two imports whose ids differ only by
    numbers skipped (sequence values a rolled-back insert took) compare
    equal, and every reference still names the same row."""
    spaces = {
        model: {
            field.attname: _id_space(model, field)
            for field in model._meta.concrete_fields
            if _id_space(model, field)
        }
        for model in raw
    }
    seen = {}
    for model, rows in raw.items():
        for row in rows:
            for column, space in spaces[model].items():
                if row[column] is not None:
                    seen.setdefault(space, set()).add(row[column])
    ranks = {
        space: {value: rank for rank, value in enumerate(sorted(values))}
        for space, values in seen.items()
    }
    # Documents hold ids too: not compared here, but each is checked to be
    # what document_build reads back (assertDocumentsBuilt).
    unranked = {"document", "digest", "rendering"}
    return {
        model: [
            {
                column: (
                    ranks[spaces[model][column]][value]
                    if column in spaces[model] and value is not None
                    else value
                )
                for column, value in row.items()
                if not (model is Revision and column in unranked)
            }
            for row in rows
        ]
        for model, rows in raw.items()
    }


def snapshot(*, renumbered=False):
    """Every table of the app, without timestamps or historical ids: live
    rows in id order, historical rows sorted, and the citations a historical
    row kept naming that row by its content. ``renumbered``: with ids
    replaced by their ranks (``_renumber``)."""
    raw = {
        model: [
            dict(zip(_fields(model), row, strict=True))
            for row in model.objects.order_by("pk").values_list(*_fields(model))
        ]
        for model in apps.get_app_config("monographs").get_models(
            include_auto_created=True
        )
    }
    if renumbered:
        raw = _renumber(raw)
    # A historical row by its content: {(historical model, id): text}.
    records = {
        (model, row["history_id"]): repr(
            {name: value for name, value in row.items() if name != "history_id"}
        )
        for model, rows in raw.items()
        if _historical(model) and "m2m_history_id" not in _fields(model)
        for row in rows
    }
    tables = {}
    for model, rows in raw.items():
        if not _historical(model):
            tables[model._meta.db_table] = rows
            continue
        if "m2m_history_id" in _fields(model):
            record = model._meta.get_field("history").related_model
            rows = [
                {
                    **{k: v for k, v in row.items() if k != "m2m_history_id"},
                    "history_id": records[record, row["history_id"]],
                }
                for row in rows
            ]
        else:
            rows = [{k: v for k, v in row.items() if k != "history_id"} for row in rows]
        tables[model._meta.db_table] = sorted(rows, key=repr)
    return tables


@contextmanager
def recorded_batches():
    """The kind of each batch the import opens, in order: True for a fast
    batch (no savepoint per file), False for one imported with savepoints."""
    batch = ImportRun.batch
    kinds = []

    def recorded(run, *, fast=False):
        kinds.append(fast)
        return batch(run, fast=fast)

    with mock.patch.object(ImportRun, "batch", recorded):
        yield kinds


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

    def imported(self, action, *, renumbered=False):
        """The database after ``action``, which is then undone."""
        with transaction.atomic():
            sequences_reset()
            outcome = action()
            tables = snapshot(renumbered=renumbered)
            transaction.set_rollback(True)
        return outcome, tables

    def assertSameImport(self, *, extra=(), failing=None, **options):
        files = self.corpus() + [write(self.folder, *file) for file in extra]
        files.sort()

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

        # On PostgreSQL a rolled-back batch used sequence numbers.
        renumbered = bool(extra) and connection.vendor != "sqlite"
        (codes, reference_err), reference = self.imported(
            file_by_file, renumbered=renumbered
        )
        (code, err), bulk = self.imported(folder, renumbered=renumbered)
        self.assertEqual(sorted(set(codes)), [0, 1])
        self.assertEqual(code, 1)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        self.assertEqual(
            errors,
            [line for line in reference_err.splitlines() if line.startswith("error:")],
        )
        self.assertEqual(
            len(errors), 1 + (len(extra) if failing is None else failing), errors
        )
        self.assertIn("too-much.md", "".join(errors))
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

    def test_the_same_when_a_file_fails_after_writing(self):
        # Its form is inserted, then a study of a use the file does not list
        # fails it: its fast batch is rolled back and imported again, file
        # by file in savepoints.
        failing = (
            "m/late-failure.md",
            page(
                "Magnesium late failure",
                "### Usage\nFails after its form is written.",
                category="organic-salt",
                elemental_mg_percent=10,
                studies="[{evidence: Nothing, name: A, outcome: B}]",
            ),
        )
        self.assertSameImport(extra=[failing])
        with mock.patch.object(ImportRun, "BATCH_FILES", 3):
            self.assertSameImport(extra=[failing])

    def test_the_same_when_new_forms_of_a_batch_name_each_other(self):
        # New forms wait for the batch's flush: a later file naming one
        # (its title, a synonym, a slug) must find it as file by file.
        new = self.new_page

        self.assertSameImport(
            extra=[
                ("n/beta.md", new("Magnesium beta")),
                # Names beta as a synonym: an update of beta.
                ("n/gamma.md", new("Magnesium gamma", synonyms="[Magnesium beta]")),
                ("n/delta.md", new("Magnesium delta")),
                # A synonym whose slug is a new form's: not added.
                ("n/epsilon.md", new("Magnesium epsilon", synonyms="[delta]")),
            ],
            failing=0,
        )

    @staticmethod
    def new_page(title, **front):
        return page(
            title,
            "### Usage\nNew.",
            category="organic-salt",
            elemental_mg_percent=10,
            **front,
        )

    def test_two_files_of_one_new_monograph_in_one_run_are_refused(self):
        write(self.folder, "a/alpha.md", self.new_page("Magnesium Alpha"))
        write(self.folder, "b/alpha.md", self.new_page("magnesium alpha"))
        write(self.folder, "c/other.md", self.new_page("Magnesium other"))
        run = run_import(self.folder)
        self.assertEqual(run.code, 1)
        self.assertIn("b/alpha.md: describes Magnesium Alpha like alpha.md", run.err)
        self.assertIn("2 created, 0 updated, 0 unchanged, 1 failed", run.out)
        alpha = MagnesiumForm.objects.get(name="Magnesium Alpha")
        self.assertEqual(
            list(Revision.objects.for_form(alpha.pk).values_list("number", "summary")),
            [(1, "Imported from alpha.md")],
        )

    def test_a_file_that_fails_before_writing_leaves_its_batch_alone(self):
        self.corpus()
        with recorded_batches() as kinds:
            run = run_import(self.folder)
        self.assertIn("1 failed", run.out)
        self.assertIn("too-much.md", run.err)
        # No batch was imported again with savepoints.
        self.assertEqual(kinds, [True])

    def test_a_file_that_fails_after_writing_has_its_batch_imported_again(self):
        self.corpus()
        write(
            self.folder,
            "m/late-failure.md",
            page(
                "Magnesium late failure",
                category="organic-salt",
                elemental_mg_percent=10,
                studies="[{evidence: Nothing, name: A, outcome: B}]",
            ),
        )
        with recorded_batches() as kinds:
            run = run_import(self.folder)
        self.assertIn("2 failed", run.out)
        self.assertIn("late-failure.md", run.err)
        self.assertEqual(run.err.count("error:"), 2)
        # The batch up to the failure again with savepoints, the rest fast.
        self.assertEqual(kinds, [True, False, True])

    def test_new_forms_take_about_two_queries_each(self):
        count = 60
        dataset.import_files(self.folder, count=count, update_every=count + 1)
        with CaptureQueriesContext(connection) as queries:
            run = run_import(self.folder)
        self.assertIn(f"{count} created", run.out)
        # The form's insert, and a few per batch: read the run's index,
        # insert the rows, revisions and historical rows a model at a time.
        self.assertLess(len(queries), count + 60, len(queries))

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
