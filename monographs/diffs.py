"""
What changed between two snapshots of a monograph: per section word by
word, per row added, removed or changed.

The HTML marks changes with <ins>/<del> and says "added"/"removed" in words
too, so that the diff does not rely on colour.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from monographs.models import MagnesiumForm
from monographs.snapshots import ROW_MODELS

TOKEN_RE = re.compile(r"\s+|[^\s\w]|\w+")
MAX_WORD_TOKENS = 2000

FORM_FIELDS = [
    "name",
    "slug",
    "category",
    "formula_basis",
    "elemental_mg_percent",
    "composition_note",
    "absorption_notes",
    "tolerability_notes",
    "summary",
    "usage",
    "mechanism",
    "dosage_notes",
    "precaution_notes",
    "disclaimer",
]
# Imported text not yet placed: reviewers see it change, readers never do.
STAFF_FORM_FIELDS = ["other_sections"]

ROW_FIELDS = {
    "synonyms": ["name", "slug"],
    "evidence": [
        "indication",
        "direction",
        "certainty",
        "applicability",
        "studies_improved",
        "studies_total",
        "summary",
    ],
    "side_effects": ["side_effect", "frequency", "seriousness", "notes"],
    "doses": [
        "population",
        "purpose",
        "minimum_mg",
        "maximum_mg",
        "timing",
        "notes",
        "exceeds_ul_acknowledged",
        "position",
    ],
    "interactions": [
        "drug_class",
        "examples",
        "significance",
        "mechanism",
        "management",
        "position",
    ],
    "precautions": ["kind", "label", "text", "position"],
    "faqs": ["question", "answer", "position"],
}


def _label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)


def _display(instance, name):
    field = instance._meta.get_field(name)
    if field.is_relation:
        return str(getattr(instance, name))
    if field.choices:
        return str(getattr(instance, f"get_{name}_display")())
    value = getattr(instance, name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def word_diff(old, new):
    """HTML of ``new`` against ``old``, word by word, with <del> and <ins>.

    Long texts are compared line by line instead: matching words is quadratic,
    and a diff page must not become a way to tie up the server.
    """
    old_tokens = TOKEN_RE.findall(old)
    new_tokens = TOKEN_RE.findall(new)
    if max(len(old_tokens), len(new_tokens)) > MAX_WORD_TOKENS:
        old_tokens, new_tokens = old.splitlines(True), new.splitlines(True)
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    parts = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed = escape("".join(old_tokens[i1:i2]))
        added = escape("".join(new_tokens[j1:j2]))
        if tag == "equal":
            parts.append(added)
            continue
        if removed:
            parts.append(
                f'<del><span class="visually-hidden">[removed: </span>{removed}'
                '<span class="visually-hidden">]</span></del>'
            )
        if added:
            parts.append(
                f'<ins><span class="visually-hidden">[added: </span>{added}'
                '<span class="visually-hidden">]</span></ins>'
            )
    return mark_safe("".join(parts))


@dataclass
class FieldChange:
    label: str
    old: str
    new: str

    @property
    def html(self):
        return word_diff(self.old, self.new)


@dataclass
class RowChange:
    section: str
    action: str  # "added", "removed" or "changed"
    label: str
    fields: list = field(default_factory=list)


@dataclass
class MonographDiff:
    old: object
    new: object
    fields: list
    rows: list

    def __bool__(self):
        return bool(self.fields or self.rows)

    def summary(self):
        """Short words for what changed, e.g. ['Summary', 'Doses: 1 added']."""
        parts = [change.label for change in self.fields]
        counts = {}
        for change in self.rows:
            counts.setdefault(change.section, {}).setdefault(change.action, 0)
            counts[change.section][change.action] += 1
        for section, actions in counts.items():
            detail = ", ".join(f"{n} {action}" for action, n in actions.items())
            parts.append(f"{section}: {detail}")
        return parts


def _citations_text(row):
    return ", ".join(citation.key for citation in getattr(row, "cited", []))


def _row_changes(model, name, old_row, new_row):
    changes = []
    for field_name in ROW_FIELDS[name]:
        old = _display(old_row, field_name) if old_row is not None else ""
        new = _display(new_row, field_name) if new_row is not None else ""
        if old != new:
            changes.append(FieldChange(_label(model, field_name), old, new))
    if hasattr(model, "citations"):
        old = _citations_text(old_row) if old_row is not None else ""
        new = _citations_text(new_row) if new_row is not None else ""
        if old != new:
            changes.append(FieldChange("Citations", old, new))
    return changes


def compare(old, new, *, staff_fields=True):
    """The changes from snapshot ``old`` (None for an empty monograph) to ``new``."""
    fields = []
    for name in FORM_FIELDS + (STAFF_FORM_FIELDS if staff_fields else []):
        before = _display(old.form, name) if old is not None else ""
        after = _display(new.form, name)
        if before != after:
            fields.append(FieldChange(_label(MagnesiumForm, name), before, after))
    rows = []
    for name, model in ROW_MODELS.items():
        section = capfirst(model._meta.verbose_name_plural)
        old_rows = {row.pk: row for row in getattr(old, name, [])} if old else {}
        new_rows = {row.pk: row for row in getattr(new, name)}
        for pk, row in new_rows.items():
            before = old_rows.get(pk)
            changes = _row_changes(model, name, before, row)
            if before is None:
                rows.append(RowChange(section, "added", str(row), changes))
            elif changes:
                rows.append(RowChange(section, "changed", str(row), changes))
        for pk, row in old_rows.items():
            if pk not in new_rows:
                rows.append(
                    RowChange(
                        section,
                        "removed",
                        str(row),
                        _row_changes(model, name, row, None),
                    )
                )
    return MonographDiff(old=old, new=new, fields=fields, rows=rows)
