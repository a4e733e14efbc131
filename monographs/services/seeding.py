"""
Seed content: the starting monographs, from the vetted files in monographs/seed/.

The seed only ever creates what is missing. It never overwrites what an
editor changed, never approves an editor's draft, and never fails because of
editorial data: a clash (a renamed citation key, a slug now used elsewhere)
is reported and skipped. Monographs it creates are published as they are,
with no reviewer: readers are told no person has reviewed them yet.
"""

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify

from monographs.history import change_context
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
from monographs.services.workflow import monograph_approve
from monographs.services.writes import WriteCounts, describe_invalid

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
MONOGRAPH_SECTIONS = (
    "summary",
    "usage",
    "mechanism",
    "dosage_notes",
    "precaution_notes",
    "disclaimer",
    "editor_notes",
)
EVIDENCE_FIELDS = (
    "outcome",
    *(name for pair in Evidence.DOMAINS for name in pair),
)
STUDY_FIELDS = (
    "name",
    "design",
    "participants",
    "population",
    "salt",
    "hydrate",
    "salt_detail",
    "elemental_mg_per_day",
    "duration",
    "comparator",
    "outcome",
    "result",
    "studies_included",
    "studies_improved",
    "effect_estimate",
    "ci_lower",
    "ci_upper",
    "effect_unit",
    "risk_of_bias",
    "risk_of_bias_note",
)
SEED_COMMENT = "Seed content from the vetted reference files; not reviewed by a person."


@dataclass
class SeedReport(WriteCounts):
    skipped: list = field(default_factory=list)


class _Skip(Exception):
    pass


def _read_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _text(value):
    return (value or "").strip()


def _create(model, report, *, citations=None, **values):
    """Create one row, or report why it cannot be and raise _Skip."""
    instance = model(**values)
    try:
        instance.full_clean()
        with transaction.atomic():
            instance.save()
            if citations:
                instance.citations.set(citations)
    except (ValidationError, IntegrityError) as error:
        messages = (
            describe_invalid(instance, error)
            if isinstance(error, ValidationError)
            else [f"{model._meta.verbose_name} “{instance}”: {error}"]
        )
        report.skipped += messages
        raise _Skip from None
    report.created += 1
    return instance


def _existing_or_created(model, lookup, report, **values):
    existing = model.objects.filter(**lookup).first()
    if existing is not None:
        report.unchanged += 1
        return existing
    try:
        return _create(model, report, **lookup, **values)
    except _Skip:
        return None


@transaction.atomic
def seed_load(*, seed_dir=SEED_DIR, user=None, reason="Loaded the seed content"):
    """Create the seed content that is missing; publish the monographs created.

    A second run creates, changes and records nothing.
    """
    report = SeedReport()
    created_forms = []
    with change_context(reason=reason, user=user) as context:
        citations = {}
        for entry in _read_yaml(seed_dir / "citations.yaml"):
            key = entry.pop("key")
            values = {
                name: str(value) if name != "year" else value
                for name, value in entry.items()
            }
            citation = _existing_or_created(Citation, {"key": key}, report, **values)
            if citation is not None:
                citations[key] = citation

        topics = _read_yaml(seed_dir / "topics.yaml")
        indications = _topics(Indication, topics["indications"], report)
        side_effects = _topics(SideEffect, topics["side_effects"], report)
        monograph = _read_yaml(seed_dir / "glycinate.yaml")
        interactions = _read_yaml(seed_dir / "interactions.yaml")

        with open(seed_dir / "forms.csv", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if MagnesiumForm.objects.by_name(row["form"]) is not None:
                    report.unchanged += 1
                    continue
                if _known_before(row["form"]):
                    # Deleted, or renamed away from its seed name: an
                    # editor's decision the seed must not undo.
                    report.skipped.append(
                        f"Form “{row['form']}” has a history (deleted or renamed); "
                        "not created again."
                    )
                    continue
                values = {
                    "name": row["form"],
                    "slug": slugify(row["form"]),
                    "category": row["category"],
                    "salt": row["salt"],
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
                try:
                    with transaction.atomic():
                        form = _create(MagnesiumForm, report, **values)
                        _form_rows(
                            form,
                            row,
                            monograph if row["form"] == monograph["form"] else None,
                            interactions,
                            citations,
                            indications,
                            side_effects,
                            report,
                        )
                except _Skip:
                    report.skipped.append(f"Form “{row['form']}” was not created.")
                    continue
                created_forms.append(form)
    for form in created_forms:
        revision = context.revisions.get(form.pk)
        if revision is not None:
            monograph_approve(
                form=form,
                user=user,
                revision_number=revision.number,
                comment=SEED_COMMENT,
            )
    return report


def _known_before(name):
    """Whether a monograph of this name or address ever existed."""
    slug = slugify(name)
    return (
        Revision.objects.filter(Q(name__iexact=name) | Q(slug=slug)).exists()
        or Publication.objects.filter(Q(name__iexact=name) | Q(slug=slug)).exists()
    )


def _topics(model, items, report):
    found = {}
    for item in items:
        existing = model.objects.filter(name=item["name"]).first()
        if existing is not None:
            report.unchanged += 1
            found[item["name"]] = existing
            continue
        topic = _existing_or_created(
            model,
            {"slug": slugify(item["name"])},
            report,
            name=item["name"],
            description=_text(item.get("description")),
        )
        if topic is not None:
            found[item["name"]] = topic
    return found


def _cited(item, citations, report, label):
    keys = item.get("citations", [])
    missing = [key for key in keys if key not in citations]
    if missing:
        report.skipped.append(
            f"{label}: cites {', '.join(missing)}, which could not be created."
        )
        raise _Skip
    return [citations[key] for key in keys]


def _form_rows(
    form, row, monograph, interactions, citations, indications, side_effects, report
):
    for name in filter(None, (s.strip() for s in row["synonyms"].split(","))):
        if Synonym.objects.filter(slug=slugify(name)).exists():
            report.skipped.append(f"Synonym “{name}” of {form} is used elsewhere.")
            continue
        _create(Synonym, report, form=form, name=name, slug=slugify(name))
    for position, item in enumerate(interactions):
        _create(
            Interaction,
            report,
            form=form,
            drug_class=item["drug_class"],
            examples=item["examples"],
            significance=item["significance"],
            mechanism=item["mechanism"],
            management=item["management"],
            position=position,
            citations=_cited(item, citations, report, f"{form}: {item['drug_class']}"),
        )
    if monograph is None:
        return
    for item in monograph["evidence"]:
        evidence = _create(
            Evidence,
            report,
            form=form,
            indication=indications[item["indication"]],
            direction=item["direction"],
            certainty=item["certainty"],
            **{name: item[name] for name in EVIDENCE_FIELDS if name in item},
            summary=_text(item.get("summary")),
            citations=_cited(item, citations, report, f"{form}: {item['indication']}"),
        )
        for position, study in enumerate(item.get("studies", [])):
            values = {name: study[name] for name in STUDY_FIELDS if name in study}
            for name in ("effect_estimate", "ci_lower", "ci_upper"):
                if name in values:
                    values[name] = Decimal(values[name])
            _create(
                Study,
                report,
                form=form,
                evidence=evidence,
                position=position,
                notes=_text(study.get("notes")),
                citations=_cited(study, citations, report, f"{form}: {study['name']}"),
                **values,
            )
    for item in monograph["side_effects"]:
        _create(
            FormSideEffect,
            report,
            form=form,
            side_effect=side_effects[item["side_effect"]],
            frequency=item["frequency"],
            seriousness=item["seriousness"],
            notes=_text(item.get("notes")),
            citations=_cited(item, citations, report, f"{form}: {item['side_effect']}"),
        )
    for position, item in enumerate(monograph["doses"]):
        _create(
            Dose,
            report,
            form=form,
            population=item["population"],
            age_band=item["age_band"],
            purpose=item["purpose"],
            minimum_mg=item["minimum_mg"],
            maximum_mg=item["maximum_mg"],
            timing=item.get("timing", ""),
            notes=_text(item.get("notes")),
            exceeds_ul_acknowledged=item.get("exceeds_ul_acknowledged", False),
            position=position,
            citations=_cited(item, citations, report, f"{form}: {item['population']}"),
        )
    for position, item in enumerate(monograph["precautions"]):
        _create(
            Precaution,
            report,
            form=form,
            label=item["label"],
            kind=item.get("kind", Precaution.Kind.PRECAUTION),
            text=_text(item["text"]),
            position=position,
            citations=_cited(item, citations, report, f"{form}: {item['label']}"),
        )
    for position, item in enumerate(monograph["faqs"]):
        _create(
            FAQ,
            report,
            form=form,
            question=item["question"],
            answer=_text(item["answer"]),
            position=position,
        )
