"""
Three-way merges of monograph documents, as MediaWiki merges edit conflicts.

A save made from an older revision has three versions of every value: the
*base* (the revision the editor loaded), *theirs* (the latest revision,
saved by someone else meanwhile) and *mine* (what the editor posted). A
value only one side changed takes that side's change; a value both sides
changed to different things is a conflict, which a person settles. Rows are
matched by id: rows added by either side are kept, a row one side deleted
goes unless the other side changed it (a conflict too).

Everything here is a pure function over documents (monographs.documents)
and the schema (monographs.schema): no query, no write. The admin turns its
post into a "mine" document and back (monographs.admin.merge); undo merges
the reverse of one revision into the latest document.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import models

from monographs.schema import (
    ROW_KINDS,
    ROW_KINDS_BY_NAME,
    TOPIC_MODELS,
    field_label,
    form_fields,
    normalize_text,
    row_fields,
)

FORM = None  # the "kind" of the form's own fields


@dataclass(frozen=True)
class Slot:
    """Where a value lives: the form's own field, or a row's field."""

    kind: str | None
    row_id: int | None
    field: str

    @property
    def key(self):
        """A stable name for forms and tests: "form:summary", "doses:12:notes"."""
        if self.kind is FORM:
            return f"form:{self.field}"
        return f"{self.kind}:{self.row_id}:{self.field}"

    @classmethod
    def from_key(cls, key):
        parts = key.split(":")
        if len(parts) == 2 and parts[0] == "form":
            return cls(FORM, None, parts[1])
        if len(parts) == 3 and parts[0] in ROW_KINDS_BY_NAME and parts[1].isdigit():
            return cls(parts[0], int(parts[1]), parts[2])
        raise ValueError(f"not a slot: {key!r}")


# Why a value could not be merged.
BOTH_CHANGED = "both-changed"
DELETED_BY_THEM = "deleted-by-them"  # they deleted a row I changed
DELETED_BY_ME = "deleted-by-me"  # I deleted a row they changed


@dataclass
class Conflict:
    slot: Slot
    reason: str
    label: str
    base: object = None
    theirs: object = None
    mine: object = None


@dataclass
class MergeResult:
    # Values to take from theirs: {Slot: their value}.
    take_theirs: dict = field(default_factory=dict)
    # Rows they deleted and I left alone: [(kind, id)].
    dropped_rows: list = field(default_factory=list)
    # Rows they added: {kind: [row values]}.
    their_new_rows: dict = field(default_factory=dict)
    # Rows they deleted but I changed: kept as mine, as new rows [(kind, id)].
    orphaned_rows: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    # What their side brought in, in words, for the editor.
    merged: list = field(default_factory=list)

    @property
    def clean(self):
        return not self.conflicts


def _model_field(kind, name):
    if kind is FORM:
        from django.apps import apps

        model = apps.get_model("monographs", "MagnesiumForm")
    else:
        model = ROW_KINDS_BY_NAME[kind].model
    return model._meta.get_field(name)


def canonical(kind, name, value):
    """``value`` of field ``name`` in a form comparable across its sources.

    A document stores Decimals as strings and topics as ids; a post holds
    strings, lists of strings and checkbox booleans. Unreadable input stays
    as it came, so it compares as a change.
    """
    model_field = _model_field(kind, name)
    if isinstance(model_field, models.ManyToManyField):
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return tuple(sorted({int(item) for item in values if str(item).strip()}))
        except (TypeError, ValueError):
            return tuple(str(item) for item in values)
    if isinstance(model_field, models.BooleanField):
        if isinstance(value, str):
            return value.lower() in {"on", "true", "1", "yes"}
        return bool(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if isinstance(model_field, models.CharField | models.TextField):
            return ""
        return None
    if isinstance(model_field, models.ForeignKey | models.IntegerField):
        try:
            return int(value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(model_field, models.DecimalField):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            return str(value)
    return normalize_text(str(value))


def _same(kind, name, one, other):
    return canonical(kind, name, one) == canonical(kind, name, other)


def mergeable_fields(kind):
    """The fields a merge compares: the schema's, and a row's citations."""
    if kind is FORM:
        return form_fields()
    fields = row_fields(kind)
    return (*fields, "citations") if ROW_KINDS_BY_NAME[kind].cites else fields


def _rows_by_id(document, kind):
    return {row["id"]: row for row in (document or {}).get("rows", {}).get(kind, [])}


def row_label(kind, row, document=None):
    """'Doses “Adults”', 'Evidence “Sleep quality”': a row named for people."""
    row_kind = ROW_KINDS_BY_NAME[kind]
    name = ""
    if row_kind.topic:
        topics = (document or {}).get("topics", {}).get(row_kind.topic, {})
        name = topics.get(str(row.get(row_kind.topic)), {}).get("name", "")
    for candidate in ("name", "question", "label", "drug_class", "population"):
        if not name and row.get(candidate):
            name = str(row[candidate])
    name = name if len(name) <= 60 else f"{name[:57]}…"
    return f"{row_kind.label} “{name or '#' + str(row.get('id'))}”"


def slot_label(slot, document=None, row=None):
    if slot.kind is FORM:
        return field_label("MagnesiumForm", slot.field)
    row = row or _rows_by_id(document, slot.kind).get(slot.row_id, {"id": slot.row_id})
    model_name = ROW_KINDS_BY_NAME[slot.kind].model_name
    return (
        f"{row_label(slot.kind, row, document)}: {field_label(model_name, slot.field)}"
    )


def _merge_values(result, kind, row_id, base, theirs, mine, *, documents):
    """Merge one row's (or the form's) values, field by field."""
    for name in mergeable_fields(kind):
        if name not in mine:
            continue  # not on the editor's form: theirs stands
        base_value, their_value = base.get(name), theirs.get(name)
        mine_changed = not _same(kind, name, base_value, mine[name])
        their_changed = not _same(kind, name, base_value, their_value)
        if not their_changed:
            continue
        slot = Slot(kind, row_id, name)
        label = slot_label(slot, documents[1], theirs if kind else None)
        if not mine_changed:
            result.take_theirs[slot] = their_value
            result.merged.append(label)
        elif not _same(kind, name, their_value, mine[name]):
            result.conflicts.append(
                Conflict(slot, BOTH_CHANGED, label, base_value, their_value, mine[name])
            )


def merge_documents(base, theirs, mine):
    """Merge ``mine`` into ``theirs``, both changed from ``base``.

    ``base`` and ``theirs`` are documents. ``mine`` has the same shape but
    may hold fewer fields or rows (those the editor's form had): a field or
    row it lacks is not the editor's change. A row of ``mine`` set to None
    was deleted by the editor; ``mine``'s rows without an id are new and
    need no merging.
    """
    result = MergeResult()
    documents = (base, theirs)
    _merge_values(
        result, FORM, None, base["form"], theirs["form"], mine.get("form", {}),
        documents=documents,
    )  # fmt: skip
    for kind in ROW_KINDS:
        base_rows = _rows_by_id(base, kind.name)
        their_rows = _rows_by_id(theirs, kind.name)
        my_rows = mine.get("rows", {}).get(kind.name, {})
        for row_id, their_row in their_rows.items():
            if row_id not in base_rows:
                result.their_new_rows.setdefault(kind.name, []).append(their_row)
                result.merged.append(f"{row_label(kind.name, their_row, theirs)} added")
        for row_id, base_row in base_rows.items():
            their_row = their_rows.get(row_id)
            if row_id not in my_rows:
                continue  # not on the editor's form
            my_row = my_rows[row_id]
            if their_row is None:
                label = row_label(kind.name, base_row, base)
                if my_row is None or _row_unchanged(kind.name, base_row, my_row):
                    result.dropped_rows.append((kind.name, row_id))
                    result.merged.append(f"{label} removed")
                else:
                    result.orphaned_rows.append((kind.name, row_id))
                    result.conflicts.append(
                        Conflict(
                            Slot(kind.name, row_id, "id"),
                            DELETED_BY_THEM,
                            label,
                            base=base_row,
                            mine=my_row,
                        )
                    )
                continue
            if my_row is None:
                if not _row_unchanged(kind.name, base_row, their_row):
                    result.conflicts.append(
                        Conflict(
                            Slot(kind.name, row_id, "id"),
                            DELETED_BY_ME,
                            row_label(kind.name, their_row, theirs),
                            base=base_row,
                            theirs=their_row,
                        )
                    )
                # Take their changes into the form, so that keeping the row
                # (unticking Delete) keeps their version.
                _merge_values(
                    result, kind.name, row_id, base_row, their_row,
                    {name: base_row.get(name) for name in mergeable_fields(kind.name)},
                    documents=documents,
                )  # fmt: skip
                continue
            _merge_values(
                result, kind.name, row_id, base_row, their_row, my_row,
                documents=documents,
            )  # fmt: skip
    return result


def _row_unchanged(kind, base_row, row):
    return all(
        _same(kind, name, base_row.get(name), row[name])
        for name in mergeable_fields(kind)
        if name in row
    )


def document_apply(mine, result, *, theirs):
    """The full document ``mine`` with ``result``'s merge of ``theirs`` applied.

    For merges whose ``mine`` is a whole document (undo): their values,
    their new rows and their deletions go in; conflicting values stay mine.
    """
    merged = {
        **mine,
        "form": dict(mine["form"]),
        "rows": {kind: [dict(row) for row in rows] for kind, rows in mine["rows"].items()},
        "citations": {**theirs.get("citations", {}), **mine.get("citations", {})},
        "topics": {
            name: {
                **theirs.get("topics", {}).get(name, {}),
                **mine.get("topics", {}).get(name, {}),
            }
            for name in TOPIC_MODELS
        },
    }  # fmt: skip
    dropped = set(result.dropped_rows)
    for kind in ROW_KINDS:
        rows = [
            row
            for row in merged["rows"].get(kind.name, [])
            if (kind.name, row["id"]) not in dropped
        ]
        present = {row["id"] for row in rows}
        rows += [
            dict(row)
            for row in result.their_new_rows.get(kind.name, [])
            if row["id"] not in present
        ]
        merged["rows"][kind.name] = rows
    for slot, value in result.take_theirs.items():
        if slot.kind is FORM:
            merged["form"][slot.field] = value
            continue
        for row in merged["rows"][slot.kind]:
            if row["id"] == slot.row_id:
                row[slot.field] = value
    return merged


def merge_summary(result):
    """One sentence saying what a clean merge brought in."""
    if not result.merged:
        return ""
    return "; ".join(dict.fromkeys(result.merged))
