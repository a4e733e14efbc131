"""
Search over published monographs.

PostgreSQL ranks with full-text search (websearch syntax, English stemming)
and highlights with ts_headline; SQLite, the embedded default, falls back to
matching every word as a substring.
"""

import html
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import CharField, Q, TextField
from django.utils.html import escape
from django.utils.safestring import mark_safe

from monographs.markdown import render_markdown, strip_tags
from monographs.models import SearchDocument
from monographs.schema import STAFF_FORM_FIELDS, markdown_fields

MAX_QUERY_LENGTH = 200
SNIPPET_CHARS = 220
# Control characters cannot occur in stored text, so they mark matches safely
# until the snippet is escaped.
START, STOP = "\x02", "\x03"


CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class QueryError(ValueError):
    """A query that cannot be searched; the message tells the reader why."""


@dataclass
class Result:
    document: SearchDocument
    title: str
    snippet: str


def clean_query(raw):
    if CONTROL_RE.search(raw or ""):
        raise QueryError("Your search contains control characters: type plain words.")
    query = " ".join((raw or "").split())
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"Your search is {len(query)} characters long. Use at most "
            f"{MAX_QUERY_LENGTH}: a few words work best."
        )
    return query


def plain_text(markdown_text):
    return html.unescape(strip_tags(render_markdown(markdown_text)))


def _searchable(model, name):
    field = model._meta.get_field(name)
    return isinstance(field, CharField | TextField) and not field.choices


def document_fields(state):
    """The searchable text of a monograph document (see monographs.documents):
    the form's Markdown and every row's words, kind by kind as the schema has
    them."""
    form = state.form
    parts = [
        getattr(form, name)
        for name in markdown_fields("MagnesiumForm")
        if name not in STAFF_FORM_FIELDS
    ]
    topics = []
    for kind, rows in state.rows():
        if kind.name == "synonyms":
            continue
        names = [name for name in kind.fields if _searchable(kind.model, name)]
        for row in rows:
            parts.append(" ".join(filter(None, (getattr(row, n) for n in names))))
            if kind.topic:
                topics.append(getattr(row, kind.topic).name)
    return {
        "title": form.name,
        "slug": form.slug,
        "synonyms": ", ".join(row.name for row in state.synonyms),
        "topics": ", ".join(topics),
        "body": "\n".join(plain_text(part) for part in parts if part),
    }


def _marked(text):
    """Escape text whose matches are wrapped in START/STOP, then mark them up."""
    return mark_safe(escape(text).replace(START, "<mark>").replace(STOP, "</mark>"))


def _highlight(text, terms):
    if not terms:
        return text
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    return pattern.sub(lambda match: f"{START}{match.group(0)}{STOP}", text)


def _excerpt(text, terms):
    lowered = text.lower()
    positions = [lowered.find(term.lower()) for term in terms]
    positions = [position for position in positions if position >= 0]
    start = max(min(positions, default=0) - SNIPPET_CHARS // 3, 0)
    excerpt = text[start : start + SNIPPET_CHARS]
    return (
        ("…" if start else "")
        + excerpt
        + ("…" if start + SNIPPET_CHARS < len(text) else "")
    )


def _search_substrings(query):
    terms = query.split()
    documents = SearchDocument.objects.select_related("form")
    for term in terms:
        documents = documents.filter(
            Q(title__icontains=term)
            | Q(synonyms__icontains=term)
            | Q(topics__icontains=term)
            | Q(body__icontains=term)
        )

    def score(document):
        title = f"{document.title} {document.synonyms}".lower()
        text = f"{document.topics} {document.body}".lower()
        return sum(10 * title.count(t.lower()) + text.count(t.lower()) for t in terms)

    ranked = sorted(documents, key=lambda document: (-score(document), document.title))
    return [
        Result(
            document=document,
            title=_marked(_highlight(document.title, terms)),
            snippet=_marked(_highlight(_excerpt(document.body, terms), terms)),
        )
        for document in ranked
    ]


def _search_postgresql(query):
    from django.contrib.postgres.search import (
        SearchHeadline,
        SearchQuery,
        SearchRank,
        SearchVector,
    )

    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("synonyms", weight="A", config="english")
        + SearchVector("topics", weight="B", config="english")
        + SearchVector("body", weight="C", config="english")
    )
    search_query = SearchQuery(query, search_type="websearch", config="english")
    documents = (
        SearchDocument.objects.select_related("form")
        .annotate(vector=vector)
        .filter(
            Q(vector=search_query)
            | Q(title__icontains=query)
            | Q(synonyms__icontains=query)
        )
        .annotate(
            rank=SearchRank(vector, search_query),
            headline=SearchHeadline(
                "body",
                search_query,
                config="english",
                start_sel=START,
                stop_sel=STOP,
                max_words=40,
                min_words=20,
            ),
        )
        .order_by("-rank", "title")
    )
    terms = query.split()
    return [
        Result(
            document=document,
            title=_marked(_highlight(document.title, terms)),
            snippet=_marked(document.headline),
        )
        for document in documents
    ]


def search(query):
    """Results for a cleaned, non-empty query, best first."""
    if connection.vendor == "postgresql":
        return _search_postgresql(query)
    return _search_substrings(query)
