"""
The shape of a monograph, written down once.

A monograph is its form's own fields, grouped into sections, and rows of
several kinds (synonyms, evidence, doses…). The document a revision stores,
the page, the diff, the exporter, the API, search and the admin's citation
checks all iterate over the definitions here. A row kind's fields are read
from its model, so adding a field to a row kind is one edit of the model plus
its migration.
"""

import functools
import re
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.utils.text import capfirst
from markdownx.models import MarkdownxField

SCHEMA_VERSION = 2  # 2: studies, certainty domains, dose populations (issue 15)

# The topics rows point to, by the name of the row's foreign key.
TOPIC_MODELS = {"indication": "Indication", "side_effect": "SideEffect"}
TOPIC_FIELDS = ("name", "slug", "description")
# What readers may know of a citation: everything but the editors' note.
CITATION_STAFF_FIELDS = frozenset({"note"})
# Staff-only text: imported text not yet placed, and notes for editors. Kept
# in the document, so that reviewers see changes to them in the staff diff;
# never shown on public pages, the API, exports, search or public diffs.
STAFF_FORM_FIELDS = frozenset({"other_sections", "editor_notes"})

LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
# Something normalize_text would change: a CR, or whitespace ending a line.
NOT_NORMAL_RE = re.compile(r"\r|[^\S\n]\n|\n\Z|\A\n|[^\S\n]\Z")


def normalize_text(value):
    """Text as stored and compared: LF line endings, no trailing whitespace.

    Browsers post CRLF; the seed, imports and reverts write LF. Normalising
    both ways means a resubmitted, untouched form changes nothing.
    """
    if not isinstance(value, str):
        return value
    if "\n" not in value and "\r" not in value:
        # One line (most values): the regex's scan would cost more.
        return value.rstrip()
    if not NOT_NORMAL_RE.search(value):
        return value
    lines = LINE_BREAK_RE.split(value)
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _model(name):
    return apps.get_model("monographs", name)


def _is_text(field):
    return isinstance(field, models.CharField | models.TextField)


@dataclass(frozen=True)
class Section:
    """A heading of the form's own fields, in page order."""

    title: str
    fields: tuple


# The form's own fields, section by section, in reading order. A field of the
# model not listed here still belongs to the document (see form_fields()),
# shown under "Other details".
FORM_SECTIONS = (
    Section("Name and category", ("name", "slug", "category", "salt")),
    Section("Summary", ("summary",)),
    Section(
        "Composition",
        (
            "formula_basis",
            "elemental_mg_percent",
            "composition_note",
            "absorption_notes",
            "tolerability_notes",
        ),
    ),
    Section("Uses", ("usage",)),
    Section("Dosing", ("dosage_notes",)),
    Section("Precautions", ("precaution_notes",)),
    Section("How it works", ("mechanism",)),
    Section("Disclaimer", ("disclaimer",)),
    Section("Imported, not yet placed", ("other_sections",)),
    Section("Notes for editors", ("editor_notes",)),
)


@dataclass(frozen=True)
class RowKind:
    """One kind of row of a monograph, e.g. its doses."""

    name: str  # key in the document, attribute of a loaded monograph
    model_name: str
    order: str  # "position", "name" or a topic field: how readers see them sorted
    # The foreign key to a row of another kind this row belongs to (a study's
    # use), stored in the document as that row's id, and that kind's name.
    parent: str | None = None
    parent_kind: str | None = None

    @property
    def model(self):
        return _model(self.model_name)

    @property
    def label(self):
        """'Doses', 'Side effects of forms'…"""
        return capfirst(self.model._meta.verbose_name_plural)

    @property
    def fields(self):
        return row_fields(self.name)

    @functools.cached_property
    def markdown_fields(self):
        return markdown_fields(self.model_name)

    @functools.cached_property
    def topic(self):
        """The foreign key to a topic ("indication", "side_effect"), or None."""
        return next((name for name in TOPIC_MODELS if name in self.fields), None)

    @functools.cached_property
    def cites(self):
        return _cites(self.model_name)

    def sort_key(self, row, topics=None):
        """Sort key of a document row (a dict) within its kind."""
        if self.order == "position":
            return (row.get("position", 0), row["id"])
        if self.order in TOPIC_MODELS:
            topic = (topics or {}).get(str(row[self.order]), {})
            return (topic.get("name", ""), row["id"])
        return (row[self.order], row["id"])


ROW_KINDS = (
    RowKind("synonyms", "Synonym", "name"),
    RowKind("evidence", "Evidence", "indication"),
    RowKind("side_effects", "FormSideEffect", "side_effect"),
    RowKind("doses", "Dose", "position"),
    RowKind("interactions", "Interaction", "position"),
    RowKind("precautions", "Precaution", "position"),
    RowKind("faqs", "FAQ", "position"),
    # After evidence: a study's row refers to its use's row by id.
    RowKind("studies", "Study", "position", parent="evidence", parent_kind="evidence"),
)
ROW_KINDS_BY_NAME = {kind.name: kind for kind in ROW_KINDS}


def _content_fields(model, *, skip=()):
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in skip
    ]


@functools.cache
def form_fields():
    """Names of the form's content fields, in section order."""
    listed = [name for section in FORM_SECTIONS for name in section.fields]
    model_fields = [field.name for field in _content_fields(_model("MagnesiumForm"))]
    return tuple(listed + [name for name in model_fields if name not in listed])


@functools.cache
def form_sections():
    """FORM_SECTIONS, plus any model field no section lists."""
    listed = {name for section in FORM_SECTIONS for name in section.fields}
    rest = tuple(name for name in form_fields() if name not in listed)
    return FORM_SECTIONS + ((Section("Other details", rest),) if rest else ())


@functools.cache
def row_fields(kind_name):
    """Names of a row kind's content fields: everything but its id and form."""
    model = ROW_KINDS_BY_NAME[kind_name].model
    return tuple(field.name for field in _content_fields(model, skip={"form"}))


@functools.cache
def markdown_fields(model_name):
    """Fields of a model that hold Markdown (and so may cite [@key])."""
    return tuple(
        field.name
        for field in _model(model_name)._meta.concrete_fields
        if isinstance(field, MarkdownxField)
    )


@functools.cache
def _cites(model_name):
    return any(
        field.name == "citations" for field in _model(model_name)._meta.many_to_many
    )


@functools.cache
def citing_relations():
    """How a Citation reaches the rows citing it: one relation per row kind
    that cites (e.g. "evidence", "studies")."""
    return tuple(
        kind.model._meta.get_field("citations").related_query_name()
        for kind in ROW_KINDS
        if kind.cites
    )


@functools.cache
def citation_fields():
    """The citation fields a document keeps: what readers may see."""
    return tuple(
        field.name
        for field in _content_fields(_model("Citation"))
        if field.name not in CITATION_STAFF_FIELDS
    )


@functools.cache
def text_fields(model_name):
    """Fields whose values are normalised before storing (see normalize_text)."""
    return tuple(
        field.attname
        for field in _model(model_name)._meta.concrete_fields
        if _is_text(field)
    )


def field_label(model_name, name):
    return capfirst(_model(model_name)._meta.get_field(name).verbose_name)


# Every model whose rows a document holds or quotes.
CONTENT_MODELS = (
    "MagnesiumForm",
    *(kind.model_name for kind in ROW_KINDS),
    "Citation",
    *TOPIC_MODELS.values(),
)
