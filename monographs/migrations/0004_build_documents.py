"""
Build the document of every revision written before revisions held one.

Each monograph's rows are replayed from the history tables, revision by
revision; citations and topics are taken as they stood when the revision was
saved. Publications are made from the forms' published revisions, and
deletions of published monographs become withdrawals.

The field lists are frozen here as they were when documents were introduced.
"""

import bisect
from collections import defaultdict

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
    from monographs.documents import document_assemble, document_size

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

            document = document_assemble(
                dict(current["form"]),
                {kind: [dict(v) for v in current[kind].values()] for kind in ROWS},
                find_citations,
                find_topics,
            )
        named = document.get("form") or {}
        previous = (
            Revision.objects.filter(
                form_id=revision.form_id, number__lt=revision.number
            )
            .order_by("-number")
            .first()
        )
        revision.document = document
        revision.deleted = not document
        revision.name = named.get("name") or (previous.name if previous else "")
        revision.slug = named.get("slug") or (previous.slug if previous else "")
        revision.size = document_size(document)
        revision.save(update_fields=["document", "deleted", "name", "slug", "size"])


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
            approved_at=approval.created_at if approval else revision.created_at,
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
            approved_at=event.created_at,
            withdrawn=True,
        )


class Migration(migrations.Migration):
    dependencies = [("monographs", "0003_documents")]

    operations = [
        migrations.RunPython(build_documents, migrations.RunPython.noop),
        migrations.RunPython(build_publications, migrations.RunPython.noop),
    ]
