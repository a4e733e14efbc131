"""
Build the document of every revision written before revisions held one.

Each monograph's rows are replayed from the history tables, revision by
revision; citations and topics are taken as they stood when the revision was
saved. Publications are made from the forms' published revisions, and
deletions of published monographs become withdrawals.

The field lists are frozen here as they were when documents were introduced.
"""

import bisect
import hashlib
import json
import re
from collections import defaultdict
from decimal import Decimal

from django.db import migrations

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
    "other_sections",
]
ROWS = {
    # kind: (model, fields, cites)
    "synonyms": ("synonym", ["name", "slug"], False),
    "evidence": (
        "evidence",
        [
            "indication",
            "direction",
            "certainty",
            "applicability",
            "studies_improved",
            "studies_total",
            "summary",
        ],
        True,
    ),
    "side_effects": (
        "formsideeffect",
        ["side_effect", "frequency", "seriousness", "notes"],
        True,
    ),
    "doses": (
        "dose",
        [
            "population",
            "purpose",
            "minimum_mg",
            "maximum_mg",
            "timing",
            "notes",
            "exceeds_ul_acknowledged",
            "position",
        ],
        True,
    ),
    "interactions": (
        "interaction",
        [
            "drug_class",
            "examples",
            "significance",
            "mechanism",
            "management",
            "position",
        ],
        True,
    ),
    "precautions": ("precaution", ["kind", "label", "text", "position"], True),
    "faqs": ("faq", ["question", "answer", "position"], False),
}
CITATION_FIELDS = [
    "key",
    "authors",
    "group_author",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "pmid",
    "pmcid",
    "doi",
    "url",
    "publication_type",
]
TOPIC_FIELDS = ["name", "slug", "description"]
TOPICS = {"indication": "indication", "side_effect": "sideeffect"}
# The Markdown fields that may cite [@key], and how each kind of row sorts.
FORM_MARKDOWN = [
    "composition_note",
    "absorption_notes",
    "tolerability_notes",
    "summary",
    "usage",
    "mechanism",
    "dosage_notes",
    "precaution_notes",
    "disclaimer",
    "other_sections",
]
ROW_MARKDOWN = {
    "evidence": ["summary"],
    "side_effects": ["notes"],
    "doses": ["notes"],
    "precautions": ["text"],
    "faqs": ["answer"],
}
ROW_TOPIC = {"evidence": "indication", "side_effects": "side_effect"}
ROW_ORDER = {
    "synonyms": "name",
    "evidence": "indication",
    "side_effects": "side_effect",
    "doses": "position",
    "interactions": "position",
    "precautions": "position",
    "faqs": "position",
}
CITATION_KEY_RE = re.compile(
    r"\[@([A-Za-z0-9][A-Za-z0-9_-]*(?:\s*;\s*@[A-Za-z0-9][A-Za-z0-9_-]*)*)\]"
)
LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")


def normalize(value):
    if isinstance(value, Decimal):
        return str(value)
    if not isinstance(value, str):
        return value
    lines = LINE_BREAK_RE.split(value)
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def clean(values):
    return {
        name: value if name == "citations" else normalize(value)
        for name, value in values.items()
    }


def keys_in(text):
    return [
        key.strip().lstrip("@")
        for group in CITATION_KEY_RE.findall(text or "")
        for key in group.split(";")
    ]


def assemble(form, rows, find_citations, find_topics):
    """A schema-1 document, frozen as monographs.documents built it then."""
    texts = [form[name] for name in FORM_MARKDOWN]
    citation_ids = set()
    topic_ids = {name: set() for name in TOPICS}
    for kind, kind_rows in rows.items():
        for row in kind_rows:
            if kind in ROW_TOPIC:
                topic_ids[ROW_TOPIC[kind]].add(row[ROW_TOPIC[kind]])
            citation_ids.update(row.get("citations", []))
            texts += [row[name] for name in ROW_MARKDOWN.get(kind, [])]
    keys = {key for text in texts for key in keys_in(text)}
    citations = {
        str(values["id"]): clean(values)
        for values in find_citations(citation_ids, keys)
    }
    topics = {
        name: {str(v["id"]): clean(v) for v in find_topics(name, topic_ids[name])}
        for name in TOPICS
    }
    key_of = {int(pk): citation["key"] for pk, citation in citations.items()}
    shaped = {}
    for kind, kind_rows in rows.items():
        kind_rows = [clean(row) for row in kind_rows]
        for row in kind_rows:
            if "citations" in row:
                row["citations"] = sorted(
                    row["citations"], key=lambda pk: (key_of.get(pk, ""), pk)
                )
        order = ROW_ORDER[kind]
        if order == "position":
            kind_rows.sort(key=lambda row: (row.get("position", 0), row["id"]))
        elif order in TOPICS:
            named = topics[order]
            kind_rows.sort(
                key=lambda row, named=named, order=order: (
                    named.get(str(row[order]), {}).get("name", ""),
                    row["id"],
                )
            )
        else:
            kind_rows.sort(key=lambda row, order=order: (row[order], row["id"]))
        shaped[kind] = kind_rows
    return {
        "schema": 1,
        "form": clean(form),
        "rows": shaped,
        "citations": citations,
        "topics": topics,
    }


def size_of(document):
    if not document:
        return 0

    def size(values):
        return sum(len(value) for value in values.values() if isinstance(value, str))

    return size(document["form"]) + sum(
        size(row) for kind_rows in document["rows"].values() for row in kind_rows
    )


def digest_of(document):
    canonical = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def public_name(user):
    if user is None:
        return "mgref"
    full = f"{user.first_name} {user.last_name}".strip()
    return full or "an mgref editor"


class AsOf:
    """Every historical record of one model, to read rows as at a moment."""

    def __init__(self, historical, fields):
        self.records = defaultdict(list)
        for record in historical.objects.order_by("history_date", "history_id"):
            values = {"id": record.id, **{f: getattr(record, f) for f in fields}}
            self.records[record.id].append(
                (record.history_date, record.history_type, values)
            )
        self.dates = {
            pk: [date for date, _, _ in records] for pk, records in self.records.items()
        }

    def at(self, pk, when):
        """The row as it stood at ``when``; if created in the same save as the
        revision (after its timestamp), as it was first recorded."""
        records = self.records.get(pk)
        if not records:
            return None
        index = bisect.bisect_right(self.dates[pk], when) - 1
        if index < 0:
            index = 0
        date, kind, values = records[index]
        return None if kind == "-" else values

    def ids(self):
        return self.records.keys()


def build_documents(apps, schema_editor):
    get = lambda name: apps.get_model("monographs", name)  # noqa: E731
    Revision = get("Revision")
    citations = AsOf(get("HistoricalCitation"), CITATION_FIELDS)
    topics = {
        name: AsOf(get(f"Historical{model}"), TOPIC_FIELDS)
        for name, model in TOPICS.items()
    }

    # Replay each kind of row, revision by revision.
    changes = defaultdict(list)  # revision id -> [(kind, type, values, cited)]
    for kind, (model, fields, cites) in [
        ("form", ("magnesiumform", FORM_FIELDS, False))
    ] + list(ROWS.items()):
        historical = get(f"Historical{model}")
        attnames = [historical._meta.get_field(f).attname for f in fields]
        cited = defaultdict(list)
        if cites:
            through = get(f"Historical{model}_citations")
            for history_id, citation_id in through.objects.values_list(
                "history_id", "citation_id"
            ):
                cited[history_id].append(citation_id)
        for record in historical.objects.exclude(revision=None).order_by("history_id"):
            values = {"id": record.id}
            for name, attname in zip(fields, attnames, strict=True):
                values[name] = getattr(record, attname)
            if cites:
                values["citations"] = sorted(cited.get(record.history_id, []))
            form_id = record.id if kind == "form" else record.form_id
            changes[record.revision_id].append(
                (kind, record.history_type, values, form_id)
            )

    state = {}  # form id -> {"form": values or None, kind: {id: values}}
    names = {}  # form id -> (name, slug) of its latest document
    for revision in Revision.objects.order_by("form_id", "number"):
        current = state.setdefault(
            revision.form_id, {"form": None, **{kind: {} for kind in ROWS}}
        )
        for kind, history_type, values, form_id in changes.get(revision.pk, []):
            if kind == "form":
                current["form"] = None if history_type == "-" else values
            else:
                # A row moved to another monograph leaves this one.
                for other in state.values():
                    other[kind].pop(values["id"], None)
                if history_type != "-":
                    state.setdefault(form_id, {"form": None, **{k: {} for k in ROWS}})[
                        kind
                    ][values["id"]] = values
        when = revision.created_at
        if current["form"] is None:
            document = {}
        else:

            def find_citations(ids, keys, when=when):
                found = {}
                for pk in citations.ids():
                    values = citations.at(pk, when)
                    if values and (pk in ids or values["key"] in keys):
                        found[pk] = values
                return found.values()

            def find_topics(name, ids, when=when):
                return [
                    values
                    for pk in ids
                    if (values := topics[name].at(pk, when)) is not None
                ]

            document = assemble(
                dict(current["form"]),
                {kind: [dict(v) for v in current[kind].values()] for kind in ROWS},
                find_citations,
                find_topics,
            )
        named = document.get("form") or {}
        if named:
            names[revision.form_id] = (named["name"], named["slug"])
        revision.document = document
        revision.deleted = not document
        # A deletion keeps the name it had; build_publications gives a
        # published one its public name.
        revision.name, revision.slug = names.get(revision.form_id, ("", ""))
        revision.size = size_of(document)
        revision.author = public_name(revision.user)
        revision.digest = digest_of(document)
        revision.save(
            update_fields=[
                "document",
                "deleted",
                "name",
                "slug",
                "size",
                "author",
                "digest",
            ]
        )


def build_publications(apps, schema_editor):
    MagnesiumForm = apps.get_model("monographs", "MagnesiumForm")
    Publication = apps.get_model("monographs", "Publication")
    ReviewEvent = apps.get_model("monographs", "ReviewEvent")
    Revision = apps.get_model("monographs", "Revision")
    for form in MagnesiumForm.objects.exclude(published_revision=None):
        revision = form.published_revision
        approval = (
            ReviewEvent.objects.filter(revision=revision, action="approved")
            .order_by("-created_at")
            .first()
        )
        Publication.objects.create(
            form_id=form.pk,
            revision=revision,
            name=revision.name,
            slug=revision.slug,
            approved_by=approval.user if approval else None,
            approved_by_name=public_name(approval.user) if approval else "",
            approved_at=approval.created_at if approval else revision.created_at,
            synonym_slugs=[s["slug"] for s in revision.document["rows"]["synonyms"]],
        )
    # Published monographs deleted since: withdrawn, their history kept.
    live = set(MagnesiumForm.objects.values_list("pk", flat=True))
    approved = ReviewEvent.objects.filter(action="approved").order_by("created_at")
    last_approval = {event.form_id: event for event in approved}
    for form_id, approval in last_approval.items():
        if form_id in live:
            continue
        deletion = (
            Revision.objects.filter(form_id=form_id, deleted=True)
            .order_by("-number")
            .first()
        )
        if deletion is None:
            continue
        # Named as readers last saw it, never by an unapproved draft name.
        Revision.objects.filter(pk=deletion.pk).update(
            name=approval.revision.name, slug=approval.revision.slug
        )
        event = ReviewEvent.objects.create(
            form_id=form_id,
            revision=deletion,
            action="deleted",
            user=deletion.user,
            comment=deletion.summary,
            created_at=deletion.created_at,
        )
        Publication.objects.create(
            form_id=form_id,
            revision=deletion,
            name=approval.revision.name,
            slug=approval.revision.slug,
            approved_by=deletion.user,
            approved_by_name=public_name(deletion.user),
            approved_at=event.created_at,
            withdrawn=True,
        )


class Migration(migrations.Migration):
    dependencies = [("monographs", "0003_documents")]

    operations = [
        migrations.RunPython(build_documents, migrations.RunPython.noop),
        migrations.RunPython(build_publications, migrations.RunPython.noop),
    ]
