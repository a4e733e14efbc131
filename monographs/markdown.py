"""
The one Markdown renderer of mgref.

Every piece of Markdown shown anywhere (pages, the editor's live preview,
feeds, exports) goes through ``render_markdown``: Python-Markdown with raw
HTML switched off, then an nh3 allowlist. The allowlist is the security
boundary; switching raw HTML off only keeps editors' stray tags readable.

Citations are cited in text as ``[@key]`` or ``[@key1; @key2]``, where the
key is a ``Citation.key``. A ``CitationNumbering`` shared by all the
sections of one page numbers them in order of first appearance.
"""

import re
import threading
import xml.etree.ElementTree as etree
from collections import defaultdict

import markdown
import nh3
from django.utils.safestring import mark_safe
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

CITATION_KEY = r"[A-Za-z0-9][A-Za-z0-9_-]*"
CITATION_MARKER_RE = re.compile(rf"\[@({CITATION_KEY}(?:\s*;\s*@{CITATION_KEY})*)\]")
# Markers glue to the word before them: "oxide [@a]." renders as "oxide¹."
INLINE_MARKER_RE = re.compile(rf"[ \t]*{CITATION_MARKER_RE.pattern}")

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "span": {"title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
ALLOWED_CLASSES = {
    "sup": {"citation"},
    "span": {"citation-missing"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def citation_keys(text):
    """The citation keys ``text`` cites, in order of first appearance."""
    keys = {}
    for match in CITATION_MARKER_RE.finditer(text or ""):
        for key in _split_keys(match.group(1)):
            keys.setdefault(key, None)
    return list(keys)


def _split_keys(group):
    return [part.strip().lstrip("@").lower() for part in group.split(";")]


class CitationNumbering:
    """Numbers the citations of one page in order of first appearance.

    ``citations`` are the Citation objects the page may cite; markers for
    any other key are kept visible as unresolved rather than dropped.
    """

    def __init__(self, citations=()):
        self.known = {citation.key: citation for citation in citations}
        self.numbers = {}
        self.anchors = defaultdict(list)
        self.unresolved = []

    def cite(self, key):
        """Number ``key`` and return (number, anchor id), or None if unknown."""
        if key not in self.known:
            if key not in self.unresolved:
                self.unresolved.append(key)
            return None
        number = self.numbers.setdefault(key, len(self.numbers) + 1)
        anchor = f"cite-{number}-{len(self.anchors[key]) + 1}"
        self.anchors[key].append(anchor)
        return number, anchor

    def references(self):
        """(number, citation, anchors) for every numbered citation, in order."""
        return [
            (number, self.known[key], self.anchors.get(key, []))
            for key, number in sorted(self.numbers.items(), key=lambda item: item[1])
        ]


class CitationProcessor(InlineProcessor):
    def handleMatch(self, match, data):
        numbering = self.md.citation_numbering
        if numbering is None:
            return "", match.start(0), match.end(0)
        cited = []
        missing = []
        for key in _split_keys(match.group(1)):
            result = numbering.cite(key)
            if result is None:
                missing.append(key)
            else:
                cited.append(result)
        container = etree.Element("span")
        if cited:
            sup = etree.SubElement(container, "sup", {"class": "citation"})
            for index, (number, anchor) in enumerate(cited):
                link = etree.SubElement(
                    sup, "a", {"href": f"#ref-{number}", "id": anchor}
                )
                link.text = str(number)
                if index < len(cited) - 1:
                    link.tail = ","
        for key in missing:
            span = etree.SubElement(
                container,
                "span",
                {"class": "citation-missing", "title": "Citation not found"},
            )
            span.text = f"[citation needed: {key}]"
        return container, match.start(0), match.end(0)


class HeadingShift(Treeprocessor):
    """Headings in a section sit below the page's h1 and the section's h2."""

    def run(self, root):
        for element in root.iter():
            if element.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
                level = min(int(element.tag[1]) + 2, 6)
                element.tag = f"h{level}"


class MgrefExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.register(
            CitationProcessor(INLINE_MARKER_RE.pattern, md), "citation", 175
        )
        md.treeprocessors.register(HeadingShift(md), "heading_shift", 5)


_local = threading.local()


def _converter():
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown.Markdown(
            extensions=[
                MgrefExtension(),
                "sane_lists",
                "tables",
            ],
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )
        _local.converter = converter
    return converter


def sanitize_html(html):
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text, *, numbering=None):
    """Markdown to sanitized HTML, marked safe for templates.

    Without a ``numbering``, citation markers are left out: that suits short
    extracts shown away from the monograph's reference list.
    """
    if not text:
        return mark_safe("")
    converter = _converter()
    converter.reset()
    converter.citation_numbering = numbering
    try:
        html = converter.convert(text)
    finally:
        converter.citation_numbering = None
    return mark_safe(sanitize_html(html))


def markdownify(text):
    """django-markdownx's preview: the same renderer, citations numbered as in the text."""
    from monographs.models import Citation

    keys = citation_keys(text)
    numbering = CitationNumbering(Citation.objects.filter(key__in=keys) if keys else ())
    return render_markdown(text, numbering=numbering)
