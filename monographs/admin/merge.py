"""
The admin's side of a three-way merge: a post as a "mine" document, and the
post rewritten to hold the merge (monographs.services.merging decides it).

A change page posts the monograph's own fields and, for each kind of row, an
inline formset (``doses-0-notes``…). ``post_mine`` reads the values the
editor's form held; ``post_rewrite`` puts their side's changes into a copy
of the post, so that Django's forms validate and save the merged monograph
as if the editor had typed it, starting from the latest revision.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.safestring import mark_safe

from monographs.diffs import word_diff
from monographs.schema import ROW_KINDS_BY_NAME, TOPIC_MODELS, normalize_text
from monographs.services.merging import (
    BOTH_CHANGED,
    DELETED_BY_ME,
    DELETED_BY_THEM,
    FORM,
    Slot,
    mergeable_fields,
)
from monographs.views.params import whole_number

TAKE_THEIRS = "merge_take_theirs"


@dataclass
class FormsetSpec:
    """One inline formset on the page: its prefix (the row kind) and fields."""

    prefix: str
    fields: dict  # {name: form field}


@dataclass
class PostShape:
    """Which post keys hold which document values on one admin page."""

    main_kind: str | None  # FORM on a monograph page, a row kind on a row's page
    main_row_id: int | None
    main_fields: dict  # {name: form field}
    formsets: list = field(default_factory=list)

    def main_slot(self, name):
        return Slot(self.main_kind, self.main_row_id, name)


def _read(form_field, data, name):
    return form_field.widget.value_from_datadict(data, {}, name)


def as_post(kind, name, value):
    """The post values a browser sends for document value ``value``."""
    from monographs.services.merging import _model_field

    model_field = _model_field(kind, name)
    if model_field.many_to_many:
        return [str(item) for item in value or []]
    if model_field.get_internal_type() == "BooleanField":
        return ["on"] if value else []
    return ["" if value is None else str(value)]


def _total(data, prefix):
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", "0"))
    except ValueError:
        return 0
    return max(0, min(total, settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))


def _formset_forms(data, prefix):
    """The forms of formset ``prefix`` in the post: [{suffix: [values]}]."""
    forms = []
    for index in range(_total(data, prefix)):
        start = f"{prefix}-{index}-"
        forms.append(
            {
                key.removeprefix(start): data.getlist(key)
                for key in data
                if key.startswith(start)
            }
        )
    return forms


def _form_id(values):
    return whole_number((values.get("id") or [""])[0].strip())


def _deleted(values):
    return bool([value for value in values.get("DELETE", []) if value])


def post_mine(data, shape):
    """The editor's side as a partial document: what their form held."""
    names = [
        name for name in mergeable_fields(shape.main_kind) if name in shape.main_fields
    ]
    main = {name: _read(shape.main_fields[name], data, name) for name in names}
    if shape.main_kind is FORM:
        mine = {"form": main, "rows": {}}
    else:
        mine = {"form": {}, "rows": {shape.main_kind: {shape.main_row_id: main}}}
    for spec in shape.formsets:
        rows = mine["rows"].setdefault(spec.prefix, {})
        names = [name for name in mergeable_fields(spec.prefix) if name in spec.fields]
        for index, values in enumerate(_formset_forms(data, spec.prefix)):
            row_id = _form_id(values)
            if row_id is None:
                continue
            if _deleted(values):
                rows[row_id] = None
                continue
            rows[row_id] = {
                name: _read(spec.fields[name], data, f"{spec.prefix}-{index}-{name}")
                for name in names
            }
    return mine


def _set(data, key, values):
    data.setlist(key, values)
    if not values:
        del data[key]


def post_rewrite(data, shape, result, *, parent_id=None):
    """A copy of ``data`` holding ``result``'s merge."""
    data = data.copy()
    for slot, value in result.take_theirs.items():
        if slot.kind == shape.main_kind and slot.row_id == shape.main_row_id:
            _set(data, slot.field, as_post(slot.kind, slot.field, value))
    for spec in shape.formsets:
        _rewrite_formset(data, spec, result, parent_id=parent_id)
    return data


def _rewrite_formset(data, spec, result, *, parent_id):
    kind = spec.prefix
    forms = _formset_forms(data, kind)
    dropped = {row_id for name, row_id in result.dropped_rows if name == kind}
    orphaned = {row_id for name, row_id in result.orphaned_rows if name == kind}
    kept, extra = [], []
    for values in forms:
        row_id = _form_id(values)
        if row_id in dropped:
            continue
        if row_id in orphaned:
            # They deleted it; the editor's version comes back as a new row.
            extra.append({**values, "id": [""]})
            continue
        (kept if row_id is not None else extra).append(values)
    present = {_form_id(values) for values in kept}
    for row in result.their_new_rows.get(kind, []):
        if row["id"] in present:
            continue
        values = {"id": [str(row["id"])], "form": [str(parent_id or "")]}
        for name in mergeable_fields(kind):
            if name in spec.fields:
                values[name] = as_post(kind, name, row.get(name))
        kept.append(values)
    by_id = {_form_id(values): values for values in kept}
    for slot, value in result.take_theirs.items():
        if slot.kind == kind and slot.row_id in by_id and slot.field in spec.fields:
            by_id[slot.row_id][slot.field] = as_post(kind, slot.field, value)
    if "position" in spec.fields:
        taken = {row.get("position") for row in result.their_new_rows.get(kind, [])}
        _place_after(data, kind, extra, kept, taken)
    for index in range(len(forms)):
        start = f"{kind}-{index}-"
        for key in [key for key in data if key.startswith(start)]:
            del data[key]
    for index, values in enumerate(kept + extra):
        for suffix, post_values in values.items():
            _set(data, f"{kind}-{index}-{suffix}", post_values)
    data[f"{kind}-TOTAL_FORMS"] = str(len(kept) + len(extra))
    data[f"{kind}-INITIAL_FORMS"] = str(len(kept))


def _position(values):
    return whole_number((values.get("position") or [""])[0].strip())


def _untouched(values, template):
    """Whether a row added on the page still holds the values "Add another"
    gave it (the formset's ``__prefix__`` row, posted with the page): Django
    skips such a row, as long as its position is not moved either."""
    return all(
        values.get(name, []) == template.get(name, [])
        for name in set(values) | set(template)
        if name not in ("id", "form", "DELETE")
    )


def _place_after(data, kind, extra, kept, taken):
    """Put the editor's new rows that took a position one of their new rows
    took (both appended at once, so both at the end) after every other row;
    rows added and left as they were keep the new default position."""
    prefix = f"{kind}-__prefix__-"
    template = {
        key.removeprefix(prefix): data.getlist(key)
        for key in data
        if key.startswith(prefix)
    }
    kept_positions = [p for p in map(_position, kept) if p is not None]
    # What the formset will give a new row when this post is read again:
    # past the rows saved now, theirs included (AppendingFormSet).
    default = max(kept_positions, default=-1) + 1
    last = max(
        [*kept_positions, *(p for p in map(_position, extra) if p is not None)],
        default=-1,
    )
    for values in extra:
        if _untouched(values, template):
            # Still as added: it must stay unchanged to be skipped.
            values["position"] = [str(default)]
        elif _position(values) in taken:
            last += 1
            values["position"] = [str(last)]


def post_take_theirs(data, shape, document):
    """Apply the "take their version" boxes ticked on a conflict page.

    Their version is the one shown, the revision the page was drawn from
    (``document``): the box sets the field back to it, so that the merge
    sees no change of the editor's there.
    """
    keys = data.getlist(TAKE_THEIRS)
    if not keys:
        return data
    data = data.copy()
    del data[TAKE_THEIRS]
    rows = {
        (kind, row["id"]): row
        for kind, kind_rows in document.get("rows", {}).items()
        for row in kind_rows
    }
    formset_index = {}
    for spec in shape.formsets:
        for index, values in enumerate(_formset_forms(data, spec.prefix)):
            formset_index[(spec.prefix, _form_id(values))] = (spec, index)
    for key in keys:
        try:
            slot = Slot.from_key(key)
        except ValueError:
            continue
        if slot.kind is FORM:
            if slot.kind == shape.main_kind and slot.field in shape.main_fields:
                value = document["form"].get(slot.field)
                _set(data, slot.field, as_post(FORM, slot.field, value))
            continue
        row = rows.get((slot.kind, slot.row_id))
        if row is None:
            continue
        value = row.get(slot.field)
        if slot.kind == shape.main_kind and slot.row_id == shape.main_row_id:
            if slot.field in shape.main_fields:
                _set(data, slot.field, as_post(slot.kind, slot.field, value))
            continue
        found = formset_index.get((slot.kind, slot.row_id))
        if found and slot.field in found[0].fields:
            spec, index = found
            key = f"{spec.prefix}-{index}-{slot.field}"
            _set(data, key, as_post(slot.kind, slot.field, value))
    return data


def display_value(kind, name, value, document):
    """A value as the editor reads it: topics and citations by name."""
    if value is None or (isinstance(value, str) and not normalize_text(value)):
        return "(empty)"
    if name == "citations":
        citations = document.get("citations", {})
        keys = [citations.get(str(pk), {}).get("key", f"#{pk}") for pk in value]
        return ", ".join(keys) or "(none)"
    if name in TOPIC_MODELS:
        topic = document.get("topics", {}).get(name, {}).get(str(value))
        return topic["name"] if topic else f"#{value}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    # As it would be stored: the browser posts CRLF, revisions hold LF, and
    # the comparison below must not mark every line break.
    return normalize_text(str(value))


@dataclass
class ConflictView:
    """A conflict as the page shows it."""

    key: str
    label: str
    reason: str
    field_id: str
    theirs: str
    mine: str
    diff: str
    choosable: bool

    @property
    def reason_text(self):
        return REASONS[self.reason]


def _field_id(slot, data, shape):
    if slot.kind == shape.main_kind and slot.row_id == shape.main_row_id:
        return f"id_{slot.field}"
    for index, values in enumerate(_formset_forms(data, slot.kind or "")):
        if _form_id(values) == slot.row_id:
            suffix = slot.field if slot.field != "id" else "DELETE"
            return f"id_{slot.kind}-{index}-{suffix}"
    return ""


def _row_text(kind, row, document):
    if not row:
        return "(deleted)"
    model = ROW_KINDS_BY_NAME[kind].model
    parts = []
    for name in mergeable_fields(kind):
        if name in row and row[name] not in (None, "", []):
            label = model._meta.get_field(name).verbose_name
            parts.append(f"{label}: {display_value(kind, name, row[name], document)}")
    return "\n".join(parts)


def conflict_views(result, data, shape, *, theirs, mine_document):
    """What each conflict shows: their version, mine, and the difference."""
    views = []
    for conflict in result.conflicts:
        slot = conflict.slot
        if conflict.reason == BOTH_CHANGED:
            their_text = display_value(slot.kind, slot.field, conflict.theirs, theirs)
            my_value = conflict.mine
            if slot.field == "citations" or slot.field in TOPIC_MODELS:
                my_text = display_value(slot.kind, slot.field, my_value, mine_document)
            else:
                my_text = display_value(slot.kind, slot.field, my_value, theirs)
        elif conflict.reason == DELETED_BY_THEM:
            their_text = "(deleted)"
            my_text = _row_text(slot.kind, conflict.mine, mine_document)
        else:
            their_text = _row_text(slot.kind, conflict.theirs, theirs)
            my_text = "(deleted)"
        views.append(
            ConflictView(
                key=slot.key,
                label=conflict.label,
                reason=conflict.reason,
                field_id=_field_id(slot, data, shape),
                theirs=their_text,
                mine=my_text,
                diff=mark_safe(word_diff(their_text, my_text)),  # noqa: S308 - escaped by word_diff
                choosable=conflict.reason == BOTH_CHANGED,
            )
        )
    return views


REASONS = {
    BOTH_CHANGED: "changed on both sides",
    DELETED_BY_THEM: "they deleted this row, you changed it: your version is kept "
    "as a new row (tick its Delete box to drop it)",
    DELETED_BY_ME: "you deleted this row, they changed it: your deletion stands "
    "(untick its Delete box to keep their version)",
}


class MergesStaleSaves:
    """A ContentAdmin whose saves made from an older revision are merged.

    ``merge_post`` runs inside the save's transaction, under the monograph's
    lock (held until the save's revision is written): it merges the post
    with the revisions saved since the page was loaded and puts the merged
    post in the request's place.
    """

    def monograph_pk(self, obj):
        raise NotImplementedError

    def post_shape(self, request, obj):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.merge_conflicts = tuple(getattr(request, "_merge_conflicts", ()))
        return form

    def merge_post(self, request, object_id):
        from django.contrib import messages
        from django.contrib.admin.utils import unquote
        from django.template.response import TemplateResponse

        from monographs.models import Citation, MagnesiumForm, Revision
        from monographs.services.merging import merge_documents, merge_summary

        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_change_permission(request, obj):
            return {}  # the admin says why
        form_id = self.monograph_pk(obj)
        MagnesiumForm.objects.select_for_update().filter(pk=form_id).exists()
        revisions = Revision.objects.with_document().for_form(form_id)
        latest = revisions.order_by("-number").first()
        if latest is None:
            return {}
        try:
            base_number = int(request.POST.get("base_revision", ""))
        except ValueError:
            base_number = None
        base = None
        if base_number is not None and 0 < base_number <= latest.number:
            base = revisions.filter(number=base_number).first()
        if base is None or base.deleted:
            return TemplateResponse(
                request,
                "admin/monographs/bad_request.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "This save could not be read",
                    "message": "The form did not say which revision of this "
                    "monograph you started from, so your changes could not be "
                    "merged with the latest ones. Nothing was saved. Go back, copy "
                    "your text, reload the page and make your edit again.",
                },
                status=400,
            )
        shape = self.post_shape(request, obj)
        data = post_take_theirs(request.POST, shape, base.document)
        if base.number == latest.number:
            request.POST = data
            return {}
        mine = post_mine(data, shape)
        result = merge_documents(base.document, latest.document, mine)
        data = post_rewrite(data, shape, result, parent_id=form_id)
        data["base_revision"] = str(latest.number)
        request.POST = data
        request._merge_conflicts = result.conflicts
        saved_since = list(
            Revision.objects.for_form(form_id)
            .filter(number__gt=base.number)
            .select_related("user")
            .order_by("number")
        )
        cited = {
            pk
            for conflict in result.conflicts
            if conflict.slot.field == "citations"
            for pk in (conflict.mine or [])
            if whole_number(str(pk)) is not None
        }
        mine_document = {
            "citations": {
                str(pk): {"key": key}
                for pk, key in Citation.objects.filter(pk__in=cited).values_list(
                    "pk", "key"
                )
            },
            "topics": latest.document.get("topics", {}),
        }
        who = "; ".join(
            f"revision {revision.number} by {revision.author_name} "
            f"(“{revision.summary or 'no summary'}”)"
            for revision in saved_since
        )
        if result.clean:
            summary = merge_summary(result)
            messages.info(
                request,
                f"Merged with what was saved while you were editing ({who}): "
                + (
                    f"their changes, kept with yours: {summary}."
                    if summary
                    else "they changed nothing you did not change the same way."
                ),
            )
        return {
            "merge": {
                "latest": latest,
                "base_number": base.number,
                "saved_since": saved_since,
                "merged": list(dict.fromkeys(result.merged)),
                "conflicts": conflict_views(
                    result,
                    data,
                    shape,
                    theirs=latest.document,
                    mine_document=mine_document,
                ),
            }
        }
