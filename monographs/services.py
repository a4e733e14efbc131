"""
Multi-step writes to monograph content.

Each service runs in one transaction and inside a change context, so every
row it touches is recorded in history with the same author and reason.
"""

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from monographs.diffs import compare
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
    ReviewEvent,
    Revision,
    SearchDocument,
    SideEffect,
    Synonym,
)
from monographs.search import document_fields
from monographs.snapshots import ROW_MODELS, as_instance, cited_ids, snapshot

SEED_DIR = Path(__file__).resolve().parent / "seed"
MONOGRAPH_SECTIONS = (
    "summary",
    "usage",
    "mechanism",
    "dosage_notes",
    "precaution_notes",
    "disclaimer",
)


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _upsert(model, lookup, values, counts, *, citations=None):
    """Create or update one row so that it holds ``values``; save only on change."""
    instance = model.objects.filter(**lookup).first()
    created = instance is None
    if created:
        instance = model(**lookup, **values)
    changed = created
    for name, value in values.items():
        if not created and getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    if changed:
        try:
            instance.full_clean()
        except ValidationError as error:
            raise ValidationError(_describe_invalid(instance, error)) from None
        instance.save()
    if citations is not None:
        wanted = {citation.pk for citation in citations}
        current = set(instance.citations.values_list("pk", flat=True))
        if wanted != current:
            instance.citations.set(wanted)
            changed = True
    if created:
        counts.created += 1
    elif changed:
        counts.updated += 1
    else:
        counts.unchanged += 1
    return instance


def _describe_invalid(instance, error):
    label = f"{instance._meta.verbose_name} “{instance}”"
    if not hasattr(error, "error_dict"):
        return [f"{label}: {message}" for message in error.messages]
    return [
        f"{label}: {message}" if name == "__all__" else f"{label}, {name}: {message}"
        for name, errors in error.message_dict.items()
        for message in errors
    ]


def _read_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _text(value):
    return (value or "").strip()


@transaction.atomic
def seed_load(*, seed_dir=SEED_DIR, user=None, reason="Loaded the seed content"):
    """Load and publish the starting content. A second run changes and records nothing."""
    counts = WriteCounts()
    with change_context(reason=reason, user=user) as context:
        citations = {}
        for entry in _read_yaml(seed_dir / "citations.yaml"):
            key = entry.pop("key")
            values = {
                name: str(value) if name != "year" else value
                for name, value in entry.items()
            }
            citations[key] = _upsert(Citation, {"key": key}, values, counts)

        topics = _read_yaml(seed_dir / "topics.yaml")
        indications = {
            item["name"]: _upsert(
                Indication,
                {"slug": slugify(item["name"])},
                {"name": item["name"], "description": _text(item.get("description"))},
                counts,
            )
            for item in topics["indications"]
        }
        side_effects = {
            item["name"]: _upsert(
                SideEffect,
                {"slug": slugify(item["name"])},
                {"name": item["name"], "description": _text(item.get("description"))},
                counts,
            )
            for item in topics["side_effects"]
        }

        monograph = _read_yaml(seed_dir / "glycinate.yaml")
        forms = []
        with open(seed_dir / "forms.csv", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                values = {
                    "name": row["form"],
                    "category": row["category"],
                    "formula_basis": row["formula_basis"],
                    "elemental_mg_percent": Decimal(row["elemental_mg_percent"]),
                    "composition_note": row["composition_note"],
                    "absorption_notes": row["absorption"],
                    "tolerability_notes": row["tolerability"],
                    "usage": row["usage"],
                }
                if row["form"] == monograph["form"]:
                    values.update(
                        (name, _text(monograph.get(name)))
                        for name in MONOGRAPH_SECTIONS
                    )
                form = _upsert(
                    MagnesiumForm, {"slug": slugify(row["form"])}, values, counts
                )
                for name in filter(
                    None, (s.strip() for s in row["synonyms"].split(","))
                ):
                    _upsert(
                        Synonym,
                        {"slug": slugify(name)},
                        {"form": form, "name": name},
                        counts,
                    )
                forms.append(form)

        interactions = _read_yaml(seed_dir / "interactions.yaml")
        for form in forms:
            for position, item in enumerate(interactions):
                _upsert(
                    Interaction,
                    {"form": form, "drug_class": item["drug_class"]},
                    {
                        "examples": item["examples"],
                        "significance": item["significance"],
                        "mechanism": item["mechanism"],
                        "management": item["management"],
                        "position": position,
                    },
                    counts,
                    citations=[citations[key] for key in item["citations"]],
                )

        _load_monograph_rows(monograph, citations, indications, side_effects, counts)
    for revision in context.revisions.values():
        monograph_approve(
            form=revision.form,
            user=user,
            revision_number=revision.number,
            comment="Seed content from the vetted reference files.",
        )
    return counts


def _load_monograph_rows(data, citations, indications, side_effects, counts):
    form = MagnesiumForm.objects.by_name(data["form"])

    def cited(item):
        return [citations[key] for key in item.get("citations", [])]

    for item in data["evidence"]:
        _upsert(
            Evidence,
            {"form": form, "indication": indications[item["indication"]]},
            {
                "direction": item["direction"],
                "certainty": item["certainty"],
                "applicability": item["applicability"],
                "studies_improved": item.get("studies_improved"),
                "studies_total": item.get("studies_total"),
                "summary": _text(item.get("summary")),
            },
            counts,
            citations=cited(item),
        )
    for item in data["side_effects"]:
        _upsert(
            FormSideEffect,
            {"form": form, "side_effect": side_effects[item["side_effect"]]},
            {
                "frequency": item["frequency"],
                "seriousness": item["seriousness"],
                "notes": _text(item.get("notes")),
            },
            counts,
            citations=cited(item),
        )
    for position, item in enumerate(data["doses"]):
        _upsert(
            Dose,
            {
                "form": form,
                "population": item["population"],
                "purpose": item["purpose"],
            },
            {
                "minimum_mg": item["minimum_mg"],
                "maximum_mg": item["maximum_mg"],
                "timing": item.get("timing", ""),
                "notes": _text(item.get("notes")),
                "exceeds_ul_acknowledged": item.get("exceeds_ul_acknowledged", False),
                "position": position,
            },
            counts,
            citations=cited(item),
        )
    for position, item in enumerate(data["precautions"]):
        _upsert(
            Precaution,
            {"form": form, "label": item["label"]},
            {
                "kind": item.get("kind", Precaution.Kind.PRECAUTION),
                "text": _text(item["text"]),
                "position": position,
            },
            counts,
            citations=cited(item),
        )
    for position, item in enumerate(data["faqs"]):
        _upsert(
            FAQ,
            {"form": form, "question": item["question"]},
            {"answer": _text(item["answer"]), "position": position},
            counts,
        )


class WorkflowError(Exception):
    """A workflow step that cannot be taken now; the message says why."""


def _locked(form):
    return MagnesiumForm.objects.select_for_update().get(pk=form.pk)


def _latest_revision(form):
    revision = Revision.objects.for_form(form.pk).order_by("-number").first()
    if revision is None:
        raise WorkflowError(f"{form} has no revisions yet.")
    return revision


def _reviewed_revision(form, revision_number):
    latest = _latest_revision(form)
    if revision_number != latest.number:
        raise WorkflowError(
            f"Revision {latest.number} was saved after the revision {revision_number} "
            "you reviewed. Look at the latest changes first."
        )
    return latest


@transaction.atomic
def monograph_submit(*, form, user, comment=""):
    form = _locked(form)
    latest = _latest_revision(form)
    if form.status == MagnesiumForm.Status.IN_REVIEW:
        raise WorkflowError(f"{form} is already awaiting review.")
    if form.published_revision_id == latest.pk:
        raise WorkflowError(f"{form} has no unpublished changes to review.")
    MagnesiumForm.objects.filter(pk=form.pk).update(
        status=MagnesiumForm.Status.IN_REVIEW
    )
    return ReviewEvent.objects.create(
        form=form,
        revision=latest,
        action=ReviewEvent.Action.SUBMITTED,
        user=user,
        comment=comment,
    )


@transaction.atomic
def monograph_approve(*, form, user, revision_number, comment=""):
    """Publish ``revision_number``, which must be the latest revision."""
    form = _locked(form)
    revision = _reviewed_revision(form, revision_number)
    if form.published_revision_id == revision.pk:
        raise WorkflowError(
            f"Revision {revision.number} of {form} is already published."
        )
    state = snapshot(revision)
    event = ReviewEvent.objects.create(
        form=form,
        revision=revision,
        action=ReviewEvent.Action.APPROVED,
        user=user,
        comment=comment,
    )
    MagnesiumForm.objects.filter(pk=form.pk).update(
        status=MagnesiumForm.Status.PUBLISHED,
        published_revision=revision,
        published_slug=state.form.slug,
        published_at=event.created_at,
    )
    SearchDocument.objects.update_or_create(
        form=form, defaults={"revision": revision, **document_fields(state)}
    )
    return event


@transaction.atomic
def monograph_request_changes(*, form, user, revision_number, comment):
    if not comment.strip():
        raise WorkflowError("Say what needs to change: the comment is required.")
    form = _locked(form)
    revision = _reviewed_revision(form, revision_number)
    if form.published_revision_id == revision.pk:
        raise WorkflowError(
            f"Revision {revision.number} of {form} is already published."
        )
    MagnesiumForm.objects.filter(pk=form.pk).update(
        status=MagnesiumForm.Status.CHANGES_REQUESTED
    )
    return ReviewEvent.objects.create(
        form=form,
        revision=revision,
        action=ReviewEvent.Action.CHANGES_REQUESTED,
        user=user,
        comment=comment.strip(),
    )


def _content_fields(model):
    excluded = set(getattr(model.history.model, "_history_excluded_fields", ()))
    return [
        field.attname
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in excluded
    ]


def _restore_row(live, wanted, counts):
    """Make the live row ``live`` (or a new one, if None) hold ``wanted``'s values."""
    model = type(wanted)
    values = {name: getattr(wanted, name) for name in _content_fields(model)}
    citations = (
        list(Citation.objects.filter(pk__in=wanted.cited_ids))
        if hasattr(model, "citations")
        else None
    )
    lookup = {"pk": wanted.pk}
    if live is None:
        instance = model(pk=wanted.pk, **values)
        instance.save(force_insert=True)
        counts.created += 1
        if citations:
            instance.citations.set(citations)
        return instance
    return _upsert(model, lookup, values, counts, citations=citations)


def _restore_snapshot(form_id, state, counts):
    live_form = MagnesiumForm.objects.filter(pk=form_id).first()
    _restore_row(live_form, state.form, counts)
    for name, rows in state.rows():
        model = ROW_MODELS[name]
        wanted = {row.pk: row for row in rows}
        for live in model.objects.filter(form_id=form_id).exclude(pk__in=wanted):
            live.delete()
        live_rows = model.objects.in_bulk(list(wanted))
        for pk, row in wanted.items():
            _restore_row(live_rows.get(pk), row, counts)


def _restore(form_id, state, *, reason, user):
    counts = WriteCounts()
    try:
        with transaction.atomic(), change_context(reason=reason, user=user) as context:
            _restore_snapshot(form_id, state, counts)
    except (IntegrityError, ValidationError) as error:
        raise WorkflowError(
            "The old revision clashes with content saved since (a slug or name now "
            f"used elsewhere, or a duplicated row): {error}"
        ) from None
    return context.revisions.get(form_id)


@transaction.atomic
def monograph_revert(*, form, user, revision_number):
    """Bring back the state of revision ``revision_number`` as a new revision."""
    form = _locked(form)
    target = Revision.objects.for_form(form.pk).filter(number=revision_number).first()
    if target is None:
        raise WorkflowError(f"{form} has no revision {revision_number}.")
    if target.number == Revision.objects.latest_number(form.pk):
        raise WorkflowError(f"Revision {target.number} is already the current one.")
    state = snapshot(target)
    if state is None:
        raise WorkflowError(
            f"Revision {target.number} deleted {form}: nothing to revert to."
        )
    revision = _restore(
        form.pk, state, reason=f"Reverted to revision {target.number}", user=user
    )
    if revision is None:
        raise WorkflowError(
            f"Revision {target.number} is the same as the current content."
        )
    return revision


@transaction.atomic
def monograph_recover(*, form_id, user):
    """Recreate a deleted monograph, with its rows, as it was before deletion."""
    if MagnesiumForm.objects.filter(pk=form_id).exists():
        raise WorkflowError("This monograph has not been deleted.")
    revisions = list(Revision.objects.for_form(form_id).order_by("-number")[:2])
    if len(revisions) < 2:
        raise WorkflowError("There is no saved state of this monograph to recover.")
    state = snapshot(revisions[1])
    if state is None:
        raise WorkflowError("There is no saved state of this monograph to recover.")
    return _restore(
        form_id,
        state,
        reason=f"Recovered after deletion, as of revision {revisions[1].number}",
        user=user,
    )


@transaction.atomic
def row_recover(*, model, row_id, user):
    """Recreate one deleted row of a monograph as it was before deletion."""
    records = list(model.history.filter(id=row_id).order_by("-history_id")[:2])
    if not records or records[0].history_type != "-" or len(records) < 2:
        raise WorkflowError(
            f"There is no deleted {model._meta.verbose_name} to recover."
        )
    if model.objects.filter(pk=row_id).exists():
        raise WorkflowError(f"This {model._meta.verbose_name} has not been deleted.")
    before = records[1]
    if not MagnesiumForm.objects.filter(pk=before.form_id).exists():
        raise WorkflowError(
            "Its monograph was deleted too: recover the monograph instead."
        )
    row = as_instance(before)
    row.cited_ids = cited_ids(model, [before]).get(before.history_id, [])
    reason = f"Recovered deleted {model._meta.verbose_name} “{row}”"
    try:
        with transaction.atomic(), change_context(reason=reason, user=user):
            _restore_row(None, row, WriteCounts())
    except (IntegrityError, ValidationError) as error:
        raise WorkflowError(f"It clashes with content saved since: {error}") from None
    return model.objects.get(pk=row_id)


@dataclass
class ImportResult:
    form: object
    status: str  # "created", "updated" or "unchanged"
    diff: object = None
    revision: object = None


def _import_form(parsed):
    names = [parsed.title, *parsed.synonyms]
    for name in names:
        form = MagnesiumForm.objects.by_name(name)
        if form is not None:
            return form, False
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
    try:
        form.full_clean()
    except ValidationError as error:
        raise ValidationError(_describe_invalid(form, error)) from None
    form.save()
    return form, True


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


def _replace_rows(model, form, wanted, counts):
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
        row = _upsert(
            model,
            {"form": form, **lookup},
            values,
            counts,
            citations=citations[0] if citations else None,
        )
        kept.append(row.pk)
    for row in model.objects.filter(form=form).exclude(pk__in=kept):
        row.delete()


def _apply_import(parsed, counts):
    form, created = _import_form(parsed)
    values = {**_facts(parsed), **parsed.fields}
    if parsed.other:
        values["other_sections"] = other_sections_markdown(parsed)
    _upsert(MagnesiumForm, {"pk": form.pk}, values, counts)
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
            _upsert(Synonym, {"slug": slug}, {"form": form, "name": name}, counts)
    if parsed.side_effects is not None:
        wanted = []
        for effect, note in parsed.side_effects:
            slug = slugify(effect.name)
            side_effect = SideEffect.objects.filter(slug=slug).first() or _upsert(
                SideEffect, {"slug": slug}, {"name": effect.name}, counts
            )
            seriousness = (
                FormSideEffect.Seriousness.SEEK_ATTENTION
                if effect.serious
                else FormSideEffect.Seriousness.MILD
            )
            existing = FormSideEffect.objects.filter(
                form=form, side_effect=side_effect, seriousness=seriousness
            ).first()
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
        _replace_rows(FormSideEffect, form, wanted, counts)
    if parsed.precautions is not None:
        _replace_rows(
            Precaution,
            form,
            [({"label": label}, {"text": text}) for label, text in parsed.precautions],
            counts,
        )
    for name, model, key, build in [
        ("doses", Dose, ("population", "purpose"), _dose_values),
        ("interactions", Interaction, ("drug_class",), _interaction_values),
        ("evidence", Evidence, ("indication",), _evidence_values),
    ]:
        rows = getattr(parsed, name)
        if rows is None:
            continue
        wanted = []
        for row in rows:
            values = build(row, counts)
            lookup = {field: values.pop(field) for field in key}
            wanted.append((lookup, values, _cited(parsed, row)))
        _replace_rows(model, form, wanted, counts)
    if parsed.faqs is not None:
        _replace_rows(
            FAQ,
            form,
            [
                ({"question": question}, {"answer": answer})
                for question, answer in parsed.faqs
            ],
            counts,
        )
    return form, created


def _cited(parsed, row):
    keys = row.get("citations") or []
    citations = list(Citation.objects.filter(key__in=keys))
    unknown = set(keys) - {citation.key for citation in citations}
    if unknown:
        raise ImportProblem(
            parsed.path, None, f"unknown citation key(s): {', '.join(sorted(unknown))}"
        )
    return citations


def _dose_values(row, counts):
    return {
        "population": str(row.get("population", "")),
        "purpose": str(row.get("purpose", "")),
        "minimum_mg": row.get("minimum_mg"),
        "maximum_mg": row.get("maximum_mg"),
        "timing": str(row.get("timing", "")),
        "notes": str(row.get("notes", "")),
        "exceeds_ul_acknowledged": bool(row.get("exceeds_ul_acknowledged", False)),
    }


def _interaction_values(row, counts):
    return {
        "drug_class": str(row.get("drug_class", "")),
        "examples": str(row.get("examples", "")),
        "significance": str(row.get("significance", "")),
        "mechanism": str(row.get("mechanism", "")),
        "management": str(row.get("management", "")),
    }


def _evidence_values(row, counts):
    name = str(row.get("indication", "")).strip()
    indication = Indication.objects.filter(slug=slugify(name)).first() or _upsert(
        Indication, {"slug": slugify(name)}, {"name": name}, counts
    )
    return {
        "indication": indication,
        "direction": str(row.get("direction", "")),
        "certainty": str(row.get("certainty", "")),
        "applicability": str(row.get("applicability", "")),
        "studies_improved": row.get("studies_improved"),
        "studies_total": row.get("studies_total"),
        "summary": str(row.get("summary", "")),
    }


def monograph_import(
    *, parsed, user=None, publish_as=None, dry_run=False, with_diff=None
):
    """Write one parsed file in one transaction, as one revision of its monograph.

    Imported content enters as a draft unless ``publish_as`` (a reviewer)
    approves it in the same transaction. With ``dry_run`` nothing is kept.
    The diff of what changed is computed for a dry run, or when ``with_diff``.
    """
    with_diff = dry_run if with_diff is None else with_diff
    name = parsed.path.name
    counts = WriteCounts()
    try:
        with transaction.atomic():
            with change_context(
                reason=f"Imported from {name}", user=publish_as or user
            ) as context:
                form, created = _apply_import(parsed, counts)
            revision = context.revisions.get(form.pk)
            if revision is None:
                latest = _latest_revision(form)
                form.refresh_from_db()
                if publish_as is not None and form.published_revision_id != latest.pk:
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
            before = (
                Revision.objects.for_form(form.pk)
                .filter(number__lt=revision.number)
                .order_by("-number")
                .first()
            )
            diff = (
                compare(snapshot(before) if before else None, snapshot(revision))
                if with_diff
                else None
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
    except ValidationError as error:
        raise ImportProblem(parsed.path, None, "; ".join(error.messages)) from None
    except IntegrityError as error:
        raise ImportProblem(
            parsed.path, None, f"clashes with existing content: {error}"
        ) from None
