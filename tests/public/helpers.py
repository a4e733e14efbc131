"""Shared helpers for the public-site tests: HTML, JSON-LD and export readers."""

import datetime
import json
import re
from html.parser import HTMLParser

from django.core.cache import cache

from monographs.history import change_context
from monographs.models import Publication, ReviewEvent
from tests import factories

VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
REVIEWED_AT = datetime.datetime(2024, 3, 5, 10, 30, tzinfo=datetime.UTC)


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"

    def text(self):
        """The element's text content, with whitespace collapsed."""
        parts = []

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag=None, **attrs):
        wanted = {
            name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()
        }
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and all(
                value in node.attrs.get(name, "").split()
                if name == "class"
                else node.attrs.get(name) == value
                for name, value in wanted.items()
            )
        ]

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, element_id):
        return self.find(id=element_id)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, ((name, value or "") for name, value in attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID_TAGS:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, ((name, value or "") for name, value in attrs), self.current)
        self.current.children.append(node)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(content):
    if isinstance(content, bytes):
        content = content.decode()
    builder = _TreeBuilder()
    builder.feed(content)
    builder.close()
    return builder.root


def page_tree(response):
    return parse_html(response.content)


def head_facts(response):
    """(title, meta description, canonical href) of an HTML page."""
    tree = page_tree(response)
    title = tree.find("title")
    description = tree.find("meta", name="description")
    canonical = tree.find("link", rel="canonical")
    return (
        title.text() if title else None,
        description.attrs.get("content") if description else None,
        canonical.attrs.get("href") if canonical else None,
    )


def json_ld(response):
    """Every JSON-LD block of a page, parsed."""
    tree = page_tree(response)
    return [
        json.loads(script.text())
        for script in tree.find_all("script", type="application/ld+json")
    ]


def graph_nodes(response, type_name):
    nodes = []
    for block in json_ld(response):
        for node in block.get("@graph", [block]):
            if node.get("@type") == type_name:
                nodes.append(node)
    return nodes


# --- export readers ---------------------------------------------------------

RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  - ?(.*)$")


def parse_ris(text):
    """RIS records as dicts of tag -> [values]; raises ValueError on bad lines."""
    records = []
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = RIS_LINE.match(line)
        if match is None:
            raise ValueError(f"line {number} is not a RIS tag line: {line!r}")
        tag, value = match.groups()
        if tag == "TY":
            if current is not None:
                raise ValueError(f"line {number}: TY before the previous ER")
            current = {"TY": [value]}
        elif current is None:
            raise ValueError(f"line {number}: {tag} outside a record")
        elif tag == "ER":
            records.append(current)
            current = None
        else:
            current.setdefault(tag, []).append(value)
    if current is not None:
        raise ValueError("the last record has no ER")
    return records


def parse_bibtex(text):
    """Entries as (type, key, {field: value}); raises ValueError on bad syntax.

    A tiny reader for ``@type{key, field = {value}, ...}`` with nested braces
    in values; enough to tell whether the export is well formed.
    """
    entries = []
    position = 0
    length = len(text)

    def skip_space(pos):
        while pos < length and text[pos].isspace():
            pos += 1
        return pos

    def braced(pos):
        if text[pos] != "{":
            raise ValueError(f"expected '{{' at {pos}")
        depth = 0
        start = pos + 1
        while pos < length:
            char = text[pos]
            if char == "\\":
                pos += 2
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return text[start:pos], pos + 1
            pos += 1
        raise ValueError("unbalanced braces")

    while True:
        position = skip_space(position)
        if position >= length:
            return entries
        if text[position] != "@":
            raise ValueError(
                f"expected '@' at {position}: {text[position : position + 20]!r}"
            )
        match = re.compile(r"@([A-Za-z]+)\{([^,\s{}]+),").match(text, position)
        if match is None:
            raise ValueError(f"bad entry head at {position}")
        kind, key = match.groups()
        position = match.end()
        fields = {}
        while True:
            position = skip_space(position)
            if text[position] == "}":
                position += 1
                break
            field = re.compile(r"([A-Za-z]+)\s*=\s*").match(text, position)
            if field is None:
                raise ValueError(
                    f"bad field at {position}: {text[position : position + 20]!r}"
                )
            name = field.group(1).lower()
            if name in fields:
                raise ValueError(f"field {name} twice in {key}")
            value, position = braced(field.end())
            fields[name] = value
            position = skip_space(position)
            if text[position] == ",":
                position += 1
            elif text[position] != "}":
                raise ValueError(f"expected ',' or '}}' after {name} in {key}")
        entries.append((kind.lower(), key, fields))


# --- content -----------------------------------------------------------------


def edit(user, reason="Editor's change, not yet reviewed"):
    """A change context like an admin save by ``user``."""
    return change_context(reason=reason, user=user)


def forget_cached_pages():
    """Have the next requests rendered afresh.

    Public pages are cached under the latest approval. A change made without
    one (an unapproved edit, a test's direct update) moves no cache key, so a
    test of what a view shows after such a change must not get the page an
    earlier request of the same test cached.
    """
    cache.clear()


def set_review_date(event, when=REVIEWED_AT):
    """Date an approval, and the publication it made, at ``when``."""
    ReviewEvent.objects.filter(pk=event.pk).update(created_at=when)
    Publication.objects.filter(revision_id=event.revision_id).update(approved_at=when)


def published_form(**kwargs):
    """A bare published form."""
    form = factories.MagnesiumFormFactory(**kwargs)
    factories.publish(form)
    return form
