"""
Importing monograph files: each file is one transaction (a savepoint in a
folder's batch, or part of a fast batch imported again with savepoints if
one of its files fails, see importing_bulk.ImportRun.batch) and one
revision.
"""

import contextlib
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from monographs.diffs import compare
from monographs.documents import document_load
from monographs.history import change_context
from monographs.importer import ImportProblem, other_sections_markdown
from monographs.models import (
    FAQ,
    Citation,
    Dose,
    Evidence,
    FormSideEffect,
    Indication,
    Interaction,
    MagnesiumForm,
    Precaution,
    Publication,
    Revision,
    SideEffect,
    Study,
    Synonym,
)
from monographs.services.workflow import latest_revision, monograph_approve
from monographs.services.writes import (
    WriteCounts,
    _full_clean,
    describe_invalid,
    row_upsert,
)


@dataclass
class ImportResult:
    form: object
    status: str  # "created", "updated" or "unchanged"
    diff: object = None
    revision: object = None


# ``title_match`` of a file whose title was not looked up yet.
NOT_LOOKED_UP = object()


def form_find(parsed, *, title_match=NOT_LOOKED_UP, by_name=None):
    """The form the file describes, found by its title or a synonym, or None.

    ``title_match`` is what MagnesiumForm.objects.by_name(parsed.title) gave,
    if the caller asked already (the command does, to refuse two files of
    one monograph): the same name is not asked twice. ``by_name`` answers
    as by_name does (a run's index of names, ImportRun.form_by_name).
    """
    by_name = by_name or MagnesiumForm.objects.by_name
    names = list(dict.fromkeys([parsed.title, *parsed.synonyms]))
    if title_match is not NOT_LOOKED_UP:
        if title_match is not None:
            return title_match
        names.remove(parsed.title)
    for name in names:
        form = by_name(name)
        if form is not None:
            return form
    return None


def form_new(parsed, *, constraints_validate=None, validate=True):
    """An unsaved, validated form for a file that names none: from its title
    and front matter, which must give what a form cannot be without.

    ``constraints_validate(form, exclude=...)``, if given, checks the form's
    constraints in place of its own method (a run's index of the forms).
    Not validated if not ``validate`` (the caller validates it later)."""
    missing = [
        name
        for name in ("category", "elemental_mg_percent")
        if name not in parsed.facts
    ]
    if missing:
        raise ImportProblem(
            parsed.path,
            None,
            f"no form is called '{parsed.title}'; to create it, give "
            f"{' and '.join(missing)} in the front matter",
        )
    form = MagnesiumForm(
        name=parsed.title, slug=slugify(parsed.title), **_facts(parsed)
    )
    if not validate:
        return form
    try:
        if constraints_validate is None:
            form.full_clean()
        else:
            # What full_clean does, its constraints checked as asked.
            _full_clean(
                form,
                held=[],
                validate_constraints=functools.partial(constraints_validate, form),
            )
    except ValidationError as error:
        raise ValidationError(describe_invalid(form, error)) from None
    return form


def form_values(parsed):
    """The form's fields as the file gives them."""
    values = {**_facts(parsed), **parsed.fields}
    if parsed.other:
        values["other_sections"] = other_sections_markdown(parsed)
    return values


def _facts(parsed):
    facts = {name: str(value) for name, value in parsed.facts.items()}
    if "elemental_mg_percent" in facts:
        try:
            facts["elemental_mg_percent"] = Decimal(facts["elemental_mg_percent"])
        except ArithmeticError:
            raise ImportProblem(
                parsed.path,
                None,
                "elemental_mg_percent in the front matter must be a number, "
                f"not '{facts['elemental_mg_percent']}'",
            ) from None
    return facts


class RowWriter:
    """Writes a file row by row: each row looked up, validated and saved on
    its own, its history recorded by simple-history's signals."""

    def __init__(self, counts):
        self.counts = counts

    def form_write(self, parsed, *, title_match=NOT_LOOKED_UP):
        """(form, created): the file's form, holding the file's values."""
        form = form_find(parsed, title_match=title_match)
        created = form is None
        if created:
            form = form_new(parsed)
            form.save()
        row_upsert(MagnesiumForm, {"pk": form.pk}, form_values(parsed), self.counts)
        return form, created

    def synonyms_written(self, form, synonyms):
        """The file gave ``form`` the ``synonyms`` (new Synonym rows)."""

    def topic_get(self, model, slug, name):
        """The topic (a side effect, a use) with ``slug``, created if missing."""
        return model.objects.filter(slug=slug).first() or row_upsert(
            model, {"slug": slug}, {"name": name}, self.counts
        )

    def citations_get(self, keys):
        return list(Citation.objects.filter(key__in=keys))

    def row_find(self, model, form, **lookup):
        """The form's first row of ``model`` matching ``lookup``, or None."""
        return model.objects.filter(form=form, **lookup).first()

    def evidence_find(self, form, slug):
        """The form's evidence for the use ``slug``, or None."""
        return Evidence.objects.filter(form=form, indication__slug=slug).first()

    def rows_replace(self, model, form, wanted):
        """Make ``form``'s rows of ``model`` exactly ``wanted``, in that order.

        ``wanted`` holds (lookup, values) or (lookup, values, citations).
        """
        ordered = hasattr(model, "position")
        if ordered:
            existing = [
                model.objects.filter(form=form, **lookup)
                .values_list("position", flat=True)
                .first()
                for lookup, *_ in wanted
            ]
            # Positions already in the file's order are left alone, so that an
            # unchanged file records no change.
            renumber = None in existing or existing != sorted(existing)
        kept = []
        for position, (lookup, values, *citations) in enumerate(wanted):
            if ordered and renumber:
                values = {**values, "position": position}
            row = row_upsert(
                model,
                {"form": form, **lookup},
                values,
                self.counts,
                citations=citations[0] if citations else None,
            )
            kept.append(row.pk)
        for row in model.objects.filter(form=form).exclude(pk__in=kept):
            row.delete()


def _synonyms_write(parsed, form, counts):
    """Add the file's names the form lacks as synonyms; the new ones."""
    created = []
    for name in parsed.synonyms + [parsed.title]:
        slug = slugify(name)
        if name.lower() == form.name.lower() or slug == form.slug:
            continue
        owner = Synonym.objects.filter(slug=slug).exclude(form=form).first()
        if owner is not None:
            parsed.warnings.append(
                f"{parsed.path}: '{name}' is already a synonym of {owner.form}; not added"
            )
            continue
        if not Synonym.objects.filter(slug=slug).exists():
            created.append(
                row_upsert(
                    Synonym, {"slug": slug}, {"form": form, "name": name}, counts
                )
            )
    return created


def _apply_import(parsed, writer, *, title_match=NOT_LOOKED_UP):
    form, created = writer.form_write(parsed, title_match=title_match)
    writer.synonyms_written(form, _synonyms_write(parsed, form, writer.counts))
    if parsed.side_effects is not None:
        wanted = []
        for effect, note in parsed.side_effects:
            side_effect = writer.topic_get(
                SideEffect, slugify(effect.name), effect.name
            )
            seriousness = (
                FormSideEffect.Seriousness.SEEK_ATTENTION
                if effect.serious
                else FormSideEffect.Seriousness.MILD
            )
            existing = writer.row_find(
                FormSideEffect, form, side_effect=side_effect, seriousness=seriousness
            )
            # The file's two lists say how serious, not how frequent: keep an
            # editor's frequency, else assume the lists' usual wording.
            frequency = (
                existing.frequency
                if existing
                else FormSideEffect.Frequency.UNCOMMON
                if effect.serious
                else FormSideEffect.Frequency.COMMON
            )
            wanted.append(
                (
                    {"side_effect": side_effect},
                    {"frequency": frequency, "seriousness": seriousness, "notes": note},
                )
            )
        writer.rows_replace(FormSideEffect, form, wanted)
    if parsed.precautions is not None:
        writer.rows_replace(
            Precaution,
            form,
            [({"label": label}, {"text": text}) for label, text in parsed.precautions],
        )
    for name, model, key, build in [
        ("doses", Dose, ("population", "purpose"), _dose_values),
        ("interactions", Interaction, ("drug_class",), _interaction_values),
        ("evidence", Evidence, ("indication",), _evidence_values),
        # After the uses: a study names the use it belongs to.
        ("studies", Study, ("evidence", "name", "outcome"), _study_values),
    ]:
        rows = getattr(parsed, name)
        if rows is None:
            continue
        wanted = []
        for row in rows:
            values = build(row, writer, form=form, parsed=parsed)
            lookup = {field: values.pop(field) for field in key}
            wanted.append((lookup, values, _cited(parsed, row, writer)))
        writer.rows_replace(model, form, wanted)
    if parsed.faqs is not None:
        writer.rows_replace(
            FAQ,
            form,
            [
                ({"question": question}, {"answer": answer})
                for question, answer in parsed.faqs
            ],
        )
    return form, created


def _cited(parsed, row, writer):
    keys = row.get("citations") or []
    citations = writer.citations_get(keys)
    unknown = set(keys) - {citation.key for citation in citations}
    if unknown:
        raise ImportProblem(
            parsed.path, None, f"unknown citation key(s): {', '.join(sorted(unknown))}"
        )
    return citations


def _typed(model, row, names):
    """The values of ``names`` the row gives, as the model's fields hold them
    (a Decimal, a date…); a value a field cannot take names the field."""
    values = {}
    for name in names:
        if name not in row:
            continue
        field = model._meta.get_field(name)
        raw = row[name]
        if raw is None:
            values[name] = None if field.null else ""
            continue
        if isinstance(field, models.CharField | models.TextField):
            raw = str(raw)
        try:
            values[name] = field.to_python(raw)
        except ValidationError as error:
            raise ValidationError(
                f"{model._meta.verbose_name} '{name}': {'; '.join(error.messages)}"
            ) from None
    return values


def _dose_values(row, writer, **kwargs):
    return {
        **_typed(Dose, row, ("age_band", "life_stage", "route")),
        "population": str(row.get("population", "")),
        "purpose": str(row.get("purpose", "")),
        "minimum_mg": row.get("minimum_mg"),
        "maximum_mg": row.get("maximum_mg"),
        "timing": str(row.get("timing", "")),
        "notes": str(row.get("notes", "")),
        "exceeds_ul_acknowledged": bool(row.get("exceeds_ul_acknowledged", False)),
    }


def _interaction_values(row, writer, **kwargs):
    return {
        "drug_class": str(row.get("drug_class", "")),
        "examples": str(row.get("examples", "")),
        "significance": str(row.get("significance", "")),
        "mechanism": str(row.get("mechanism", "")),
        "management": str(row.get("management", "")),
    }


def _evidence_values(row, writer, **kwargs):
    name = str(row.get("indication", "")).strip()
    indication = writer.topic_get(Indication, slugify(name), name)
    return {
        "indication": indication,
        "direction": str(row.get("direction", "")),
        "certainty": str(row.get("certainty", "")),
        **_typed(Evidence, row, EVIDENCE_RATING_FIELDS),
        "summary": str(row.get("summary", "")),
    }


# Every field of a study but its form, use and citations.
STUDY_FIELDS = tuple(
    field.name
    for field in Study._meta.concrete_fields
    if field.name not in ("id", "form", "evidence", "position")
)
EVIDENCE_RATING_FIELDS = (
    "outcome",
    *(name for pair in Evidence.DOMAINS for name in pair),
    "rated_by",
    "rated_on",
)


def _study_values(row, writer, *, form, parsed):
    use = str(row.get("evidence", "")).strip()
    evidence = writer.evidence_find(form, slugify(use))
    if evidence is None:
        raise ImportProblem(
            parsed.path,
            None,
            f"study '{row.get('name', '')}' belongs to the use '{use}', which "
            "the file's evidence does not list",
        )
    return {
        "evidence": evidence,
        "name": str(row.get("name", "")),
        "outcome": str(row.get("outcome", "")),
        **_typed(Study, row, [n for n in STUDY_FIELDS if n not in ("name", "outcome")]),
    }


def monograph_import(
    *,
    parsed,
    user=None,
    publish_as=None,
    dry_run=False,
    with_diff=None,
    run=None,
    title_match=NOT_LOOKED_UP,
):
    """Write one parsed file in one transaction (a savepoint, inside one),
    as one revision of its monograph.

    Imported content enters as a draft unless ``publish_as`` (a reviewer)
    approves it in the same transaction. With ``dry_run`` nothing is kept.
    The diff of what changed is computed for a dry run, or when ``with_diff``.
    ``run`` (an importing_bulk.ImportRun) imports the file as one of many:
    its rows are written in bulk, and what the run looked up is reused.
    ``title_match`` is the form the caller found by the file's title.
    """
    from monographs.services.importing_bulk import BulkWriter

    with_diff = dry_run if with_diff is None else with_diff
    name = parsed.path.name
    reason = f"Imported from {name}"
    author = publish_as or user
    counts = WriteCounts()
    if run is None:
        writer = RowWriter(counts)
    else:
        writer = BulkWriter(counts, run=run, reason=reason, user=author)
        run.file_started()
    kept = False
    # A file is a savepoint in its batch, but in a fast batch: there, a file
    # that fails after writing fails the batch, which is then imported
    # again with savepoints (see the import_monographs command).
    fast = run is not None and run.fast
    if fast and (dry_run or publish_as is not None or with_diff):
        raise ValueError("a fast batch neither publishes, nor diffs, nor rolls back")
    try:
        with contextlib.nullcontext() if fast else transaction.atomic():
            result = _file_write(
                parsed,
                writer,
                run=run,
                reason=reason,
                author=author,
                publish_as=publish_as,
                dry_run=dry_run,
                with_diff=with_diff,
                title_match=title_match,
            )
        kept = not dry_run
    except ValidationError as error:
        raise ImportProblem(parsed.path, None, "; ".join(error.messages)) from None
    except IntegrityError as error:
        raise ImportProblem(
            parsed.path, None, f"clashes with existing content: {error}"
        ) from None
    finally:
        if run is not None:
            # What a file created is reused by later files only if it stays.
            run.file_ended(kept=kept)
    return result


def _file_write(
    parsed,
    writer,
    *,
    run,
    reason,
    author,
    publish_as,
    dry_run,
    with_diff,
    title_match,
):
    """monograph_import's transaction's content."""
    name = parsed.path.name
    with change_context(reason=reason, user=author) as context:
        form, created = _apply_import(parsed, writer, title_match=title_match)
        if run is not None:
            writer.finish(context, form)
    if run is not None and writer.deferring:
        # Its rows and revision are written as the batch ends.
        writer.result = ImportResult(form=form, status="created")
        return writer.result
    if run is not None:
        writer.revision_write(context, form)
    revision = context.revisions.get(form.pk)
    if run is not None:
        writer.history_write(revision)
    if revision is None:
        if publish_as is None:
            return ImportResult(form=form, status="unchanged")
        latest = latest_revision(form)
        published = (
            Publication.objects.live()
            .filter(form_id=form.pk)
            .values_list("revision_id", flat=True)
            .first()
        )
        if published != latest.pk:
            # Already imported as a draft: publishing was asked for now.
            if not dry_run:
                monograph_approve(
                    form=form,
                    user=publish_as,
                    revision_number=latest.number,
                    comment=f"Imported from {name}",
                )
            return ImportResult(form=form, status="updated", revision=latest)
        return ImportResult(form=form, status="unchanged")
    diff = None
    if with_diff:
        before = (
            Revision.objects.with_document()
            .for_form(form.pk)
            .filter(number__lt=revision.number)
            .order_by("-number")
            .first()
        )
        diff = compare(
            document_load(before) if before else None,
            document_load(revision),
        )
    if publish_as is not None and not dry_run:
        monograph_approve(
            form=form,
            user=publish_as,
            revision_number=revision.number,
            comment=f"Imported from {name}",
        )
    if dry_run:
        transaction.set_rollback(True)
    return ImportResult(
        form=form,
        status="created" if created else "updated",
        diff=diff,
        revision=revision,
    )
