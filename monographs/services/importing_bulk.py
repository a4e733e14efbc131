"""
Importing a whole folder: each file still one revision, and written or
rolled back as a whole, its rows written a kind at a time.

The row-by-row writer (monographs.services.importing.RowWriter) looks up,
validates against the database, saves and records each row on its own:
some 75 queries a file. ``BulkWriter`` makes the same decisions with the
same code (``_apply_import``) but, for each kind of row, reads the form's
rows once, matches and validates the file's rows in Python against them,
inserts the new ones with one bulk_create and the changed ones with one
bulk_update, and writes their historical rows once the file's revision is
known, already linked to it, in one bulk_create per table for a batch of
files.

What it leaves is what the row-by-row writer leaves, row for row and
historical row for historical row (tests/importing/test_bulk_import.py):

- rows are matched to the file's as row_upsert matches them (the first of
  the form's rows in the model's order), positions renumbered as
  RowWriter.rows_replace renumbers them;
- each row is validated by full_clean, except that a unique constraint on
  the form and other fields is checked against the form's rows held here:
  only they can clash with it. A form's unique name and slug are checked
  against the run's index of the forms (FormNames), its check constraint
  on numbers in Python; other check constraints still ask the database.
  A new form is validated once, with the file's values: RowWriter's first
  check, with its front matter alone, is made only to word an error;
- bulk writes send no pre_save: it is sent for each row where save()
  would send it, so that its receivers (text stored normalised) apply;
- a row is recorded each time it would have been saved: a new form gets
  its "+" (created from its front matter) and its "~" (given the file's
  text), a row matched twice by one file two records;
- what simple-history records through signals stays row by row, recorded
  by them: synonyms and topics, the citations of a row (m2m_changed), and
  rows deleted (post_delete);
- the revision of a form the file created holds a document assembled from
  the rows written (BulkWriter._document), which must be, and is tested to
  be, what document_build would read back; other forms' documents are
  built by document_build.

``ImportRun`` keeps what a run looked up (topics, citations, the forms by
name, slug and synonym) for the files after: a file that fails or a dry run
takes back what it created. It answers from them what a file would
otherwise ask: whether a new form's slug is a synonym's, and the topics of
a new form's document. ``ImportRun.batch`` commits files a batch at a
time, each file in a savepoint of its own, so that one that fails is rolled
back alone; the historical rows of a batch's kept files are written as it
ends.

A fast batch (the import_monographs command's, unless it publishes, shows
diffs or is a dry run) takes no savepoint per file, and:

- a file that fails before writing anything leaves the batch as it was;
  one that fails after, or a failed insert, rolls the batch back whole, and
  the command imports its files again in a batch with savepoints, so that
  only the bad file is refused. (On PostgreSQL the rolled-back inserts
  used their sequences' numbers: the files imported again get later ids
  than file by file, as a row inserted and rolled back always does there.)
- the rows and first revision of a form a file creates wait (``defer``)
  until ``flush``, which inserts those of all the batch's files so far with
  one bulk_create per model, then their revisions (numbered 1: the form is
  new) with one more, in the files' order, so that ids are numbered as file
  by file. A file that writes anything else (an existing form, cited rows
  or studies) flushes first and writes as it goes.
"""

import datetime
import functools
import operator
import time
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from itertools import count
from types import SimpleNamespace

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models, router, transaction
from django.db.models import Q, Value, signals
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from monographs.documents import document_assemble
from monographs.models import Citation, Evidence, MagnesiumForm, Revision, Synonym
from monographs.prepared import PreparedValues
from monographs.schema import (
    ROW_KINDS,
    TOPIC_FIELDS,
    TOPIC_MODELS,
    citation_fields,
    form_fields,
    row_fields,
)
from monographs.services.importing import (
    NOT_LOOKED_UP,
    form_find,
    form_new,
    form_values,
)
from monographs.services.revisions import records_link, revision_new, revision_record
from monographs.services.writes import (
    _full_clean,
    _held_relations,
    describe_invalid,
    row_upsert,
)


class ImportRun:
    """What one run of the import looked up: topics by slug, citations by
    key, and the forms by name, slug and synonym (``form_by_name``)."""

    # A batch of files is one transaction, each file a savepoint in it:
    # committed after this many files, or this many seconds.
    BATCH_FILES = 50
    BATCH_SECONDS = 2.0

    def __init__(self):
        self._kept = {}
        self._file = {}
        self._names = None
        self._file_forms = []
        # Historical rows of the open batch's kept files, and of this file:
        # [(historical model, [(record, citation links)])].
        self._batch = None
        self._history = []
        self._file_history = []
        # A batch without savepoints (see ``batch``): the writers of the
        # kept files whose rows and revisions wait for ``flush``, and the
        # file's own.
        self.fast = False
        self._pending = []
        self._file_pending = []
        # The names and slugs of the new forms waiting for flush.
        self._pending_names = FormNames()
        # Whether the file wrote to the database (watched in a fast batch):
        # one that failed before it did leaves the batch as it was.
        self.file_wrote = False

    def file_started(self):
        self.file_wrote = False
        self._file = {}
        self._file_forms = []
        self._file_history = []
        self._file_pending = []

    def file_ended(self, *, kept):
        """Keep what the file found or created for later files, or, if the
        file was rolled back, forget it: it may no longer exist."""
        if kept:
            self._kept.update(self._file)
            for form, synonyms in self._file_forms:
                if form.pk is None:
                    # Inserted by flush, and indexed then.
                    self._pending_names.add(form, synonyms, pk=id(form))
                elif self._names is not None:
                    self._names.add(form, synonyms)
            self._history += self._file_history
            self._pending += self._file_pending
        self._file = {}
        self._file_forms = []
        self._file_history = []
        self._file_pending = []

    def get(self, model, key):
        return self._kept.get((model, key)) or self._file.get((model, key))

    def add(self, model, key, instance):
        self._file[model, key] = instance

    def topic_add(self, model, topic):
        """Hold ``topic`` by slug and by id."""
        self.add(model, topic.slug, topic)
        self.add(model, ("pk", topic.pk), topic)

    def form_written(self, form, synonyms):
        """The file wrote ``form`` and created ``synonyms`` (Synonym rows)."""
        self._file_forms.append((form, synonyms))

    def form_names(self):
        """The run's FormNames, read at its first use."""
        if self._names is None:
            self._names = FormNames.read()
        return self._names

    def form_by_name(self, name):
        """What MagnesiumForm.objects.by_name(name) gives, found in an index
        of the forms' names, slugs and synonyms read once per run (and kept
        up to date with what the run's files wrote); the database is asked
        only where the index cannot answer exactly as it would."""
        if self._pending and self._pending_names.match(name) is not None:
            # It may name a form waiting for flush: inserted and indexed first.
            self.flush()
        match = self.form_names().match(name)
        if match is FormNames.ASK:
            return MagnesiumForm.objects.by_name(name)
        if match is None:
            return None
        # Found by id: a form a rolled-back file changed is read afresh.
        form = MagnesiumForm.objects.filter(pk=match).first()
        if form is None:
            return MagnesiumForm.objects.by_name(name)
        return form

    @contextmanager
    def batch(self, *, fast=False):
        """A batch of files in one transaction, each file in a savepoint:
        their historical rows are written together as it ends.

        A ``fast`` batch takes no savepoints: a file that fails dooms the
        whole batch, which the caller then imports again, file by file
        (see the import_monographs command). Its new forms' rows and first
        revisions are inserted a model at a time for all its files
        (``defer``), where a file could be rolled back alone only if each
        were written on its own.
        """
        with transaction.atomic():
            self._batch = _Batch(self.BATCH_FILES, self.BATCH_SECONDS)
            self.fast = fast
            try:
                with connection.execute_wrapper(self._watch) if fast else nullcontext():
                    yield self._batch
                self.flush()
                self._history_write()
            except BaseException:
                # Rolled back: what the batch found or created is gone.
                self._kept = {}
                self._names = None
                raise
            finally:
                self.fast = False
                self._batch = None
                self._history = []
                self._pending = []
                self._pending_names = FormNames()

    def _watch(self, execute, sql, params, many, context):
        """Note a file's first statement that is not a SELECT."""
        if not self.file_wrote and sql.lstrip()[:6].upper() != "SELECT":
            self.file_wrote = True
        return execute(sql, params, many, context)

    def failed_cleanly(self):
        """Whether the fast batch's file that failed left the batch's
        transaction as it was: it wrote nothing, and nothing doomed it."""
        return not self.file_wrote and not connection.needs_rollback

    def pending_clash(self, form):
        """Whether a form waiting for flush has ``form``'s name or slug."""
        values = self._pending_names.form_values
        return form.name in values["name"] or form.slug in values["slug"]

    def defer(self, writer):
        """The file's rows and revision are written by ``flush``."""
        self._file_pending.append(writer)

    def flush(self):
        """Insert the rows and the first revisions of the new forms written
        since the last flush: one bulk_create per model, in the order the
        files came, so that ids are numbered as file by file."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        # What it writes belongs to files already kept, not to the current.
        wrote = self.file_wrote
        try:
            self._flush(pending)
        finally:
            self.file_wrote = wrote

    def _flush(self, pending):
        forms = [writer.form for writer in pending if writer.form.pk is None]
        if forms:
            MagnesiumForm.objects.bulk_create(forms)
            if self._names is not None:
                for form in forms:
                    self._names.add(form, [])
        self._pending_names = FormNames()
        for kind in ROW_KINDS:
            rows = [row for writer in pending for row in writer.deferred(kind.model)]
            if rows:
                kind.model.objects.bulk_create(rows)
        revisions = [writer.revision_new() for writer in pending]
        _bulk_insert(Revision, revisions)
        for writer, revision in zip(pending, revisions, strict=True):
            writer.revision_written(revision)
            self._history += writer.history_records(revision)

    def history_add(self, records):
        """The historical rows of the file's bulk writes: written with the
        rest of the batch's if the file is kept, at once outside a batch."""
        if self._batch is None:
            _history_insert(records)
        else:
            self._file_history += records

    def _history_write(self):
        _history_insert(self._history)
        self._history = []


def _bulk_insert(model, rows, field="document"):
    """model.objects.bulk_create(rows), the value of ``field`` of each row
    sent as an expression: Django then inserts a list of rows (VALUES)
    rather than an array per column (UNNEST), which psycopg escapes element
    by element in Python. A revision's document has a quote to escape at
    every key: inserting twenty took three times as long (measured on
    PostgreSQL)."""
    model_field = model._meta.get_field(field)
    values = [getattr(row, model_field.attname) for row in rows]
    for row, value in zip(rows, values, strict=True):
        setattr(row, model_field.attname, Value(value, output_field=model_field))
    try:
        model.objects.bulk_create(rows)
    finally:
        for row, value in zip(rows, values, strict=True):
            setattr(row, model_field.attname, value)


class _Batch:
    def __init__(self, files, seconds):
        self.files = files
        self.until = time.monotonic() + seconds
        self.done = 0

    def full(self):
        """Count a file; True once the batch should be committed."""
        self.done += 1
        return self.done >= self.files or time.monotonic() >= self.until


def _history_insert(records):
    """Insert historical rows, [(record, citation links)], in one bulk_create
    per table, and the citations each had."""
    by_model = {}
    for record, links in records:
        by_model.setdefault(type(record), []).append((record, links))
    for history, rows in by_model.items():
        history.objects.bulk_create([record for record, _ in rows])
        for field in history._history_m2m_fields:
            # A record keeps the citations its row had, as
            # simple-history's create_historical_record_m2ms does.
            m2m_history = HistoricalRecords.m2m_models[field]
            column = field.m2m_field_name()
            m2m_history.objects.bulk_create(
                m2m_history(
                    history=record,
                    id=link,
                    **{f"{column}_id": record.id, "citation_id": citation},
                )
                for record, links in rows
                for link, citation in links
            )


class FormNames:
    """The forms' names, slugs and synonyms, to match a name as
    MagnesiumFormQuerySet.by_name does: a form whose name or a synonym's name
    equals it ignoring case, or whose slug or a synonym's slug is one of its
    candidate slugs.

    ``match`` gives a form id, None, or ASK where only the database can say
    (several forms match, and which is first is the database's collation's
    choice; or a name's case folding is not plain ASCII)."""

    ASK = object()

    def __init__(self):
        self.names = {}  # {lowercased ASCII name: {form id}}
        self.slugs = {}  # {slug: {form id}}
        self.unusual = []  # non-ASCII names: [(name, form id)]
        self.synonym_slugs = set()
        # The forms' own names and slugs, as stored: {value: {form id}}.
        self.form_values = {"name": {}, "slug": {}}

    @classmethod
    def read(cls):
        names = cls()
        for pk, name, slug in MagnesiumForm.objects.values_list("pk", "name", "slug"):
            names._add(pk, name, slug, form=True)
        for form_id, name, slug in Synonym.objects.values_list(
            "form_id", "name", "slug"
        ):
            names._add(form_id, name, slug)
        return names

    def add(self, form, synonyms, *, pk=None):
        """Index ``form`` and its ``synonyms``, under ``pk`` if given."""
        pk = form.pk if pk is None else pk
        self._add(pk, form.name, form.slug, form=True)
        for synonym in synonyms:
            self._add(pk, synonym.name, synonym.slug)

    def _add(self, pk, name, slug, *, form=False):
        if form:
            self.form_values["name"].setdefault(name, set()).add(pk)
            self.form_values["slug"].setdefault(slug, set()).add(pk)
        else:
            self.synonym_slugs.add(slug)
        self.slugs.setdefault(slug, set()).add(pk)
        if name.isascii():
            self.names.setdefault(name.lower(), set()).add(pk)
        else:
            self.unusual.append((name, pk))

    def match(self, name):
        slug = slugify(name)
        name = name.strip()
        if not name.isascii():
            return self.ASK
        folded = {name.lower(), name.upper(), name.casefold()}
        if any(
            {other.lower(), other.upper(), other.casefold()} & folded
            for other, _ in self.unusual
        ):
            return self.ASK
        found = set(self.names.get(name.lower(), ()))
        for candidate in {slug, slug.removeprefix("magnesium-"), f"magnesium-{slug}"}:
            found |= self.slugs.get(candidate, set())
        if len(found) > 1:
            return self.ASK
        return next(iter(found), None)

    def constraints_validate(self, form, *, exclude):
        """MagnesiumForm.validate_constraints for ``form``, its unique name
        and slug checked against the forms held here, a check constraint on
        numbers evaluated in Python; the same errors in the same shape."""

        def validate(constraint, model, instance, exclude):
            if isinstance(constraint, models.UniqueConstraint) and (
                len(constraint.fields) == 1
                and constraint.fields[0] in self.form_values
                and not constraint.condition
                and not constraint.expressions
                and not constraint.include
            ):
                name = constraint.fields[0]
                value = getattr(instance, name)
                siblings = [
                    SimpleNamespace(pk=pk, **{name: value})
                    for pk in self.form_values[name].get(value, ())
                ]
                _unique_validate(constraint, model, instance, siblings, exclude)
            elif not (
                isinstance(constraint, models.CheckConstraint)
                and _check_validate(constraint, instance, exclude)
            ):
                constraint.validate(model, instance, exclude=exclude)

        _validate_constraints(form, exclude=exclude, validate=validate)


class BulkWriter:
    """Writes a file's rows a kind at a time; see the module's docstring."""

    def __init__(self, counts, *, run, reason, user):
        self.counts = counts
        self.run = run
        self.reason = reason
        self.user = user
        # {model: [the form's rows, as they stand in this transaction]}
        self.rows = {}
        # {model: {row id: [(through row id, citation id)]}}
        self.links = {}
        # (instance, history type, field values, citation links) per save.
        self.records = []
        self.form_created = False
        # The synonyms the file created, and, where the writer records the
        # file's revision itself, (its document, the signals' records).
        self.synonyms = []
        self._revision = None
        self._order = count()
        # Where the file's new rows and revision wait for ImportRun.flush:
        # {model: [rows]}, or None where they are written as they come.
        self._deferred = None
        self._signal_records = []
        self.form = None
        self.result = None

    # What _apply_import asks of a writer.

    def form_write(self, parsed, *, title_match=NOT_LOOKED_UP):
        form = form_find(parsed, title_match=title_match, by_name=self.run.form_by_name)
        self.form_created = created = form is None
        # The form's unique name and slug are checked against the run's
        # index of the forms, not asked of the database.
        constraints_validate = self.run.form_names().constraints_validate
        if created:
            form = form_new(parsed, validate=False)
            self._record(form, "+")
            # MagnesiumForm.clean checks its slug against the synonyms' slugs
            # the run holds rather than asking.
            form._synonym_slugs = self.run.form_names().synonym_slugs
        self.form = form
        changed = _values_set(form, form_values(parsed))
        if self.run.fast:
            if created and _deferrable(parsed, form):
                # Inserted with its rows by ImportRun.flush. A form waiting
                # there whose name or slug it takes is inserted first, for
                # the unique checks to see it.
                self._deferred = {}
                if self.run.pending_clash(form):
                    self.run.flush()
            else:
                # This file's rows and revision are written as they come:
                # after those of the files before it, numbered as file by file.
                self.run.flush()
        if created or changed:
            # RowWriter validates a new form twice: with its front matter,
            # then with the file's values too. The second check sees the
            # same front matter (the values set back as the file gives
            # them) and fields that may be blank: it fails wherever the
            # first does, so it is made alone, and the first only to say
            # what RowWriter would say when it fails.
            try:
                _full_clean(
                    form,
                    held=[],
                    validate_constraints=functools.partial(constraints_validate, form),
                )
            except ValidationError as error:
                if created:
                    form_new(parsed, constraints_validate=constraints_validate)
                raise ValidationError(describe_invalid(form, error)) from None
            finally:
                form.__dict__.pop("_synonym_slugs", None)
            if changed:
                self._record(form, "~")
        if (created or changed) and not (created and self.deferring):
            # Its history is written with the rest of the file's.
            form.skip_history_when_saving = True
            try:
                form.save()
            finally:
                del form.skip_history_when_saving
        self._count(created, bool(changed))
        return form, created

    def synonyms_written(self, form, synonyms):
        self.synonyms = list(synonyms)
        self.run.form_written(form, synonyms)

    def topic_get(self, model, slug, name):
        topic = self.run.get(model, slug)
        if topic is None:
            topic = model.objects.filter(slug=slug).first() or row_upsert(
                model, {"slug": slug}, {"name": name}, self.counts
            )
            self.run.topic_add(model, topic)
        return topic

    def citations_get(self, keys):
        found = {key: self.run.get(Citation, key) for key in keys}
        missing = [key for key, citation in found.items() if citation is None]
        if missing:
            for citation in Citation.objects.filter(key__in=missing):
                self.run.add(Citation, citation.key, citation)
                found[citation.key] = citation
        return [citation for citation in found.values() if citation is not None]

    def row_find(self, model, form, **lookup):
        return _first(self._rows(model, form), model, lookup)

    def evidence_find(self, form, slug):
        return next(
            (row for row in self._rows(Evidence, form) if row.indication.slug == slug),
            None,
        )

    def rows_replace(self, model, form, wanted):
        """Make ``form``'s rows of ``model`` exactly ``wanted``, in that order,
        as RowWriter.rows_replace does, in a few queries."""
        rows = self._rows(model, form)
        ordered = hasattr(model, "position")
        if ordered:
            existing = [
                getattr(_first(rows, model, lookup), "position", None)
                for lookup, *_ in wanted
            ]
            renumber = None in existing or existing != sorted(existing)
        kept, created, updated, cited = [], [], {}, []
        for position, (lookup, values, *citations) in enumerate(wanted):
            if ordered and renumber:
                values = {**values, "position": position}
            row = _first(rows, model, lookup)
            is_new = row is None
            if is_new:
                row = model(form=form, **lookup, **values)
                row._import_order = next(self._order)
                links = []
            else:
                links = self.links.get(model, {}).get(row.pk, [])
            changed = [] if is_new else _values_set(row, values)
            if is_new or changed:
                held = _held_relations(row, {"form": form, **lookup}, values)
                if form.pk is None:
                    held.append("form")  # valid, and inserted by flush
                try:
                    _full_clean(
                        row,
                        held=held,
                        validate_constraints=lambda exclude, row=row: (
                            _constraints_validate(row, rows, exclude=exclude)
                        ),
                    )
                except ValidationError as error:
                    raise ValidationError(describe_invalid(row, error)) from None
                self._record(row, "+" if is_new else "~", links)
                if is_new:
                    rows.append(row)
                    created.append(row)
                elif row.pk is not None:
                    updated.setdefault(id(row), (row, set()))[1].update(changed)
                if ordered:
                    rows.sort(key=_position_order)
            citation_change = False
            if citations and citations[0] is not None:
                wanted_ids = {citation.pk for citation in citations[0]}
                if wanted_ids != {citation for _, citation in links}:
                    cited.append((row, wanted_ids))
                    citation_change = True
            self._count(is_new, bool(changed) or citation_change)
            kept.append(row)
        # Rows this file created are inserted once, with their last values:
        # now, or with the batch's (ImportRun.flush).
        if created and self._deferred is not None:
            self._deferred.setdefault(model, []).extend(created)
        elif created:
            model.objects.bulk_create(created)
        if updated:
            fields = sorted({name for _, names in updated.values() for name in names})
            model.objects.bulk_update([row for row, _ in updated.values()], fields)
        for row, wanted_ids in cited:
            # Recorded by simple-history's m2m_changed, as RowWriter's are.
            row.citations.set(wanted_ids)
            row._import_citations = sorted(wanted_ids)
        for row in [row for row in rows if all(row is not k for k in kept)]:
            row.delete()
            rows.remove(row)

    # Finishing the file.

    def finish(self, context, form):
        """Run inside the change context, before it ends: a file that wrote
        rows gets a revision even if no signal recorded any. The revision
        of a form the file created is recorded by ``revision_write``, from
        the rows held here, rather than by the context."""
        if not self.records:
            return
        if self._deferred is not None:
            self._signal_records = context.records.pop(form.pk, [])
            self.run.defer(self)
            return
        document = self._document(form)
        if document is None:
            context.records.setdefault(form.pk, [])
        else:
            self._revision = (document, context.records.pop(form.pk, []))

    def revision_write(self, context, form):
        """After the change context: record the revision of a form the file
        created, as revisions_record would, with the document built here.
        Nobody else sees the new form yet: no lock is needed to number it."""
        if self._revision is None:
            return
        document, records = self._revision
        revision = revision_record(
            form_id=form.pk,
            user=self.user,
            summary=self.reason,
            document=document,
            # In a fast batch the new form's first revision is numbered
            # without asking; were the id reused, the unique number would
            # fail the batch, imported again with savepoints, and asking.
            **({"latest": None} if self.run.fast else {}),
        )
        records_link(records, revision)
        if revision is not None:
            context.revisions[form.pk] = revision

    @property
    def deferring(self):
        """The file's rows and revision wait for ImportRun.flush."""
        return self._deferred is not None

    def deferred(self, model):
        """The file's new rows of ``model`` that wait for ImportRun.flush."""
        return self._deferred.get(model, [])

    def revision_new(self):
        """The unsaved first revision of the form this file created, once
        ImportRun.flush inserted its rows."""
        revision = revision_new(
            form_id=self.form.pk,
            user=self.user,
            summary=self.reason,
            # None (a value _document cannot tell): read back by document_build.
            document=self._document(self.form),
            latest=None,
        )
        assert revision is not None, "a new form's document is never empty"
        return revision

    def revision_written(self, revision):
        """ImportRun.flush inserted ``revision``: link what the signals
        recorded (synonyms) to it, as revision_write does."""
        records_link(self._signal_records, revision)
        if self.result is not None:
            self.result.revision = revision

    def _document(self, form):
        """What document_build(form.pk) gives, from the rows written, for a
        form this file created (all its rows are here); None for any other,
        or where a value is not one whose stored form is known here."""
        if not self.form_created or form.pk is None:
            return None
        try:
            values = {
                "id": form.pk,
                **{name: _stored(MagnesiumForm, form, name) for name in form_fields()},
            }
            rows = {}
            for kind in ROW_KINDS:
                model = kind.model
                held = self.synonyms if model is Synonym else self.rows.get(model, [])
                names = row_fields(kind.name)
                kind_rows = []
                for row in held:
                    if row.pk is None or row.form_id != form.pk:
                        return None
                    document_row = {"id": row.pk}
                    for name in names:
                        document_row[name] = _stored(model, row, name)
                    if kind.cites:
                        document_row["citations"] = list(
                            getattr(row, "_import_citations", [])
                        )
                    kind_rows.append(document_row)
                rows[kind.name] = kind_rows
        except _NotKnown:
            return None

        def citations(ids, keys):
            # As document_build reads them: by id or by key, each once.
            found = {}
            for query, values in [
                (_prepared("Citation", "pk", citation_fields()), sorted(ids)),
                (_prepared("Citation", "key", citation_fields()), sorted(keys)),
            ]:
                for citation in query.run(values):
                    found.setdefault(citation["id"], citation)
            return list(found.values())

        def topics(name, ids):
            # The run holds the topics its files found or created.
            model = apps.get_model("monographs", TOPIC_MODELS[name])
            held = [self.run.get(model, ("pk", pk)) for pk in sorted(ids)]
            if all(topic is not None for topic in held):
                try:
                    return [
                        {
                            "id": topic.pk,
                            **{f: _stored(model, topic, f) for f in TOPIC_FIELDS},
                        }
                        for topic in held
                    ]
                except _NotKnown:
                    pass
            return _prepared(TOPIC_MODELS[name], "pk", TOPIC_FIELDS).run(sorted(ids))

        return document_assemble(values, rows, citations, topics)

    def history_write(self, revision):
        """Insert the historical rows of the bulk writes, linked to
        ``revision``; none if the file changed nothing (as revisions_record
        drops the historical rows of a write that changed nothing)."""
        if revision is not None:
            self.run.history_add(self.history_records(revision))

    def history_records(self, revision):
        """The historical rows of the bulk writes, linked to ``revision``."""
        date = timezone.now()
        records = []
        for instance, history_type, values, links in self.records:
            history = _history_model(type(instance))
            record = history(
                history_date=date,
                history_user=self.user,
                history_change_reason=self.reason,
                history_type=history_type,
                revision=revision,
                **{
                    **{
                        name: value.pk if isinstance(value, _Later) else value
                        for name, value in values.items()
                    },
                    "id": instance.pk,
                },
            )
            records.append((record, links))
        return records

    # Helpers.

    def _rows(self, model, form):
        """The form's rows of ``model``, read once per file."""
        if model not in self.rows:
            if self.form_created or form.pk is None:
                rows = []
            else:
                queryset = model.objects.filter(form=form)
                topic = _topic_field(model)
                if topic:
                    queryset = queryset.select_related(topic)
                rows = list(queryset)
                for row in rows:
                    row._import_order = -1
            if hasattr(model, "position"):
                rows.sort(key=_position_order)
            self.rows[model] = rows
            if rows and "citations" in {f.name for f in model._meta.many_to_many}:
                through = model.citations.through
                column = f"{model.citations.field.m2m_field_name()}_id"
                links = {}
                for link, row_id, citation in (
                    through.objects.filter(**{f"{column}__in": [r.pk for r in rows]})
                    .order_by("pk")
                    .values_list("pk", column, "citation_id")
                ):
                    links.setdefault(row_id, []).append((link, citation))
                self.links[model] = links
        return self.rows[model]

    def _record(self, instance, history_type, links=()):
        """Note a save of ``instance``: its values as they are stored."""
        # bulk_create and bulk_update send no pre_save; its receivers
        # (content text is stored normalised) change what save() would store.
        model = type(instance)
        signals.pre_save.send(
            sender=model,
            instance=instance,
            raw=False,
            using=router.db_for_write(model, instance=instance),
            update_fields=None,
        )
        history = _history_model(model)
        values = {
            field.attname: _value_or_later(instance, field.attname)
            for field in history.tracked_fields
        }
        self.records.append((instance, history_type, values, list(links)))

    def _count(self, created, changed):
        if created:
            self.counts.created += 1
        elif changed:
            self.counts.updated += 1
        else:
            self.counts.unchanged += 1


def _deferrable(parsed, form):
    """Whether a new form and its rows can wait for the batch's flush: not
    if the file gives it synonyms (a Synonym row is saved at once, naming
    its form's id), a row cites (its citations are set, and recorded by
    simple-history's signals, once it has an id) or the file has studies
    (a study's use must have its id when the study is validated)."""
    if parsed.studies:
        return False
    if any(
        # As _synonyms_write skips a name.
        name.lower() != form.name.lower() and slugify(name) != form.slug
        for name in [*parsed.synonyms, parsed.title]
    ):
        return False
    return not any(
        row.get("citations")
        for name in ("doses", "interactions", "evidence")
        for row in getattr(parsed, name) or ()
    )


class _Later:
    """A foreign key to a row inserted later (a form ImportRun.flush
    inserts): its id once it has one."""

    def __init__(self, related):
        self.related = related

    @property
    def pk(self):
        return self.related.pk


def _value_or_later(instance, attname):
    """getattr(instance, attname), or for a foreign key to an object not
    inserted yet, a _Later for it."""
    value = getattr(instance, attname)
    if value is None:
        field = _foreign_keys(type(instance)).get(attname)
        related = field.get_cached_value(instance, None) if field else None
        if related is not None and related.pk is None:
            return _Later(related)
    return value


@functools.cache
def _foreign_keys(model):
    """{attname: field} of the model's foreign keys."""
    return {
        field.attname: field
        for field in model._meta.concrete_fields
        if field.is_relation and field.many_to_one
    }


def _values_set(instance, values):
    """Give ``instance`` the ``values``; the names of those that changed, as
    row_upsert compares them."""
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


@functools.cache
def _history_model(model):
    """model.history.model: the manager is built anew on every access."""
    return model.history.model


@functools.cache
def _topic_field(model):
    for name in ("side_effect", "indication"):
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        return name
    return None


def _position_order(row):
    """Meta.ordering of ordered rows, ("position", "pk"); rows not yet
    inserted come after the others, in the order they were made."""
    if row.pk is not None:
        return (row.position, 0, row.pk)
    return (row.position, 1, row._import_order)


def _matches(row, model, lookup):
    for name, value in lookup.items():
        field = model._meta.get_field(name)
        if field.is_relation:
            if getattr(row, field.attname) != getattr(value, "pk", value):
                return False
        elif getattr(row, name) != value:
            return False
    return True


def _first(rows, model, lookup):
    """What model.objects.filter(form=form, **lookup).first() gives."""
    return next((row for row in rows if _matches(row, model, lookup)), None)


def _scoped_to_form(constraint):
    """A unique constraint on the form and other fields: only the form's own
    rows can clash with it."""
    return (
        isinstance(constraint, models.UniqueConstraint)
        and "form" in constraint.fields
        and not constraint.condition
        and not constraint.expressions
        and not constraint.include
        and constraint.nulls_distinct is not False
    )


def _constraints_validate(instance, siblings, *, exclude):
    """Model.validate_constraints, checking the unique constraints scoped to
    the form against ``siblings`` (the form's rows of the kind) rather than
    asking the database; the same errors in the same shape."""

    def validate(constraint, model, instance, exclude):
        if _scoped_to_form(constraint):
            # The siblings are the form's: they share it, inserted or not.
            _unique_validate(
                constraint, model, instance, siblings, exclude, shared=("form",)
            )
        else:
            constraint.validate(model, instance, exclude=exclude)

    _validate_constraints(instance, exclude=exclude, validate=validate)


def _validate_constraints(instance, *, exclude, validate):
    """Model.validate_constraints, each constraint checked by ``validate``."""
    errors = {}
    for model_class, constraints in instance.get_constraints():
        for constraint in constraints:
            try:
                validate(constraint, model_class, instance, exclude)
            except ValidationError as error:
                if (
                    getattr(error, "code", None) == "unique"
                    and len(constraint.fields) == 1
                ):
                    errors.setdefault(constraint.fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _unique_validate(constraint, model, instance, siblings, exclude, shared=()):
    """UniqueConstraint.validate for a constraint without condition or
    expressions, against ``siblings``, which hold the same value as
    ``instance`` in the fields ``shared`` (its form, which may not be
    inserted yet)."""
    if exclude and any(name in exclude for name in constraint.fields):
        return
    attnames = [
        model._meta.get_field(name).attname
        for name in constraint.fields
        if name not in shared
    ]
    values = [getattr(instance, attname) for attname in attnames]
    if any(value is None for value in values):
        return
    clash = any(
        other is not instance
        and (other.pk is None or other.pk != instance.pk)
        and [getattr(other, attname) for attname in attnames] == values
        for other in siblings
    )
    if not clash:
        return
    if constraint.violation_error_message == constraint.default_violation_error_message:
        message = instance.unique_error_message(model, constraint.fields)
        raise ValidationError(message, code=message.code)
    raise ValidationError(
        constraint.get_violation_error_message(), code=constraint.violation_error_code
    )


# The lookups _check_validate evaluates, as SQL compares two numbers.
_COMPARISONS = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _check_validate(constraint, instance, exclude):
    """CheckConstraint.validate without a query, for a condition that ANDs
    comparisons of the model's number fields with numbers; False (nothing
    decided) for any other, which the database is then asked."""
    condition = constraint.condition
    checks = []

    def simple(q):
        if not isinstance(q, Q) or q.negated or q.connector != Q.AND:
            return False
        for child in q.children:
            if isinstance(child, Q):
                if not simple(child):
                    return False
                continue
            lookup, value = child
            name, _, comparison = lookup.partition("__")
            if comparison not in _COMPARISONS or "__" in comparison:
                return False
            if not isinstance(value, int | Decimal) or isinstance(value, bool):
                return False
            try:
                field = instance._meta.get_field(name)
            except FieldDoesNotExist:
                return False
            if field.is_relation or not field.concrete:
                return False
            checks.append((field, _COMPARISONS[comparison], value))
        return True

    if not simple(condition):
        return False
    if exclude and any(field.name in exclude for field, _, _ in checks):
        return True  # as CheckConstraint.validate: a field that failed
    values = []
    for field, compare, value in checks:
        held = getattr(instance, field.attname)
        if not isinstance(held, int | Decimal) or isinstance(held, bool):
            return False  # None, or not a number: the database decides
        values.append(compare(held, value))
    if not all(values):
        raise ValidationError(
            constraint.get_violation_error_message(),
            code=constraint.violation_error_code,
        )
    return True


@functools.cache
def _prepared(model_name, lookup, fields):
    """The values of ``fields`` of the rows of ``model_name`` whose
    ``lookup`` is in a list, compiled once per length of list."""
    model = apps.get_model("monographs", model_name)
    return PreparedValues(
        lambda values: (
            model.objects.filter(**{f"{lookup}__in": values})
            .order_by()
            .values("id", *fields)
        ),
        many=True,
    )


class _NotKnown(Exception):
    """A value whose stored form _stored cannot tell."""


def _stored(model, instance, name):
    """The value of field ``name`` of ``instance`` as the database gives it
    back once saved: a decimal to its places; for a value of another type
    than its field's, _NotKnown."""
    field = model._meta.get_field(name)
    value = getattr(instance, field.attname)
    if value is None:
        return None
    if field.is_relation:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(field, models.DecimalField):
        if isinstance(value, Decimal) and value.is_finite():
            return value.quantize(Decimal(1).scaleb(-field.decimal_places))
    elif isinstance(field, models.BooleanField):
        if isinstance(value, bool):
            return value
    elif isinstance(field, models.IntegerField):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(field, models.DateTimeField):
        pass
    elif isinstance(field, models.DateField):
        if isinstance(value, datetime.date) and not isinstance(
            value, datetime.datetime
        ):
            return value
    elif isinstance(field, models.CharField | models.TextField) and isinstance(
        value, str
    ):
        return value
    raise _NotKnown(name)
