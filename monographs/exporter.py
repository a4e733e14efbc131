"""
Monographs written out in the layout the importer reads: front matter for the
facts, ### sections for the text.

Evidence, its studies, doses and interactions, which the page layout has no
section for, travel as lists in the front matter. Notes for editors stay
behind: an export is public.
"""

from decimal import Decimal
from pathlib import Path

import yaml

from monographs.models import FormSideEffect
from monographs.schema import ROW_KINDS_BY_NAME


def _one_line(text):
    return " ".join((text or "").split())


def _item(text):
    """A list item's text; later paragraphs are indented to stay in the item."""
    paragraphs = [_one_line(paragraph) for paragraph in text.strip().split("\n\n")]
    return "\n\n  ".join(paragraph for paragraph in paragraphs if paragraph)


# Row kinds the page layout has no section for: they travel whole, field by
# field as the schema defines them, in the front matter.
FRONT_MATTER_ROWS = ("evidence", "doses", "interactions", "studies")


def _front_matter_row(kind, row):
    values = {}
    for name in kind.fields:
        if name == "position":  # the list's order says it
            continue
        value = getattr(row, name)
        if name == kind.topic:
            value = value.name
        elif name == kind.parent:
            # The row it belongs to, by that row's topic: a study's use.
            value = getattr(value, ROW_KINDS_BY_NAME[kind.parent_kind].topic).name
        elif isinstance(value, Decimal):
            value = str(value)
        values[name] = value
    values["citations"] = [citation.key for citation in row.cited]
    return values


def monograph_markdown(state):
    """The file for a monograph document (see monographs.documents), as text."""
    form = state.form
    facts = {
        "layout": "minimal-medicine",
        "title": form.name,
        "category": form.category,
        "salt": form.salt,
        "elemental_mg_percent": float(form.elemental_mg_percent),
        "formula_basis": form.formula_basis,
        "synonyms": [synonym.name for synonym in state.synonyms],
        "composition_note": form.composition_note,
        "absorption_notes": form.absorption_notes,
        "tolerability_notes": form.tolerability_notes,
        # Kept out of the Precautions section: it may hold its own lists.
        "precaution_notes": form.precaution_notes,
        **{
            kind.name: [_front_matter_row(kind, row) for row in rows]
            for kind, rows in state.rows()
            if kind.name in FRONT_MATTER_ROWS
        },
    }
    front = yaml.safe_dump(
        {name: value for name, value in facts.items() if value not in ("", [])},
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )
    parts = [f"---\n{front}---\n", f"# {form.name}"]
    if form.summary:
        parts.append(form.summary.strip())
    parts.append(f"### Generic Name\n{form.name}")
    for heading, text in [("Usage", form.usage), ("Dosage", form.dosage_notes)]:
        if text:
            parts.append(f"### {heading}\n{text.strip()}")
    if state.side_effects:
        mild = [
            row
            for row in state.side_effects
            if row.seriousness == FormSideEffect.Seriousness.MILD
        ]
        serious = [row for row in state.side_effects if row not in mild]
        lines = ["### Side Effects"]
        for intro, rows in [
            ("Common side effects, usually mild:", mild),
            ("Less common but serious side effects, seek medical attention:", serious),
        ]:
            if rows:
                lines.append(intro)
                lines.append("")
                lines += [
                    f"* {row.side_effect.name}"
                    + (f" ({_one_line(row.notes)})" if row.notes else "")
                    for row in rows
                ]
                lines.append("")
        parts.append("\n".join(lines).strip())
    if form.mechanism:
        parts.append(f"### How it Works\n{form.mechanism.strip()}")
    if state.precautions:
        lines = ["### Precautions"]
        lines += [f"* **{row.label}:** {_item(row.text)}" for row in state.precautions]
        parts.append("\n".join(lines))
    if state.faqs:
        lines = ["### FAQs", ""]
        lines += [
            f"* **Q: {row.question}** A: {_item(row.answer)}" for row in state.faqs
        ]
        parts.append("\n".join(lines))
    if form.disclaimer:
        parts.append(f"**Disclaimer:** {form.disclaimer.strip()}")
    return "\n\n".join(parts) + "\n"


def export_path(root, form):
    """One folder per first letter, as sites of such pages keep them."""
    slug = form.slug
    return Path(root) / slug.removeprefix("magnesium-")[0] / f"{slug}.md"
