"""
The benchmark's dataset, built through mgref's own services so that history,
revisions, approvals and search documents are what real use would leave.

The seed content, then citations up to CITATIONS, published forms up to FORMS
(each with evidence, doses, side effects, precautions, interactions and
FAQs), REVISIONS revisions of Magnesium glycinate (every APPROVE_EVERY-th
approved), and IMPORT_FILES pages in seed 004's layout (a static site's
medicine pages, a folder per first letter) for import_monographs.
"""

import time
from dataclasses import dataclass
from decimal import Decimal
from itertools import cycle

from django.contrib.auth import get_user_model
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from monographs import services
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
)

FORMS = 50
CITATIONS = 2_000
REVISIONS = 10_000
APPROVE_EVERY = 100
IMPORT_FILES = 2_000
HISTORY_SLUG = "magnesium-glycinate"
# Revisions written per transaction: one per revision is far slower on SQLite.
REVISIONS_PER_TRANSACTION = 250
PROGRESS_EVERY = 1_000


@dataclass
class Dataset:
    history_slug: str
    revisions: int
    published_numbers: list
    forms: int
    published_forms: int
    citations: int


def users():
    """An editor who writes and a reviewer who approves (no passwords: no logins)."""
    User = get_user_model()
    editor, _ = User.objects.get_or_create(
        username="bench-editor", defaults={"first_name": "Bench", "is_staff": True}
    )
    reviewer, _ = User.objects.get_or_create(
        username="bench-reviewer", defaults={"first_name": "Review", "is_staff": True}
    )
    return editor, reviewer


def seed(reviewer):
    services.seed_load(user=reviewer)


def add_citations(editor, total=CITATIONS):
    missing = total - Citation.objects.count()
    citations = [
        Citation(
            key=f"bench{n:04d}",
            authors="Doe J, Roe R, Moe K",
            title=f"Oral magnesium supplementation and outcome {n}: a randomized trial",
            journal="Magnes Res",
            year=1990 + n % 35,
            volume=str(1 + n % 40),
            issue=str(1 + n % 12),
            pages=f"{n % 900 + 1}-{n % 900 + 9}",
            pmid=str(30_000_000 + n),
            doi=f"10.5555/mgref-bench.{n}",
            publication_type=Citation.PublicationType.RANDOMIZED_TRIAL,
        )
        for n in range(1, missing + 1)
    ]
    bulk_create_with_history(
        citations,
        Citation,
        batch_size=500,
        default_user=editor,
        default_change_reason="Benchmark citations",
    )


def _form_rows(form, number, keys, citations, indications, side_effects):
    def cite(offset):
        return citations[keys[(number * 7 + offset) % len(keys)]]

    def marker(offset):
        return f"[@{cite(offset).key}]"

    for offset, indication in enumerate(indications[number % 3 : number % 3 + 4]):
        row = Evidence.objects.create(
            form=form,
            indication=indication,
            direction=Evidence.Direction.BENEFIT
            if offset % 2
            else Evidence.Direction.MIXED,
            certainty=Evidence.Certainty.LOW,
            summary=(
                f"{offset + 1} of {offset + 3} trials of magnesium reported an "
                f"improvement in {indication.name.lower()}; most used another form "
                f"of magnesium {marker(offset)}."
            ),
        )
        row.citations.set([cite(offset)])
    for offset, side_effect in enumerate(side_effects[number % 4 : number % 4 + 3]):
        row = FormSideEffect.objects.create(
            form=form,
            side_effect=side_effect,
            frequency=FormSideEffect.Frequency.COMMON,
            seriousness=FormSideEffect.Seriousness.MILD,
            notes=f"Mostly at higher doses {marker(10 + offset)}.",
        )
        row.citations.set([cite(10 + offset)])
    for position, (population, low, high) in enumerate(
        [("Adults", 100, 350), ("Older adults", 100, 250)]
    ):
        row = Dose.objects.create(
            form=form,
            population=population,
            purpose="General supplementation",
            minimum_mg=low,
            maximum_mg=high,
            timing="With meals, divided",
            notes=f"Stated as elemental magnesium {marker(20 + position)}.",
            position=position,
        )
        row.citations.set([cite(20 + position)])
    for position, drug_class in enumerate(
        ["Tetracycline antibiotics", "Bisphosphonates"]
    ):
        row = Interaction.objects.create(
            form=form,
            drug_class=drug_class,
            examples="Doxycycline" if position == 0 else "Alendronate",
            significance=Interaction.Significance.MODERATE,
            mechanism="Magnesium binds the drug in the gut.",
            management="Take the two at least two hours apart.",
            position=position,
        )
        row.citations.set([cite(30 + position)])
    for position, label in enumerate(["Kidney disease", "Pregnancy"]):
        row = Precaution.objects.create(
            form=form,
            label=label,
            text=f"Ask a doctor first {marker(40 + position)}.",
            position=position,
        )
        row.citations.set([cite(40 + position)])
    for position in range(3):
        FAQ.objects.create(
            form=form,
            question=f"Question {position + 1} about {form.name}?",
            answer=f"An answer of a few sentences, with a source {marker(50 + position)}.",
            position=position,
        )


def add_forms(editor, reviewer, total=FORMS):
    citations = {citation.key: citation for citation in Citation.objects.all()}
    keys = sorted(citations)
    indications = list(Indication.objects.order_by("name"))
    side_effects = list(SideEffect.objects.order_by("name"))
    number = MagnesiumForm.objects.count()
    while number < total:
        number += 1
        name = f"Magnesium benchmark form {number:02d}"
        with transaction.atomic():
            with change_context(reason=f"Added {name}", user=editor) as context:
                form = MagnesiumForm.objects.create(
                    name=name,
                    slug=f"magnesium-benchmark-form-{number:02d}",
                    category=MagnesiumForm.Category.ORGANIC_SALT,
                    formula_basis="MgX2",
                    elemental_mg_percent=Decimal("12.50"),
                    summary=(
                        f"{name} is a magnesium salt used as a dietary supplement "
                        f"[@{keys[number % len(keys)]}]."
                    ),
                    usage="Taken to raise magnesium intake.",
                    mechanism="Dissolves in the gut; the magnesium is absorbed.",
                    dosage_notes="Doses are given as **elemental magnesium**.",
                    precaution_notes="Excessive doses may cause diarrhea.",
                    disclaimer="General information, not medical advice.",
                )
                _form_rows(form, number, keys, citations, indications, side_effects)
            services.monograph_approve(
                form=form,
                user=reviewer,
                revision_number=context.revisions[form.pk].number,
                comment="Benchmark content.",
            )


def add_revisions(editor, reviewer, total=REVISIONS, progress=None):
    """Small edits of the history monograph, one revision each, up to ``total``."""
    form = MagnesiumForm.objects.get(slug=HISTORY_SLUG)
    rows = [
        (form, "summary"),
        (form.doses.order_by("position", "pk").first(), "notes"),
        (form.faqs.order_by("position", "pk").first(), "answer"),
        (form.evidence.order_by("pk").first(), "summary"),
    ]
    rows = [(row, name) for row, name in rows if row is not None]
    originals = {id(row): getattr(row, name) for row, name in rows}
    edits = cycle(rows)
    number = first = Revision.objects.latest_number(form.pk)
    started = time.perf_counter()
    while number < total:
        with transaction.atomic():
            batch = REVISIONS_PER_TRANSACTION - number % REVISIONS_PER_TRANSACTION
            for _ in range(min(batch, total - number)):
                row, name = next(edits)
                setattr(
                    row, name, f"{originals[id(row)]} (Reworded in edit {number + 1}.)"
                )
                with change_context(
                    reason=f"Reworded {name} (benchmark edit {number + 1})", user=editor
                ) as context:
                    row.save(update_fields=[name])
                number = context.revisions[form.pk].number
                if number % APPROVE_EVERY == 0:
                    services.monograph_approve(
                        form=form, user=reviewer, revision_number=number
                    )
        if progress is not None and (number % PROGRESS_EVERY == 0 or number == total):
            rate = (number - first) / (time.perf_counter() - started)
            progress(f"{number:,}/{total:,} revisions, {rate:,.0f}/s")


# A page of a static site of medicine pages, as seed 004 is: Jekyll front
# matter, then fixed sections. Front matter gives what a new form needs.
PAGE_004 = """---
layout: minimal-medicine
title: {title}
{facts}---

# {title}
### Generic Name
{title}

### Usage
{title} is used as a dietary supplement to raise magnesium intake. {usage}

### Dosage
Follow the product label; doses are given in elemental magnesium. {dosage}

### Side Effects
Common side effects are generally mild and include:

* Diarrhea
* Nausea
* Stomach upset

Less common but more serious side effects, requiring medical attention, include:

* Low blood pressure
* Irregular heartbeat

### How it Works
The magnesium in {title} is released in the gut and absorbed in the small intestine.

### Precautions
* **Kidney Disease:** Magnesium can accumulate when the kidneys clear it poorly.
* **Interactions:** Separate it from antibiotics and bisphosphonates by some hours.

### FAQs

* **Q: Can I take {title} with food?** A: Yes; food may reduce stomach upset.
* **Q: How should I store it?** A: In a cool, dry place.

**Disclaimer:** This page is synthetic benchmark content, not advice.
"""
NEW_FACTS = "category: organic-salt\nelemental_mg_percent: 12.5\n"
# One import file in this many updates an existing published form.
UPDATE_EVERY = 40


def import_files(folder, count=IMPORT_FILES, *, update_every=UPDATE_EVERY):
    """Write ``count`` pages in seed 004's layout, a folder per first letter.

    Most describe new forms; every ``update_every``-th rewrites a published
    form (each form once: import_monographs refuses two files for one
    monograph). Returns the paths written.
    """
    paths = []
    published = list(
        Publication.objects.live()
        .exclude(slug=HISTORY_SLUG)
        .order_by("name")
        .values_list("name", flat=True)
    )
    updates = iter(published)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for number in range(1, count + 1):
        existing = next(updates, None) if number % update_every == 0 else None
        if existing is not None:
            title, facts = existing, ""
        else:
            # Spread over the alphabet, as a real site's folders are.
            letter = letters[number % len(letters)]
            title, facts = f"Magnesium {letter}form {number:05d}", NEW_FACTS
        text = PAGE_004.format(
            title=title,
            facts=facts,
            usage=f"Benchmark page {number}.",
            dosage=f"Revision written by import file {number}.",
        )
        stem = title.lower().removeprefix("magnesium ").replace(" ", "-")
        path = folder / stem[0] / f"{stem}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def describe():
    form = MagnesiumForm.objects.get(slug=HISTORY_SLUG)
    published = list(
        Revision.objects.for_form(form.pk)
        .published()
        .order_by("number")
        .values_list("number", flat=True)
    )
    return Dataset(
        history_slug=HISTORY_SLUG,
        revisions=Revision.objects.for_form(form.pk).count(),
        published_numbers=published,
        forms=MagnesiumForm.objects.count(),
        published_forms=MagnesiumForm.objects.published().count(),
        citations=Citation.objects.count(),
    )
