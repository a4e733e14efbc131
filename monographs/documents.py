"""
A monograph as one document: what a revision stores and readers are shown.

``document_build`` reads a monograph's live rows into a plain, JSON-ready
dict: the form's fields, every row with its id, and, as they stand at that
moment, the metadata of every citation it cites and the topics its rows
name. ``document_load`` turns a stored document back into unsaved model
instances for templates, diffs and exports, without a query.

A document never changes once stored, so a page drawn from it is the same
for ever, whatever is edited later.
"""

import datetime
import functools
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from django.db.models import DateField, DateTimeField, DecimalField

from monographs.markdown import citation_keys
from monographs.prepared import PreparedValues
from monographs.schema import (
    ROW_KINDS,
    ROW_KINDS_BY_NAME,
    SCHEMA_VERSION,
    STAFF_FORM_FIELDS,
    TOPIC_FIELDS,
    TOPIC_MODELS,
    citation_fields,
    form_fields,
    markdown_fields,
    normalize_text,
    row_fields,
)


def _json_value(value):
    if value.__class__ is str:
        return normalize_text(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return normalize_text(value)


def _clean(values):
    return {
        name: value if name == "citations" else _json_value(value)
        for name, value in values.items()
    }


def _model(name):
    from django.apps import apps

    return apps.get_model("monographs", name)


@functools.cache
def _form_query():
    return PreparedValues(
        lambda form_id: (
            _model("MagnesiumForm")
            .objects.filter(pk=form_id)
            .order_by()
            .values("id", *form_fields())
        )
    )


@functools.cache
def _rows_query(kind_name):
    """A kind's rows of one form, with the fields of the topic each names and
    of each citation it cites: a cited row comes once per citation it has."""
    kind = ROW_KINDS_BY_NAME[kind_name]
    model = kind.model
    columns = [model._meta.get_field(name).attname for name in row_fields(kind_name)]
    if kind.topic:
        columns += [f"{kind.topic}__{name}" for name in TOPIC_FIELDS]
    if kind.cites:
        columns += ["citations", *(f"citations__{name}" for name in citation_fields())]
    # No ORDER BY: assembly sorts, and Meta.ordering would join topics.
    return PreparedValues(
        lambda form_id: (
            model.objects.filter(form_id=form_id).order_by().values("id", *columns)
        )
    )


@functools.cache
def _cited_by_key():
    return PreparedValues(
        lambda keys: (
            _model("Citation")
            .objects.filter(key__in=keys)
            .order_by()
            .values("id", *citation_fields())
        ),
        many=True,
    )


def _related(values, prefix, names):
    return {name: values[f"{prefix}__{name}"] for name in names}


def document_build(form_id):
    """The document of monograph ``form_id`` as it stands now; {} if deleted.

    Runs on every save, so it is a query for the form and one a row kind,
    each compiled once (monographs.prepared); the rows' queries bring the
    topics and citations they name. Only a citation cited by key alone, in
    the text, costs one more.
    """
    form = next(iter(_form_query().run(form_id)), None)
    if form is None:
        return {}
    rows = {}
    cited = {}
    named = {name: {} for name in TOPIC_MODELS}
    for kind in ROW_KINDS:
        names = row_fields(kind.name)
        attnames = [kind.model._meta.get_field(name).attname for name in names]
        by_id = {}
        for values in _rows_query(kind.name).run(form_id):
            row = by_id.get(values["id"])
            if row is None:
                row = by_id[values["id"]] = {"id": values["id"]}
                for name, attname in zip(names, attnames, strict=True):
                    row[name] = values[attname]
                if kind.cites:
                    row["citations"] = []
                if kind.topic and row[kind.topic] is not None:
                    named[kind.topic][row[kind.topic]] = {
                        "id": row[kind.topic],
                        **_related(values, kind.topic, TOPIC_FIELDS),
                    }
            if kind.cites and values["citations"] is not None:
                row["citations"].append(values["citations"])
                cited[values["citations"]] = {
                    "id": values["citations"],
                    **_related(values, "citations", citation_fields()),
                }
        rows[kind.name] = list(by_id.values())

    def citations(ids, keys):
        found = [values for pk, values in cited.items() if pk in ids]
        missing = set(keys) - {values["key"] for values in found}
        if missing:
            ids = {values["id"] for values in found}
            found += [
                values
                for values in _cited_by_key().run(sorted(missing))
                if values["id"] not in ids
            ]
        return found

    def topics(name, ids):
        return [values for pk, values in named[name].items() if pk in ids]

    return document_assemble(form, rows, citations, topics)


def document_assemble(form, rows, find_citations, find_topics):
    """A document from plain values: the one place its shape is decided.

    ``form`` and ``rows`` ({kind: [values]}) hold field values by field name,
    topics by id and ``citations`` as lists of ids. ``find_citations(ids,
    keys)`` and ``find_topics(name, ids)`` return the values of the citations
    and topics the monograph quotes. Also used by the migration that built
    the documents of revisions written before documents existed.
    """
    texts = [form[name] for name in markdown_fields("MagnesiumForm")]
    citation_ids = set()
    topic_ids = {name: set() for name in TOPIC_MODELS}
    for kind in ROW_KINDS:
        for row in rows[kind.name]:
            if kind.topic:
                topic_ids[kind.topic].add(row[kind.topic])
            if kind.cites:
                citation_ids.update(row["citations"])
            texts += [row[name] for name in kind.markdown_fields]
    keys = {key for text in texts if text for key in citation_keys(text)}
    citations = {
        str(values["id"]): _clean(values)
        for values in find_citations(citation_ids, keys)
    }
    topics = {
        name: {
            str(values["id"]): _clean(values)
            for values in find_topics(name, topic_ids[name])
        }
        for name in TOPIC_MODELS
    }
    key_of = {int(pk): citation["key"] for pk, citation in citations.items()}
    shaped = {}
    for kind in ROW_KINDS:
        kind_rows = [_clean(row) for row in rows[kind.name]]
        for row in kind_rows:
            if kind.cites:
                # Cited rows keep their citations in key order, as pages list them.
                row["citations"] = sorted(
                    row["citations"], key=lambda pk: (key_of.get(pk, ""), pk)
                )
        kind_rows.sort(
            key=lambda row, kind=kind: kind.sort_key(
                row, topics.get(kind.topic) if kind.topic else None
            )
        )
        shaped[kind.name] = kind_rows
    return {
        "schema": SCHEMA_VERSION,
        "form": _clean(form),
        "rows": shaped,
        "citations": citations,
        "topics": topics,
    }


def document_digest(document):
    """A fingerprint of a document's content, to compare two without loading
    either (the migration that built old documents computes it the same way).

    The canonical form is ``json.dumps(document, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`` in UTF-8. orjson writes the
    same bytes for every document (they hold no floats, the one value the two
    print differently) fourteen times faster, and every save computes one.
    """
    return hashlib.sha256(
        orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def document_size(document):
    """Characters of text a document holds: what the history's sizes count."""
    if not document:
        return 0

    def size(values):
        return sum(len(value) for value in values.values() if isinstance(value, str))

    total = size(document["form"])
    for kind_rows in document["rows"].values():
        total += sum(size(row) for row in kind_rows)
    return total


def _decimal(value):
    return None if value is None else Decimal(value)


def _date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


@functools.cache
def _columns(model):
    """[(attname, converter or None, field)] of ``model``'s concrete fields,
    in the order its positional constructor takes them. A document holds
    decimals as text and dates as ISO strings."""
    columns = []
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, DecimalField):
            convert = _decimal
        elif isinstance(model_field, DateField) and not isinstance(
            model_field, DateTimeField
        ):
            convert = _date
        else:
            convert = None
        columns.append((model_field.attname, convert, model_field))
    return columns


@dataclass
class MonographDocument:
    """A stored document as unsaved model instances, for templates and diffs."""

    revision: object
    form: object
    synonyms: list
    evidence: list
    side_effects: list
    doses: list
    interactions: list
    precautions: list
    faqs: list
    studies: list = field(default_factory=list)
    citations: dict = field(default_factory=dict)  # {key: Citation}
    topics: dict = field(default_factory=dict)  # {"indication": {id: Indication}}

    def rows(self):
        """(kind, rows) for each kind of row, in page order."""
        return [(kind, getattr(self, kind.name)) for kind in ROW_KINDS]

    def texts(self, *, staff_fields=True):
        """Every piece of Markdown the monograph holds, its rows' included;
        without ``staff_fields``, only what readers are shown."""
        for name in markdown_fields("MagnesiumForm"):
            if staff_fields or name not in STAFF_FORM_FIELDS:
                yield getattr(self.form, name)
        for kind, rows in self.rows():
            for name in kind.markdown_fields:
                for row in rows:
                    yield getattr(row, name)

    def reader_citations(self):
        """{key: Citation} of what readers see cited: what rows attach and
        what the texts readers are shown mark. ``citations`` also holds what
        only editors' notes cite, for the staff's preview; that is no
        reference of the published monograph."""
        cited = {
            citation.key: citation
            for _, rows in self.rows()
            for row in rows
            for citation in getattr(row, "cited", ())
        }
        for text in self.texts(staff_fields=False):
            for key in citation_keys(text):
                if key in self.citations:
                    cited[key] = self.citations[key]
        return cited


def _instance(model, values):
    """An unsaved-looking instance of ``model`` as loaded from the database:
    ``values`` by attname; a field the document lacks (one added since it
    was stored) takes its default.

    Built positionally, as the ORM builds a row: a page builds some sixty
    of these, and keyword arguments cost Model.__init__ twice as much.
    """
    args = []
    for name, convert, model_field in _columns(model):
        if name in values:
            value = values[name]
            args.append(value if convert is None else convert(value))
        else:
            args.append(model_field.get_default())
    return model.from_db("default", None, args)


def document_load(revision, document=None, *, kinds=None, citations=True):
    """The monograph ``revision`` stored, or None if that revision deleted it.

    Loaded once per revision object: every caller shares the instances.
    ``kinds`` (row kind names) loads only those rows, for lists that show a
    monograph's form and topics and not its rows: the kinds left out are
    None, so that a page that needs them fails loudly rather than showing
    none. ``citations=False`` likewise leaves out the cited citations (an
    empty dict; rows' ``cited`` lists are empty too). A partial load is not
    shared.
    """
    cached = getattr(revision, "_loaded_document", None)
    if cached is not None:
        return cached
    if kinds is not None:
        kinds = set(kinds)
        for kind in ROW_KINDS:
            if kind.name in kinds and kind.parent and kind.parent_kind not in kinds:
                raise ValueError(f"{kind.name} need their {kind.parent_kind}")
    document = revision.document if document is None else document
    if not document:
        return None
    MagnesiumForm = _model("MagnesiumForm")
    form_known = set(form_fields()) | {"id"}
    form = _instance(
        MagnesiumForm,
        {name: value for name, value in document["form"].items() if name in form_known},
    )
    citation_model = _model("Citation")
    citations_by_id = {
        int(pk): _instance(citation_model, values)
        for pk, values in (document["citations"] if citations else {}).items()
    }
    topics = {
        name: {
            int(pk): _instance(_model(model_name), values)
            for pk, values in document["topics"].get(name, {}).items()
        }
        for name, model_name in TOPIC_MODELS.items()
    }
    rows = {}
    for kind in ROW_KINDS:
        if kinds is not None and kind.name not in kinds:
            rows[kind.name] = None
            continue
        model = kind.model
        known = set(row_fields(kind.name))
        parents = {row.pk: row for row in rows[kind.parent_kind]} if kind.parent else {}
        loaded = []
        for values in document["rows"].get(kind.name, []):
            values = dict(values)
            cited = values.pop("citations", None)
            fields = {"id": values.pop("id"), "form_id": form.pk}
            for name, value in values.items():
                if name not in known:
                    continue  # a field an older schema had
                if name in TOPIC_MODELS or name == kind.parent:
                    fields[f"{name}_id"] = value
                else:
                    fields[name] = value
            if kind.parent and fields.get(f"{kind.parent}_id") not in parents:
                continue  # its parent row is not in the document
            row = _instance(model, fields)
            # Set through the descriptors' caches: no query, ever.
            model.form.field.set_cached_value(row, form)
            if kind.topic:
                topic = topics[kind.topic][fields[f"{kind.topic}_id"]]
                model._meta.get_field(kind.topic).set_cached_value(row, topic)
            if kind.parent:
                parent = parents[fields[f"{kind.parent}_id"]]
                model._meta.get_field(kind.parent).set_cached_value(row, parent)
            row.cited_ids = cited or []
            row.cited = [
                citations_by_id[pk] for pk in row.cited_ids if pk in citations_by_id
            ]
            loaded.append(row)
        rows[kind.name] = loaded
    loaded = MonographDocument(
        revision=revision,
        form=form,
        citations={citation.key: citation for citation in citations_by_id.values()},
        topics=topics,
        **rows,
    )
    if revision is not None and kinds is None and citations:
        revision._loaded_document = loaded
    return loaded
