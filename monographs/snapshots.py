"""
A monograph rebuilt from the history tables as it was at one revision.

Public pages show the published revision, staff preview the latest one and
permalinks show any: all of them are snapshots, so readers see exactly what
a reviewer approved, whatever was edited since.
"""

import functools
from dataclasses import dataclass

from django.db.models import F, Max

from monographs.markdown import citation_keys
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
    Revision,
    SideEffect,
    Synonym,
)

ROW_MODELS = {
    "synonyms": Synonym,
    "evidence": Evidence,
    "side_effects": FormSideEffect,
    "doses": Dose,
    "interactions": Interaction,
    "precautions": Precaution,
    "faqs": FAQ,
}


# Markdown that may cite sources as [@key].
TEXT_FIELDS = {
    MagnesiumForm: [
        "summary",
        "composition_note",
        "absorption_notes",
        "tolerability_notes",
        "usage",
        "dosage_notes",
        "precaution_notes",
        "mechanism",
        "disclaimer",
    ],
    Evidence: ["summary"],
    FormSideEffect: ["notes"],
    Dose: ["notes"],
    Precaution: ["text"],
    FAQ: ["answer"],
}


@dataclass
class MonographSnapshot:
    form: MagnesiumForm
    revision: Revision
    synonyms: list
    evidence: list
    side_effects: list
    doses: list
    interactions: list
    precautions: list
    faqs: list

    def rows(self):
        """(name, rows) for each kind of row, in page order."""
        return [(name, getattr(self, name)) for name in ROW_MODELS]

    def texts(self):
        """Every piece of Markdown the monograph holds, its rows' included."""
        for name in TEXT_FIELDS[MagnesiumForm]:
            yield getattr(self.form, name)
        for name, rows in self.rows():
            for field_name in TEXT_FIELDS.get(ROW_MODELS[name], ()):
                for row in rows:
                    yield getattr(row, field_name)


@functools.cache
def historical(model):
    """The history table of ``model``.

    ``model.history`` builds a new manager class on every access, a cost the
    hot paths here should pay once.
    """
    return model.history.model


def as_instance(record):
    """The object a historical record describes, without a query.

    simple-history's ``record.instance`` reads fields the history leaves out
    (a form's workflow state) from the live row, one query per record.
    """
    model = record.instance_type
    values = {
        field.attname: getattr(record, field.attname)
        for field in model._meta.concrete_fields
        if hasattr(record, field.attname)
    }
    instance = model(**values)
    instance._state.adding = False
    return instance


def _latest_records(historical_model, **filters):
    """The newest historical record of each object matching ``filters``, unless deleted."""
    newest = (
        historical_model.objects.filter(**filters)
        .order_by()
        .values("id")
        .annotate(newest=Max("history_id"))
        .values("newest")
    )
    return historical_model.objects.filter(history_id__in=newest).exclude(
        history_type="-"
    )


def _as_of(model, ids, when):
    """Objects of ``model`` with these ids as they were at ``when``, by id."""
    if not ids:
        return {}
    records = _latest_records(historical(model), id__in=ids, history_date__lte=when)
    return {record.id: as_instance(record) for record in records}


def cited_ids(model, records):
    """{history_id: [citation ids]} for historical records of a model with citations."""
    if not hasattr(model, "citations") or not records:
        return {}
    links = (
        historical(model)
        .citations.model.objects.filter(
            history_id__in=[record.history_id for record in records]
        )
        .values_list("history_id", "citation_id")
    )
    cited = {}
    for history_id, citation_id in links:
        cited.setdefault(history_id, []).append(citation_id)
    return cited


def _row_sort_key(row):
    return (getattr(row, "position", 0), row.pk)


def snapshot(revision):
    """The monograph of ``revision`` as it stood once that revision was saved.

    Returns None if the revision deleted the monograph.
    """
    form_id = revision.form_id
    upto = {"revision__form_id": form_id, "revision__number__lte": revision.number}
    form_record = (
        historical(MagnesiumForm)
        .objects.filter(id=form_id, **upto)
        .order_by("-history_id")
        .first()
    )
    if form_record is None or form_record.history_type == "-":
        return None
    form = as_instance(form_record)

    rows = {}
    citation_ids = set()
    for name, model in ROW_MODELS.items():
        records = list(_latest_records(historical(model), form_id=form_id, **upto))
        cited = cited_ids(model, records)
        rows[name] = []
        for record in records:
            row = as_instance(record)
            row.cited_ids = cited.get(record.history_id, [])
            citation_ids.update(row.cited_ids)
            rows[name].append(row)

    when = revision.created_at
    citations = _as_of(Citation, citation_ids, when)
    indications = _as_of(
        Indication, {row.indication_id for row in rows["evidence"]}, when
    )
    side_effects = _as_of(
        SideEffect, {row.side_effect_id for row in rows["side_effects"]}, when
    )
    # Like topics below, a citation created in the same save as the row
    # citing it postdates the revision's timestamp.
    missing = citation_ids - citations.keys()
    if missing:
        citations.update(Citation.objects.in_bulk(missing))
    for kind in rows.values():
        for row in kind:
            row.cited = sorted(
                (citations[pk] for pk in row.cited_ids if pk in citations),
                key=lambda citation: citation.key,
            )
    # A topic created in the same save as the row postdates the revision's
    # timestamp: the current one is then the right one.
    for row in rows["evidence"]:
        row.indication = indications.get(row.indication_id) or Indication.objects.get(
            pk=row.indication_id
        )
    for row in rows["side_effects"]:
        row.side_effect = side_effects.get(
            row.side_effect_id
        ) or SideEffect.objects.get(pk=row.side_effect_id)
    for kind in rows.values():
        for row in kind:
            row.form = form

    rows["synonyms"].sort(key=lambda row: row.name)
    rows["evidence"].sort(key=lambda row: row.indication.name)
    rows["side_effects"].sort(key=lambda row: row.side_effect.name)
    for name in ("doses", "interactions", "precautions", "faqs"):
        rows[name].sort(key=_row_sort_key)
    return MonographSnapshot(form=form, revision=revision, **rows)


def published_records(model, **filters):
    """Historical records of ``model`` as each monograph's published revision has them.

    One query for all monographs: the newest record of each row among the
    revisions up to its monograph's published one.
    """
    historical_model = historical(model)
    newest = (
        historical_model.objects.filter(
            revision__form__published_revision__isnull=False,
            revision__number__lte=F("revision__form__published_revision__number"),
        )
        .order_by()
        .values("id")
        .annotate(newest=Max("history_id"))
        .values("newest")
    )
    return historical_model.objects.filter(history_id__in=newest, **filters).exclude(
        history_type="-"
    )


def published_forms():
    """Every published monograph's form row as readers see it, by name."""
    forms = [as_instance(record) for record in published_records(MagnesiumForm)]
    return sorted(forms, key=lambda form: form.name)


def published_citation_usage():
    """{citation id: [forms citing it]} over the published monographs, forms by name.

    A form cites what its rows have attached and what its text marks [@key].
    """
    forms = {form.pk: form for form in published_forms()}
    usage = {}

    def use(citation_id, form_id):
        if form_id in forms:
            usage.setdefault(citation_id, {})[form_id] = forms[form_id]

    keys_by_form = {}
    for form in forms.values():
        for name in TEXT_FIELDS[MagnesiumForm]:
            keys_by_form.setdefault(form.pk, set()).update(
                citation_keys(getattr(form, name))
            )
    for model in ROW_MODELS.values():
        records = list(published_records(model))
        links = cited_ids(model, records)
        for record in records:
            for citation_id in links.get(record.history_id, []):
                use(citation_id, record.form_id)
            for name in TEXT_FIELDS.get(model, ()):
                keys_by_form.setdefault(record.form_id, set()).update(
                    citation_keys(getattr(record, name))
                )
    wanted = {key for keys in keys_by_form.values() for key in keys}
    ids = dict(Citation.objects.filter(key__in=wanted).values_list("key", "pk"))
    for form_id, keys in keys_by_form.items():
        for key in keys & ids.keys():
            use(ids[key], form_id)
    return {
        citation_id: sorted(by_form.values(), key=lambda form: form.name)
        for citation_id, by_form in usage.items()
    }
