"""
What changed between two documents of a monograph, section by section.

The form's own fields are compared section by section (monographs.schema),
rows are matched by id and shown as added, removed or changed with their
field changes, and the citations the documents quote are compared too, so
that a corrected reference shows in the review of every page citing it.
Text is compared word by word; stored text is normalised (LF, no trailing
whitespace), so line endings and whitespace never show as a change.

The HTML marks changes with <ins>/<del> and says "added"/"removed" in words
too, so that the diff does not rely on colour. Every diff is bounded: past
a size where matching words would be slow, it matches lines, and past that
it shows the old and new text whole, and says so.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from monographs.schema import (
    ROW_KINDS,
    STAFF_FORM_FIELDS,
    citation_fields,
    field_label,
    form_sections,
)

# Words, runs of whitespace and single punctuation marks. SequenceMatcher's
# autojunk drops tokens as common as a space from the matching of long texts,
# which keeps it from going quadratic on them.
TOKEN_RE = re.compile(r"\w+|[^\w\s]|\s+")
# SequenceMatcher's cost grows with the product of the two lengths: past
# these, compare coarser units.
MAX_WORD_WORK = 400_000  # one changed block, word by word
MAX_TOTAL_WORD_WORK = 2_000_000  # all the changed blocks of one text
MAX_LINE_WORK = 100_000_000  # the text, line by line
COARSE_NOTE = (
    '<p class="diff-note">This text changed too much to compare word by '
    "word: the old and new versions are shown whole.</p>"
)


def _marked(tag, text, words):
    if not text:
        return ""
    return (
        f'<{tag}><span class="visually-hidden">[{words}: </span>{escape(text)}'
        f'<span class="visually-hidden">]</span></{tag}>'
    )


def _opcodes_html(old_tokens, new_tokens, *, refine=False):
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens)
    parts = []
    budget = [MAX_TOTAL_WORD_WORK]
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed = "".join(old_tokens[i1:i2])
        added = "".join(new_tokens[j1:j2])
        if tag == "equal":
            parts.append(escape(added))
        elif refine and tag == "replace":
            parts.append(_words(removed, added, budget))
        else:
            parts.append(_marked("del", removed, "removed"))
            parts.append(_marked("ins", added, "added"))
    return "".join(parts)


def _words(old, new, budget):
    """Words within one changed block, while the text's budget lasts."""
    old_tokens, new_tokens = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    work = len(old_tokens) * len(new_tokens)
    if work <= MAX_WORD_WORK and work <= budget[0]:
        budget[0] -= work
        return _opcodes_html(old_tokens, new_tokens)
    return _marked("del", old, "removed") + _marked("ins", new, "added")


def word_diff(old, new):
    """HTML of ``new`` against ``old``: lines first, then words within them.

    Lines both texts start or end with are set aside first, as most edits
    of a long text touch a few lines in the middle.
    """
    if old == new:
        return mark_safe(escape(new))
    old_lines, new_lines = old.splitlines(True), new.splitlines(True)
    head = 0
    while (
        head < min(len(old_lines), len(new_lines))
        and old_lines[head] == new_lines[head]
    ):
        head += 1
    tail = 0
    while (
        tail < min(len(old_lines), len(new_lines)) - head
        and old_lines[-1 - tail] == new_lines[-1 - tail]
    ):
        tail += 1
    before = escape("".join(old_lines[:head]))
    after = escape("".join(old_lines[len(old_lines) - tail :]))
    old_lines = old_lines[head : len(old_lines) - tail]
    new_lines = new_lines[head : len(new_lines) - tail]
    if len(old_lines) * len(new_lines) > MAX_LINE_WORK:
        middle = (
            COARSE_NOTE
            + _marked("del", "".join(old_lines), "removed")
            + _marked("ins", "".join(new_lines), "added")
        )
    else:
        middle = _opcodes_html(old_lines, new_lines, refine=True)
    return mark_safe(before + middle + after)


def _display(instance, name):
    if instance is None:
        return ""
    field_object = instance._meta.get_field(name)
    if field_object.is_relation:
        return str(getattr(instance, name))
    if field_object.choices:
        return str(getattr(instance, f"get_{name}_display")())
    value = getattr(instance, name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


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
class SectionDiff:
    title: str
    fields: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.fields or self.rows)


@dataclass
class MonographDiff:
    old: object
    new: object
    sections: list

    def __bool__(self):
        return any(self.sections)

    @property
    def fields(self):
        return [change for section in self.sections for change in section.fields]

    @property
    def rows(self):
        return [change for section in self.sections for change in section.rows]

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


def _changes(model_name, names, old, new):
    changes = []
    for name in names:
        before, after = _display(old, name), _display(new, name)
        if before != after:
            changes.append(FieldChange(field_label(model_name, name), before, after))
    return changes


def _citations_text(row):
    return ", ".join(citation.key for citation in getattr(row, "cited", None) or [])


def _row_changes(kind, old_row, new_row):
    changes = _changes(kind.model_name, kind.fields, old_row, new_row)
    if kind.cites:
        before = _citations_text(old_row) if old_row is not None else ""
        after = _citations_text(new_row) if new_row is not None else ""
        if before != after:
            changes.append(FieldChange("Citations", before, after))
    return changes


def _rows_section(kind, old, new):
    section = SectionDiff(kind.label)
    old_rows = {row.pk: row for row in getattr(old, kind.name)} if old else {}
    new_rows = {row.pk: row for row in getattr(new, kind.name)} if new else {}
    for pk, row in new_rows.items():
        before = old_rows.get(pk)
        changes = _row_changes(kind, before, row)
        if before is None:
            section.rows.append(RowChange(kind.label, "added", str(row), changes))
        elif changes:
            section.rows.append(RowChange(kind.label, "changed", str(row), changes))
    for pk, row in old_rows.items():
        if pk not in new_rows:
            section.rows.append(
                RowChange(
                    kind.label, "removed", str(row), _row_changes(kind, row, None)
                )
            )
    return section


def _citations_section(old, new):
    """Citations both documents quote whose metadata changed in between."""
    section = SectionDiff("References")
    old_by_id = {c.pk: c for c in (old.citations.values() if old else [])}
    for citation in new.citations.values() if new else []:
        before = old_by_id.get(citation.pk)
        if before is None:
            continue
        changes = _changes("Citation", citation_fields(), before, citation)
        if changes:
            section.rows.append(
                RowChange("References", "changed", citation.key, changes)
            )
    return section


def compare(old, new, *, staff_fields=True):
    """The changes from document ``old`` to ``new`` (either None: no monograph)."""
    sections = []
    for form_section in form_sections():
        names = [
            name
            for name in form_section.fields
            if staff_fields or name not in STAFF_FORM_FIELDS
        ]
        if not names:
            continue
        sections.append(
            SectionDiff(
                capfirst(form_section.title),
                fields=_changes(
                    "MagnesiumForm",
                    names,
                    old.form if old else None,
                    new.form if new else None,
                ),
            )
        )
    sections += [_rows_section(kind, old, new) for kind in ROW_KINDS]
    sections.append(_citations_section(old, new))
    return MonographDiff(
        old=old, new=new, sections=[section for section in sections if section]
    )
