"""
Multi-step writes to monograph content.

Each service runs in one transaction and inside a change context, so every
row it touches is recorded in history with the same author and reason.
"""

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction
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
    SideEffect,
    Synonym,
)

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
    changed_objects: list = field(default_factory=list)

    @property
    def changed(self):
        return self.created + self.updated


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
        instance.full_clean()
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
    if changed:
        counts.changed_objects.append(instance)
    return instance


def _read_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _text(value):
    return (value or "").strip()


@transaction.atomic
def seed_load(*, seed_dir=SEED_DIR, user=None, reason="Loaded the seed content"):
    """Load the starting content. A second run changes and records nothing."""
    counts = WriteCounts()
    with change_context(reason=reason, user=user):
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
