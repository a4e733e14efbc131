"""Monographs written out in the layout the importer reads (front matter + ### sections)."""

from pathlib import Path

import yaml

from monographs.models import FormSideEffect


def _one_line(text):
    return " ".join((text or "").split())


def monograph_markdown(state):
    """The file for a snapshot (see monographs.snapshots), as text."""
    form = state.form
    front = yaml.safe_dump(
        {
            "layout": "minimal-medicine",
            "title": form.name,
            "category": form.category,
            "elemental_mg_percent": float(form.elemental_mg_percent),
            "formula_basis": form.formula_basis,
        },
        sort_keys=False,
        allow_unicode=True,
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
    if state.precautions or form.precaution_notes:
        lines = ["### Precautions"]
        if form.precaution_notes:
            lines += [_one_line(form.precaution_notes), ""]
        lines += [
            f"* **{row.label}:** {_one_line(row.text)}" for row in state.precautions
        ]
        parts.append("\n".join(lines))
    if state.faqs:
        lines = ["### FAQs", ""]
        lines += [
            f"* **Q: {row.question}** A: {_one_line(row.answer)}" for row in state.faqs
        ]
        parts.append("\n".join(lines))
    if form.disclaimer:
        parts.append(f"**Disclaimer:** {_one_line(form.disclaimer)}")
    return "\n\n".join(parts) + "\n"


def export_path(root, form):
    """One folder per first letter, as sites of such pages keep them."""
    slug = form.slug
    return Path(root) / slug.removeprefix("magnesium-")[0] / f"{slug}.md"
