"""
The one Markdown renderer of mgref.

Every piece of Markdown shown anywhere (pages, the editor's live preview,
feeds, exports) goes through ``render_markdown``: Python-Markdown with raw
HTML switched off, then an nh3 allowlist. The allowlist is the security
boundary; switching raw HTML off only keeps editors' stray tags readable.

Citations are cited in text as ``[@key]`` or ``[@key1; @key2]``, where the
key is a ``Citation.key``. A ``CitationNumbering`` shared by all the
sections of one page numbers them in order of first appearance.

Bounds
------
Python-Markdown was not written for hostile input. Left alone, a 2 KB
description of nested list markers raises RecursionError and a few kilobytes
of ``[`` take seconds: its link, image and code-span processors scan from
every opening bracket or backtick to the end of the paragraph looking for the
closing one. Rendering is bounded in three ways:

* The scans themselves are made linear: the link, image, reference and
  code-span processors below look closing brackets, parentheses, quotes and
  backticks up in an index built once per text, with the same results as
  Python-Markdown's own scans; the citation marker pattern cannot backtrack.
* ``markdown_problem`` checks, in a few linear passes, what no processor can
  make cheap: the length of the text, how deeply lists, quotes and brackets
  nest, how many different sources it cites, and an estimate of the time
  Python-Markdown will take, from what it spends its time on (paragraphs,
  list items, table cells, inline marks, and pairs of marks or headings and
  the paragraph they are in). ``validate_markdown`` turns its answer into a
  ValidationError for editors; ``render_markdown`` shows text it refuses as
  escaped plain paragraphs, so content stored before the bounds existed
  still renders, quickly.
* As a last resort a render that uses more than ``RENDER_CPU_SECONDS`` of CPU
  is abandoned for the same plain rendering, and so is one that raises.
"""

import html
import logging
import re
import threading
import time
import xml.etree.ElementTree as etree
from bisect import bisect_left, bisect_right
from collections import defaultdict

import markdown
import nh3
from django.core.exceptions import ValidationError
from django.utils.safestring import mark_safe
from markdown.extensions import Extension
from markdown.inlinepatterns import (
    BacktickInlineProcessor,
    ImageInlineProcessor,
    ImageReferenceInlineProcessor,
    InlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
    dequote,
)
from markdown.treeprocessors import Treeprocessor

logger = logging.getLogger(__name__)

# The longest text one Markdown field may hold. The longest seed section is
# under 3,000 characters; a whole monograph fits in a twentieth of this.
MAX_MARKDOWN_CHARS = 100_000
# How deeply lists, quotes and indentation may nest on one line, and square
# brackets in one paragraph. Python-Markdown recurses once per level and
# fails somewhere past 300; real content stays under 5.
MAX_NESTING_DEPTH = 20
# Different citation keys one text may cite (the preview looks them all up in
# one query).
MAX_CITATION_KEYS = 1_000
# The most Python-Markdown may be expected to spend on one text, estimated
# from what it spends its time on (see RENDER_COSTS_US). Real monographs
# estimate at a few milliseconds, and the estimates err on the safe side:
# 100,000 characters made of the seed page estimate at 57 ms and render in
# 47 ms.
MAX_RENDER_ESTIMATE_MS = 100
# CPU time after which a render is abandoned for plain paragraphs. Anything
# markdown_problem accepts renders in a small fraction of it; this only
# catches what the estimate did not foresee.
RENDER_CPU_SECONDS = 1.0
# Microseconds Python-Markdown 3.11 spends, at most, on each thing it handles
# one by one (measured on a busy 2-core machine, best of three):
RENDER_COSTS_US = {
    # a paragraph, list item, quote level or heading (25-40 us each),
    "block": 30,
    # a table cell, counted by its "|" (11-15 us),
    "cell": 15,
    # an inline mark: a character starting code, an escape, a link, an image,
    # a citation, an autolink, an entity or emphasis, or a hard line break
    # (4-25 us),
    "mark": 30,
    # a key cited in a citation marker, counted by its "@" (30-40 us),
    "key": 35,
    # and for every pair of an inline mark and a character of its paragraph,
    # as it rebuilds the paragraph after each element it finds (0.1-0.3 ns),
    "mark_x_char": 0.0003,
    # and of a heading or rule and a character of its paragraph, as it
    # splits the paragraph there and searches the rest again (1-31 ns).
    "heading_x_char": 0.035,
}

CITATION_KEY = r"[A-Za-z0-9][A-Za-z0-9_-]*+"
# Possessive quantifiers: a marker that turns out unclosed fails at once
# instead of retrying every shorter split of its keys and spaces.
CITATION_MARKER_RE = re.compile(rf"\[@({CITATION_KEY}(?:\s*+;\s*+@{CITATION_KEY})*+)\]")
# Markers glue to the word before them: "oxide [@a]." renders as "oxide¹."
# The look-behind lets the spaces be taken only from the start of their run,
# so a long run of spaces is read once rather than once per space.
INLINE_MARKER_RE = re.compile(rf"(?<![ \t])[ \t]*+{CITATION_MARKER_RE.pattern}")

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
        # A set beside the list: thousands of unknown keys must not make
        # each lookup a walk through all of them.
        self._unresolved = set()
        # Every key cited, in order, while a page records its rendering
        # (monographs.rendering): replaying them numbers the page again.
        self.log = None

    def cite(self, key):
        """Number ``key`` and return (number, anchor id), or None if unknown."""
        if self.log is not None:
            self.log.append(key)
        if key not in self.known:
            if key not in self._unresolved:
                self._unresolved.add(key)
                self.unresolved.append(key)
            return None
        number = self.numbers.setdefault(key, len(self.numbers) + 1)
        anchor = f"cite-{number}-{len(self.anchors[key]) + 1}"
        self.anchors[key].append(anchor)
        return number, anchor

    def checkpoint(self):
        """The numbering so far, for ``rollback`` if a render is redone."""
        return (
            dict(self.numbers),
            {key: list(anchors) for key, anchors in self.anchors.items()},
            list(self.unresolved),
            None if self.log is None else len(self.log),
        )

    def rollback(self, state):
        numbers, anchors, unresolved, logged = state
        if logged is not None:
            del self.log[logged:]
        self.numbers = dict(numbers)
        self.anchors = defaultdict(list, anchors)
        self.unresolved = list(unresolved)
        self._unresolved = set(unresolved)

    def references(self):
        """(number, citation, anchors) for every numbered citation, in order."""
        return [
            (number, self.known[key], self.anchors.get(key, []))
            for key, number in sorted(self.numbers.items(), key=lambda item: item[1])
        ]


def _cite(numbering, group):
    """Number the keys of one marker: ([(number, anchor)], [missing keys])."""
    cited = []
    missing = []
    for key in _split_keys(group):
        result = numbering.cite(key)
        if result is None:
            missing.append(key)
        else:
            cited.append(result)
    return cited, missing


class CitationProcessor(InlineProcessor):
    def handleMatch(self, match, data):
        numbering = self.md.citation_numbering
        if numbering is None:
            return "", match.start(0), match.end(0)
        cited, missing = _cite(numbering, match.group(1))
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


# Linear replacements for Python-Markdown's forward scans.
#
# Python-Markdown finds the "]" closing a link's "[" by walking the rest of
# the paragraph character by character, once for every "[" and once more for
# each of the six link and image processors; likewise the ")" closing a link
# target and the backticks closing a code span. Text full of unclosed openers
# makes that quadratic. Whether a character is closed, and where, depends
# only on the text after it, so these processors index the text once and
# look answers up. Positions are kept as offsets from the end of the text
# (negative numbers): when a processor replaces a matched stretch with a
# placeholder, everything after it keeps its offset and the index stays valid.


class _TailIndex:
    """An index of a text, reused for any later text that ends the same way."""

    def __init__(self, build):
        self._build = build
        self._indexed = None
        self._index = None
        self._current = None
        self._current_from = 0

    def get(self, data, position):
        """The index, valid for looking at ``data`` from ``position`` on."""
        if data is self._current and position >= self._current_from:
            return self._index
        if (
            self._indexed is None
            or len(data) - position > len(self._indexed)
            or not self._indexed.endswith(data[position:])
        ):
            self._indexed = data
            self._index = self._build(data)
            position = 0
        self._current = data
        self._current_from = position
        return self._index


_LINK_CHARACTERS_RE = re.compile(r"[\[\]()'\"]")
# A quote, spaces, then ")": where a link title can end. Python-Markdown
# skips only spaces (not tabs or newlines) when it looks back for the quote.
_TITLE_END_RE = re.compile(r"(['\"]) *+\)")


class _LinkIndex:
    """Brackets, parentheses and quotes of a text, for the link processors."""

    def __init__(self, data):
        end = len(data)
        self.closing_bracket = {}
        self.closing_paren = {}
        self.opens = []
        self.closes = []
        self.parens = []
        self.quotes = {'"': [], "'": []}
        open_brackets = []
        open_parens = []
        for match in _LINK_CHARACTERS_RE.finditer(data):
            character = match.group()
            offset = match.start() - end
            if character == "[":
                open_brackets.append(offset)
            elif character == "]":
                if open_brackets:
                    self.closing_bracket[open_brackets.pop()] = offset
            elif character == "(":
                open_parens.append(offset)
                self.opens.append(offset)
                self.parens.append(offset)
            elif character == ")":
                if open_parens:
                    self.closing_paren[open_parens.pop()] = offset
                self.closes.append(offset)
                self.parens.append(offset)
            else:
                self.quotes[character].append(offset)
        # For each quote character: where it is followed by spaces and ")"
        # (the quote's offset and the parenthesis's offset).
        self.title_ends = {'"': ([], []), "'": ([], [])}
        for match in _TITLE_END_RE.finditer(data):
            quotes, parens = self.title_ends[match.group(1)]
            quotes.append(match.start() - end)
            parens.append(match.end() - 1 - end)

    def first_quote(self, offset):
        """Offset of the first quote character at or after ``offset``, or None."""
        found = [
            offsets[index]
            for offsets in self.quotes.values()
            if (index := bisect_left(offsets, offset)) < len(offsets)
        ]
        return min(found) if found else None

    def first_after(self, character, offset):
        offsets = self.quotes[character]
        index = bisect_right(offsets, offset)
        return offsets[index] if index < len(offsets) else None

    def title_end_after(self, character, offset):
        """(quote, ")") offsets of the first title end whose quote is after ``offset``."""
        quotes, parens = self.title_ends[character]
        index = bisect_right(quotes, offset)
        return (quotes[index], parens[index]) if index < len(quotes) else None

    @staticmethod
    def count(offsets, start, stop):
        return bisect_left(offsets, stop) - bisect_left(offsets, start)


class _LinearLinks:
    """getText and getLink of LinkInlineProcessor, with the same results, in
    time proportional to the link rather than to the rest of the paragraph."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._links = _TailIndex(_LinkIndex)

    def getText(self, data, index):
        # Python-Markdown calls this just past the "[" it is closing.
        if index == 0 or data[index - 1] != "[":
            return super().getText(data, index)
        end = len(data)
        closing = self._links.get(data, index - 1).closing_bracket.get(index - 1 - end)
        if closing is None:
            # Unclosed: the callers use neither the text nor the position.
            return "", end, False
        closing += end
        return data[index:closing], closing + 1, True

    def getLink(self, data, index):
        match = self.RE_LINK.match(data, pos=index)
        if match is None or match.group(1):
            # Not a link target, or one in <...>: no scan to speed up.
            return super().getLink(data, index)
        end = len(data)
        links = self._links.get(data, index)
        start = match.end()
        title = None
        # Until a quote appears, Python-Markdown's scan is plain parenthesis
        # matching from the "(" at index.
        closing = links.closing_paren.get(index - end)
        quote_at = links.first_quote(start - end)
        if closing is not None and (quote_at is None or closing < quote_at):
            href, index = data[start : closing + end], closing + end + 1
        elif quote_at is None:
            return "", None, end, False
        else:
            href, title, index = self._titled_link(data, links, start, quote_at)
            if href is None:
                return "", None, end, False
        if title is not None:
            title = self.RE_TITLE_CLEAN.sub(" ", dequote(self.unescape(title.strip())))
        return self.unescape(href).strip(), title, index, True

    @staticmethod
    def _titled_link(data, links, start, quote_at):
        """Python-Markdown's scan once a quote opened a title: (href, title, index),
        or (None, None, None) where it finds no link."""
        end = len(data)
        quote = data[quote_at]
        other = "'" if quote == '"' else '"'
        # The title closes at the first ")" preceded (spaces aside) by the
        # opening quote's character again, or by the other quote character
        # seen for the second time.
        candidates = []
        primary = links.title_end_after(quote, quote_at)
        if primary is not None:
            candidates.append((primary[1], quote_at, primary[0]))
        other_at = links.first_after(other, quote_at)
        if other_at is not None:
            secondary = links.title_end_after(other, other_at)
            if secondary is not None:
                candidates.append((secondary[1], other_at, secondary[0]))
        if candidates:
            paren, opened, closed = min(candidates)
            return (
                data[start : opened + end],
                data[opened + end + 1 : closed + end],
                paren + end + 1,
            )
        # No title closes: the target ends at the parenthesis that balances
        # the ones open when the quote appeared, every "(" or ")" after the
        # quote counting one down (Python-Markdown's backtracking count).
        open_before = 1 + links.count(links.opens, start - end, quote_at)
        open_before -= links.count(links.closes, start - end, quote_at)
        position = bisect_right(links.parens, quote_at) + open_before - 1
        if position >= len(links.parens):
            return None, None, None
        paren = links.parens[position] + end
        if data[paren] == ")":
            return data[start:paren], None, paren + 1
        # Python-Markdown's own arithmetic when that count ends on a "(".
        return data[start:-2], None, -1


class LinearLinkProcessor(_LinearLinks, LinkInlineProcessor):
    pass


class LinearImageProcessor(_LinearLinks, ImageInlineProcessor):
    pass


class LinearReferenceProcessor(_LinearLinks, ReferenceInlineProcessor):
    pass


class LinearImageReferenceProcessor(_LinearLinks, ImageReferenceInlineProcessor):
    pass


class LinearShortReferenceProcessor(_LinearLinks, ShortReferenceInlineProcessor):
    pass


class LinearShortImageReferenceProcessor(
    _LinearLinks, ShortImageReferenceInlineProcessor
):
    pass


_BACKTICKS_RE = re.compile(r"`+")


class _BacktickIndex:
    """The runs of backticks of a text, for the code span processor."""

    def __init__(self, data):
        end = len(data)
        self.starts = []
        self.lengths = []
        self.by_length = defaultdict(list)
        for match in _BACKTICKS_RE.finditer(data):
            offset = match.start() - end
            length = match.end() - match.start()
            self.starts.append(offset)
            self.lengths.append(length)
            self.by_length[length].append(offset)
        # longest[i]: (length, start) of the first longest run from run i on.
        self.longest = [(0, None)] * (len(self.starts) + 1)
        for index in range(len(self.starts) - 1, -1, -1):
            if self.lengths[index] >= self.longest[index + 1][0]:
                self.longest[index] = (self.lengths[index], self.starts[index])
            else:
                self.longest[index] = self.longest[index + 1]


class LinearBacktickProcessor(BacktickInlineProcessor):
    """Code spans as Python-Markdown finds them, without walking the rest of
    the paragraph for every unclosed run of backticks."""

    def __init__(self, pattern):
        super().__init__(pattern)
        self._runs = _TailIndex(_BacktickIndex)

    def find_code_spans(self, start, text):
        if start >= len(text) or text[start] != "`":
            return super().find_code_spans(start, text)
        end = len(text)
        runs = self._runs.get(text, start)
        run = bisect_right(runs.starts, start - end) - 1
        run_end = runs.starts[run] + runs.lengths[run] + end
        ticks = run_end - start
        # The first later run of exactly as many backticks closes the span.
        same = runs.by_length.get(ticks, ())
        closing = bisect_left(same, run_end - end)
        if closing < len(same):
            return run_end, same[closing] + end
        # Otherwise the longest later run, if shorter, closes a span opened by
        # as many of the opening backticks.
        longest, longest_at = runs.longest[run + 1]
        if 0 < longest < ticks:
            return run_end - (ticks - longest), longest_at + end
        # Python-Markdown's arithmetic: its search resumes this far on.
        return run_end + ticks, None


# Python-Markdown's names and priorities for the processors replaced above.
LINEAR_PROCESSORS = [
    ("reference", 170, LinearReferenceProcessor),
    ("link", 160, LinearLinkProcessor),
    ("image_link", 150, LinearImageProcessor),
    ("image_reference", 140, LinearImageReferenceProcessor),
    ("short_reference", 130, LinearShortReferenceProcessor),
    ("short_image_ref", 125, LinearShortImageReferenceProcessor),
]


class MgrefExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        patterns = md.inlinePatterns
        # Registering under an existing name replaces that processor.
        patterns.register(
            LinearBacktickProcessor(patterns["backtick"].pattern), "backtick", 190
        )
        for name, priority, processor in LINEAR_PROCESSORS:
            patterns.register(processor(patterns[name].pattern, md), name, priority)
        patterns.register(
            CitationProcessor(INLINE_MARKER_RE.pattern, md), "citation", 175
        )
        md.treeprocessors.register(HeadingShift(md), "heading_shift", 5)


# The CPU budget of a render, checked as Python-Markdown's processors run.


class _RenderTooSlow(Exception):
    pass


_local = threading.local()
_CHECK_EVERY = 64


def _budgeted(method):
    def checked(*args, **kwargs):
        _local.calls += 1
        if _local.calls % _CHECK_EVERY == 0 and time.thread_time() > _local.cutoff:
            raise _RenderTooSlow
        return method(*args, **kwargs)

    return checked


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
        for processor in converter.parser.blockprocessors:
            processor.test = _budgeted(processor.test)
            processor.run = _budgeted(processor.run)
        for processor in converter.inlinePatterns:
            processor.handleMatch = _budgeted(processor.handleMatch)
        _local.converter = converter
        _local.calls = 0
        _local.cutoff = float("inf")
    return converter


# What the renderer refuses to hand to Python-Markdown. Every check is a
# handful of regular-expression passes over the text; loops in Python run
# once per suspicious line, or once per paragraph doing a count or two (more
# only for a paragraph with over MAX_NESTING_DEPTH "[", or once the estimate
# has bounded the number of paragraphs).

# Paragraph breaks as Python-Markdown sees them: after tabs are expanded,
# only lines of spaces are blank.
_BLANK_LINES_RE = re.compile(r"\n(?: *+\n)++")
# Breaks that also end a paragraph inside a quote, for counting paragraphs.
_BREAKS_RE = re.compile(r"\n(?:[ >]*+\n)++")
# The markers that open a nested container at the start of a line, after
# Python-Markdown's own patterns: quotes, bullets and numbered items.
_CONTAINER_RE = re.compile(r"( *+)(?:> ?|[*+-] ++|\d{1,9}\. ++)")
_CONTAINERS_RE = re.compile(r"^(?: *+(?:> ?|[*+-] ++|\d{1,9}\. ++))++", re.MULTILINE)
# Only a line starting with this many container characters can nest too deeply.
_MAYBE_DEEP_RE = re.compile(
    rf"^[ >*+\-0-9.]{{{MAX_NESTING_DEPTH + 1}}}.*", re.MULTILINE
)
# Horizontal rules: made of list-marker characters, but no nesting.
_RULE_RE = re.compile(
    r" {0,3}(?:(?:- {0,2}+){3,}+|(?:_ {0,2}+){3,}+|(?:\* {0,2}+){3,}+) *+$"
)
# Lines at which Python-Markdown splits a paragraph: "#" headings, horizontal
# rules and setext underlines (a few harmless lines such as "=-" count too).
_SPLITTING_LINE_RE = re.compile(r"^ {0,3}(?:#|[-*_=][-*_= ]*+$)", re.MULTILINE)
# Characters that start an inline element; hard line breaks are counted apart.
_INLINE_MARKS = "`\\[<&*_"
_ESCAPE_RE = re.compile(r"\\.")
_INNERMOST_BRACKETS_RE = re.compile(r"\[[^\[\]]*+\]")


def _nesting(line):
    """How many containers a line opens, counting every 4 columns of indentation.

    The spaces after a bullet or number, and one after a ">", belong to the
    marker; those before a marker, or before the text, indent.
    """
    if _RULE_RE.match(line):
        return 0
    markers = indentation = prefix = 0
    while match := _CONTAINER_RE.match(line, prefix):
        markers += 1
        indentation += len(match.group(1))
        prefix = match.end()
    indentation += len(line) - prefix - len(line[prefix:].lstrip(" "))
    return markers + indentation // 4


def _marks(text):
    return sum(map(text.count, _INLINE_MARKS)) + text.count("  \n")


def _line(text, position):
    return text.count("\n", 0, position) + 1


def _paragraphs(text):
    """(start, paragraph) for each run of non-blank lines of ``text``."""
    start = 0
    for match in _BLANK_LINES_RE.finditer(text):
        yield start, text[start : match.start()]
        start = match.end()
    yield start, text[start:]


def _brackets_problem(paragraph):
    """Whether "[" nest, or stay open, more than MAX_NESTING_DEPTH deep."""
    # Take matched pairs away from the inside out: pairs still there after
    # MAX_NESTING_DEPTH rounds nest deeper than that.
    brackets = _ESCAPE_RE.sub("", paragraph)
    for _ in range(MAX_NESTING_DEPTH + 1):
        brackets, pairs = _INNERMOST_BRACKETS_RE.subn("", brackets)
        if not pairs:
            break
    return bool(pairs) or brackets.count("[") > MAX_NESTING_DEPTH


def _render_estimate(text):
    """Estimated microseconds of Python-Markdown work, and a ValidationError
    saying what makes it slow, or None if the estimate is within bounds."""
    costs = RENDER_COSTS_US
    budget = MAX_RENDER_ESTIMATE_MS * 1000
    containers = "\n".join(_CONTAINERS_RE.findall(text))
    headings = len(_SPLITTING_LINE_RE.findall(text))
    blocks = (
        1
        + len(_BREAKS_RE.findall(text.strip()))
        + len(_CONTAINER_RE.findall(containers))
        + headings
    )
    marks = _marks(text)
    cells = text.count("|")
    estimate = (
        costs["block"] * blocks
        + costs["cell"] * cells
        + costs["mark"] * marks
        + costs["key"] * text.count("@")
    )
    if estimate > budget:
        return ValidationError(
            "This text would take too long to display (%(blocks)s paragraphs, "
            "list items, headings and table cells; %(marks)s links, citations, "
            "emphasis and other marks). Shorten it or move part of it to another "
            "section.",
            code="markdown_too_complex",
            params={"blocks": f"{blocks + cells:,}", "marks": f"{marks:,}"},
        )
    # The pairwise terms, first bounded by the whole text's counts against
    # its longest paragraph; paragraph by paragraph only if that is not
    # enough (there are at most budget / block cost paragraphs by now).
    longest = max(map(len, _BLANK_LINES_RE.split(text)))
    bound = longest * (
        costs["mark_x_char"] * marks + costs["heading_x_char"] * headings
    )
    if estimate + bound <= budget:
        return None
    worst = None
    for start, paragraph in _paragraphs(text):
        inline = costs["mark_x_char"] * _marks(paragraph) * len(paragraph)
        split = (
            costs["heading_x_char"]
            * len(_SPLITTING_LINE_RE.findall(paragraph))
            * len(paragraph)
        )
        estimate += inline + split
        if worst is None or inline + split > worst[0]:
            worst = (inline + split, inline >= split, start, paragraph)
    if estimate <= budget:
        return None
    _, by_marks, start, paragraph = worst
    if by_marks:
        return ValidationError(
            "The paragraph from line %(line)s has too many links, citations, "
            "emphasis and other marks for its length (%(marks)s in %(length)s "
            "characters); split it with blank lines.",
            code="markdown_crowded_marks",
            params={
                "line": _line(text, start),
                "marks": f"{_marks(paragraph):,}",
                "length": f"{len(paragraph):,}",
            },
        )
    return ValidationError(
        "The paragraph from line %(line)s has %(headings)s headings or horizontal "
        "rules without blank lines between them; put a blank line before and "
        "after each heading.",
        code="markdown_crowded_headings",
        params={
            "line": _line(text, start),
            "headings": len(_SPLITTING_LINE_RE.findall(paragraph)),
        },
    )


def markdown_problem(text):
    """Why ``text`` is beyond what the renderer takes, as a ValidationError, or None.

    Linear in the text; ``validate_markdown`` raises what this returns.
    """
    if not text:
        return None
    if len(text) > MAX_MARKDOWN_CHARS:
        return ValidationError(
            "This text is %(length)s characters long; the limit is %(limit)s. "
            "Shorten it or move part of it to another section.",
            code="markdown_too_long",
            params={"length": f"{len(text):,}", "limit": f"{MAX_MARKDOWN_CHARS:,}"},
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    for match in _MAYBE_DEEP_RE.finditer(text):
        depth = _nesting(match.group())
        if depth > MAX_NESTING_DEPTH:
            return ValidationError(
                "Line %(line)s nests lists, quotes or indentation %(depth)s levels "
                "deep; the limit is %(limit)s.",
                code="markdown_nested_too_deep",
                params={
                    "line": _line(text, match.start()),
                    "depth": depth,
                    "limit": MAX_NESTING_DEPTH,
                },
            )
    if text.count("[") > MAX_NESTING_DEPTH:
        for start, paragraph in _paragraphs(text):
            if paragraph.count("[") > MAX_NESTING_DEPTH and _brackets_problem(
                paragraph
            ):
                return ValidationError(
                    "The paragraph from line %(line)s has square brackets nested "
                    "more than %(limit)s deep, or more than %(limit)s “[” without a "
                    "matching “]”. Close each “[” with “]”, or write “\\[” for a "
                    "bracket that is only text.",
                    code="markdown_brackets",
                    params={"line": _line(text, start), "limit": MAX_NESTING_DEPTH},
                )
    cited = len(citation_keys(text))
    if cited > MAX_CITATION_KEYS:
        return ValidationError(
            "This text cites %(count)s different sources; the limit is %(limit)s.",
            code="markdown_too_many_citations",
            params={"count": f"{cited:,}", "limit": f"{MAX_CITATION_KEYS:,}"},
        )
    return _render_estimate(text)


def validate_markdown(text):
    """Refuse Markdown the renderer would not render as Markdown.

    A validator for model and form fields and for the importer: raises a
    ValidationError saying what to change, in time linear in the text.
    """
    problem = markdown_problem(text)
    if problem is not None:
        raise problem


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


_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*+\n\s*+")


def _plain_html(text, numbering):
    """``text`` as escaped paragraphs, citation markers numbered as usual."""
    paragraphs = []
    for paragraph in _PARAGRAPH_BREAK_RE.split(text.strip()):
        parts = []
        position = 0
        for match in INLINE_MARKER_RE.finditer(paragraph):
            parts.append(html.escape(paragraph[position : match.start()]))
            position = match.end()
            if numbering is None:
                continue
            cited, missing = _cite(numbering, match.group(1))
            if cited:
                links = ",".join(
                    f'<a href="#ref-{number}" id="{anchor}">{number}</a>'
                    for number, anchor in cited
                )
                parts.append(f'<sup class="citation">{links}</sup>')
            parts.extend(
                '<span class="citation-missing" title="Citation not found">'
                f"[citation needed: {html.escape(key)}]</span>"
                for key in missing
            )
        parts.append(html.escape(paragraph[position:]))
        paragraphs.append(f"<p>{''.join(parts)}</p>")
    return "\n".join(paragraphs)


def _convert(text, numbering):
    converter = _converter()
    converter.reset()
    converter.citation_numbering = numbering
    _local.calls = 0
    _local.cutoff = time.thread_time() + RENDER_CPU_SECONDS
    try:
        return converter.convert(text)
    except BaseException:
        # A conversion stopped half-way leaves the converter's state
        # inconsistent: every later render in this thread would come out
        # wrong. The next render builds a fresh one.
        _local.converter = None
        raise
    finally:
        converter.citation_numbering = None


def render_markdown(text, *, numbering=None):
    """Markdown to sanitized HTML, marked safe for templates.

    Without a ``numbering``, citation markers are left out: that suits short
    extracts shown away from the monograph's reference list.

    Never raises and never stalls: text beyond the bounds (see
    ``markdown_problem``), or whose conversion fails or runs out of time, is
    shown as escaped plain paragraphs.
    """
    if not text:
        return mark_safe("")
    if markdown_problem(text) is not None:
        return mark_safe(sanitize_html(_plain_html(text, numbering)))
    state = numbering.checkpoint() if numbering is not None else None
    try:
        html_text = _convert(text, numbering)
    except (_RenderTooSlow, RecursionError) as error:
        logger.warning(
            "Markdown of %s characters shown as plain text: %s",
            f"{len(text):,}",
            "it took too long to render"
            if isinstance(error, _RenderTooSlow)
            else "it nests too deeply",
        )
        html_text = None
    except Exception:
        logger.exception("Markdown of %s characters shown as plain text", len(text))
        html_text = None
    if html_text is None:
        # Citations the failed render numbered are numbered again, in order.
        if state is not None:
            numbering.rollback(state)
        html_text = _plain_html(text, numbering)
    return mark_safe(sanitize_html(html_text))


def markdownify(text):
    """django-markdownx's preview: the same renderer, citations numbered as in the text."""
    from monographs.models import Citation

    # Text citing more keys is refused anyway; the preview still looks up
    # no more than one query can hold.
    keys = citation_keys(text)[:MAX_CITATION_KEYS]
    numbering = CitationNumbering(Citation.objects.filter(key__in=keys) if keys else ())
    return render_markdown(text, numbering=numbering)


def strip_tags(html_text):
    """The text of HTML this module rendered, its tags left out and its
    character references kept, as Django's ``strip_tags`` gives it.

    nh3 reads the HTML once in Rust, where ``strip_tags`` runs Python's
    HTMLParser until the text stops changing; on HTML nh3 wrote, both give
    the same text (``tests/test_markdown.py``).
    """
    return nh3.clean(str(html_text), tags=set(), clean_content_tags=set())
