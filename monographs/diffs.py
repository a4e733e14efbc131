"""
What changed between two documents of a monograph, section by section.

The form's own fields are compared section by section (monographs.schema),
rows are matched by id and shown as added, removed or changed with their
field changes, and the citations the documents quote are compared too, so
that a corrected reference shows in the review of every page citing it.
Text is compared word by word; stored text is normalised (LF, no trailing
whitespace), so line endings and whitespace never show as a change.

Markdown is compared as readers see it: both versions go through the one
renderer (monographs.markdown), citation markers become the reference numbers
the newer revision's page gives them, and the rendered paragraphs are
matched one to one, so that a changed paragraph shows before and after side
by side and paragraph breaks are kept (``html_diff``).

The HTML marks changes with <ins>/<del> and says "added"/"removed" in words
too, so that the diff does not rely on colour. Every diff is bounded: past
a size where matching words would be slow, it matches lines, and past that
it shows the old and new text whole, and says so.
"""

import difflib
import functools
import re
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from monographs.markdown import CitationNumbering, render_markdown
from monographs.schema import (
    ROW_KINDS,
    STAFF_FORM_FIELDS,
    citation_fields,
    field_label,
    form_sections,
    markdown_fields,
)

# Words, runs of whitespace and single punctuation marks. SequenceMatcher's
# autojunk drops tokens as common as a space from the matching of long texts,
# which keeps it from going quadratic on them.
TOKEN_RE = re.compile(r"\w+|[^\w\s]|\s+")
# SequenceMatcher's cost grows with the product of the two lengths: past
# these, compare coarser units.
MAX_WORD_WORK = 400_000  # one changed block, word by word
MAX_TOTAL_WORD_WORK = 2_000_000  # all the changed blocks of one text
MAX_LINE_WORK = 100_000_000  # the text, line by line
COARSE_NOTE = (
    '<p class="diff-note">This text changed too much to compare word by '
    "word: the old and new versions are shown whole.</p>"
)


def _marked(tag, text, words):
    if not text:
        return ""
    return (
        f'<{tag}><span class="visually-hidden">[{words}: </span>{escape(text)}'
        f'<span class="visually-hidden">]</span></{tag}>'
    )


def _opcodes_html(old_tokens, new_tokens, *, refine=False):
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens)
    parts = []
    budget = [MAX_TOTAL_WORD_WORK]
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed = "".join(old_tokens[i1:i2])
        added = "".join(new_tokens[j1:j2])
        if tag == "equal":
            parts.append(escape(added))
        elif refine and tag == "replace":
            parts.append(_words(removed, added, budget))
        else:
            parts.append(_marked("del", removed, "removed"))
            parts.append(_marked("ins", added, "added"))
    return "".join(parts)


def _words(old, new, budget):
    """Words within one changed block, while the text's budget lasts."""
    old_tokens, new_tokens = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    work = len(old_tokens) * len(new_tokens)
    if work <= MAX_WORD_WORK and work <= budget[0]:
        budget[0] -= work
        return _opcodes_html(old_tokens, new_tokens)
    return _marked("del", old, "removed") + _marked("ins", new, "added")


def word_diff(old, new):
    """HTML of ``new`` against ``old``: lines first, then words within them.

    Lines both texts start or end with are set aside first, as most edits
    of a long text touch a few lines in the middle.
    """
    if old == new:
        return mark_safe(escape(new))
    old_lines, new_lines = old.splitlines(True), new.splitlines(True)
    head = 0
    while (
        head < min(len(old_lines), len(new_lines))
        and old_lines[head] == new_lines[head]
    ):
        head += 1
    tail = 0
    while (
        tail < min(len(old_lines), len(new_lines)) - head
        and old_lines[-1 - tail] == new_lines[-1 - tail]
    ):
        tail += 1
    before = escape("".join(old_lines[:head]))
    after = escape("".join(old_lines[len(old_lines) - tail :]))
    old_lines = old_lines[head : len(old_lines) - tail]
    new_lines = new_lines[head : len(new_lines) - tail]
    if len(old_lines) * len(new_lines) > MAX_LINE_WORK:
        middle = (
            COARSE_NOTE
            + _marked("del", "".join(old_lines), "removed")
            + _marked("ins", "".join(new_lines), "added")
        )
    else:
        middle = _opcodes_html(old_lines, new_lines, refine=True)
    return mark_safe(before + middle + after)


# --- rendered Markdown, paragraph by paragraph -------------------------------

# A tag as the sanitizer writes it (a quoted attribute may hold ">"), an
# entity, a word, a mark, or a run of whitespace.
TAG_RE = re.compile(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")
HTML_TOKEN_RE = re.compile(rf"{TAG_RE.pattern}|&#?\w+;|\w+|[^\w\s]|\s+")
TAG_NAME_RE = re.compile(r"</?([a-zA-Z0-9]+)")
VOID_TAGS = frozenset({"br", "hr", "img", "wbr"})
# Anchors the page's citation markers carry: ids that would repeat on a
# page holding two versions, and links to a reference list the diff lacks.
ANCHOR_ATTRS_RE = re.compile(r'\s(?:id|rel)="[^"]*"')
CITATION_LINK_RE = re.compile(r'<a href="#ref-([0-9]+)">([0-9]+)</a>')


def _html_tokens(html):
    return HTML_TOKEN_RE.findall(ANCHOR_ATTRS_RE.sub("", str(html)))


def _is_tag(token):
    return token.startswith("<")


def _html_blocks(html):
    """The rendered text's top-level blocks (paragraphs, lists, tables…),
    each a list of tokens."""
    blocks, current, depth = [], [], 0
    for token in _html_tokens(html):
        if depth == 0 and not current and token.isspace():
            continue
        current.append(token)
        if not _is_tag(token):
            continue
        name = TAG_NAME_RE.match(token)
        name = name.group(1).lower() if name else ""
        if token.startswith("</"):
            depth -= 1
        elif name not in VOID_TAGS and not token.endswith("/>"):
            depth += 1
        if depth <= 0:
            blocks.append(current)
            current, depth = [], 0
    if current:
        blocks.append(current)
    return blocks


def _side_html(tokens, marked, tag, words):
    """``tokens`` as HTML, the text of those ``marked`` wrapped in ``tag``.

    Only text is wrapped, and each wrap closes before the next tag, so the
    result nests exactly as the rendered text did.
    """
    parts, run = [], []

    def flush():
        text = "".join(run)
        if text.strip():
            parts.append(
                f'<{tag}><span class="visually-hidden">[{words}: </span>{text}'
                f'<span class="visually-hidden">]</span></{tag}>'
            )
        else:
            parts.append(text)
        run.clear()

    for token, mark in zip(tokens, marked, strict=True):
        if mark and not _is_tag(token):
            run.append(token)
            continue
        if run:
            flush()
        parts.append(token)
    if run:
        flush()
    return "".join(parts)


def _block_pair(old, new, budget):
    """(old HTML, new HTML) of one changed block, words marked where the
    text's budget allows, else the whole block."""
    work = len(old) * len(new)
    if work > MAX_WORD_WORK or work > budget[0]:
        return (
            _side_html(old, [True] * len(old), "del", "removed"),
            _side_html(new, [True] * len(new), "ins", "added"),
        )
    budget[0] -= work
    old_marked, new_marked = [False] * len(old), [False] * len(new)
    matcher = difflib.SequenceMatcher(a=old, b=new)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            old_marked[i1:i2] = [True] * (i2 - i1)
            new_marked[j1:j2] = [True] * (j2 - j1)
    return (
        _side_html(old, old_marked, "del", "removed"),
        _side_html(new, new_marked, "ins", "added"),
    )


def _side(html, which):
    label = "Before" if which == "old" else "After"
    return (
        f'<div class="diff-side diff-{which}"><span class="diff-side-label">'
        f"{label}</span>{html}</div>"
    )


def _pair(old_html, new_html):
    empty = '<p class="diff-empty">No paragraph here</p>'
    return (
        '<div class="diff-pair">'
        + _side(old_html or empty, "old")
        + _side(new_html or empty, "new")
        + "</div>"
    )


def html_diff(old_html, new_html):
    """Two renderings of a text compared paragraph by paragraph.

    Unchanged paragraphs next to a change are shown once, as context; each
    changed paragraph is shown before and after, its words marked; added and
    removed paragraphs are shown whole. Bounded like ``word_diff``: blocks are
    matched while their product stays under MAX_LINE_WORK, and words within a
    pair while the text's word budget lasts.
    """
    old_blocks, new_blocks = _html_blocks(old_html), _html_blocks(new_html)
    if not old_blocks or not new_blocks:
        # A text added or removed whole: one side, every word marked.
        which, blocks = ("new", new_blocks) if new_blocks else ("old", old_blocks)
        tag, words = ("ins", "added") if which == "new" else ("del", "removed")
        html = "".join(_side_html(b, [True] * len(b), tag, words) for b in blocks)
        return mark_safe(_side(html, which))
    budget = [MAX_TOTAL_WORD_WORK]
    if len(old_blocks) * len(new_blocks) > MAX_LINE_WORK:
        opcodes = [("replace", 0, len(old_blocks), 0, len(new_blocks))]
        budget[0] = 0
        parts = [COARSE_NOTE]
    else:
        keys_old = ["".join(block) for block in old_blocks]
        keys_new = ["".join(block) for block in new_blocks]
        opcodes = difflib.SequenceMatcher(a=keys_old, b=keys_new).get_opcodes()
        parts = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            shown = set()
            if index > 0:
                shown.add(i1)  # after a change
            if index < len(opcodes) - 1:
                shown.add(i2 - 1)  # before a change
            skipped = 0
            for position in range(i1, i2):
                if position in shown:
                    if skipped:
                        parts.append(_skipped(skipped))
                        skipped = 0
                    block = "".join(old_blocks[position])
                    parts.append(f'<div class="diff-context">{block}</div>')
                else:
                    skipped += 1
            if skipped:
                parts.append(_skipped(skipped))
            continue
        old_run, new_run = old_blocks[i1:i2], new_blocks[j1:j2]
        for position in range(max(len(old_run), len(new_run))):
            old = old_run[position] if position < len(old_run) else None
            new = new_run[position] if position < len(new_run) else None
            if old is None:
                parts.append(
                    _pair("", _side_html(new, [True] * len(new), "ins", "added"))
                )
            elif new is None:
                parts.append(
                    _pair(_side_html(old, [True] * len(old), "del", "removed"), "")
                )
            else:
                parts.append(_pair(*_block_pair(old, new, budget)))
    return mark_safe('<div class="diff-blocks">' + "".join(parts) + "</div>")


def _skipped(count):
    return (
        f'<p class="diff-skipped">{count} unchanged paragraph'
        f"{'' if count == 1 else 's'}</p>"
    )


class DiffRendering:
    """Renders a diff's Markdown as readers see it.

    Both versions number their citations as the newer revision's page does
    (citations only the older one cites come after), so a reference that did
    not change keeps its number; each number links to the reference list of
    the revision that has it, when ``links`` gives those pages' addresses.
    """

    def __init__(self, old, new, links=None):
        self.old, self.new = old, new
        self.links = links or (None, None)

    @cached_property
    def _page_numbers(self):
        from monographs.pages import MonographPage  # pages imports findings

        numbers = {}
        for document in (self.new, self.old):
            if document is None:
                continue
            for key in MonographPage(document).numbering.numbers:
                numbers.setdefault(key, len(numbers) + 1)
        return numbers

    @cached_property
    def _new_numbers(self):
        if self.new is None:
            return set()
        keys = set(self.new.citations)
        return {n for key, n in self._page_numbers.items() if key in keys}

    @cached_property
    def _citations(self):
        citations = {}
        for document in (self.old, self.new):
            if document is not None:
                citations.update(document.citations)
        return list(citations.values())

    def render(self, text):
        if not text:
            return ""
        numbering = CitationNumbering(self._citations)
        numbering.numbers = dict(self._page_numbers)
        html = str(render_markdown(text, numbering=numbering))
        old_link, new_link = self.links

        def link(match):
            number = int(match.group(1))
            base = new_link if number in self._new_numbers else old_link
            if base is None:
                return str(number)
            return f'<a href="{escape(base)}#ref-{number}">{number}</a>'

        return CITATION_LINK_RE.sub(link, ANCHOR_ATTRS_RE.sub("", html))


def _display(instance, name):
    if instance is None:
        return ""
    field_object = instance._meta.get_field(name)
    if field_object.is_relation:
        return str(getattr(instance, name))
    if field_object.choices:
        return str(getattr(instance, f"get_{name}_display")())
    value = getattr(instance, name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass
class FieldChange:
    label: str
    old: str
    new: str
    # Set for Markdown: the diff's renderer, which shows it as readers see it.
    rendering: object = None

    @property
    def html(self):
        if self.rendering is not None:
            return html_diff(
                self.rendering.render(self.old), self.rendering.render(self.new)
            )
        return word_diff(self.old, self.new)

    @property
    def rendered(self):
        return self.rendering is not None


@dataclass
class RowChange:
    section: str
    action: str  # "added", "removed" or "changed"
    label: str
    fields: list = field(default_factory=list)
    # The row as a heading names it (without its form's name), and a changed
    # row's before.
    short_label: str = ""
    old_label: str = ""

    @property
    def heading(self):
        """What the row is, and for a changed row what its label changed
        from, e.g. "Adults, 125–300 → 150–300 mg/day"."""
        label = self.short_label or self.label
        if self.action != "changed" or self.old_label in ("", label):
            return label
        return label_change(self.old_label, label)


def label_change(old, new):
    """``old → new`` with the words both share written once around it."""
    old_tokens, new_tokens = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    head = 0
    while (
        head < min(len(old_tokens), len(new_tokens))
        and old_tokens[head] == new_tokens[head]
    ):
        head += 1
    tail = 0
    while (
        tail < min(len(old_tokens), len(new_tokens)) - head
        and old_tokens[-1 - tail] == new_tokens[-1 - tail]
    ):
        tail += 1
    # Whole words change: the shared parts end and start at a space.
    while head and not old_tokens[head - 1].isspace():
        head -= 1
    while tail and not old_tokens[len(old_tokens) - tail].isspace():
        tail -= 1
    if not head or not tail:
        # Nothing shared on one side: the labels read best whole.
        return f"{old} → {new}"
    before = "".join(old_tokens[:head])
    after = "".join(old_tokens[len(old_tokens) - tail :])
    old_middle = "".join(old_tokens[head : len(old_tokens) - tail])
    new_middle = "".join(new_tokens[head : len(new_tokens) - tail])
    return f"{before}{old_middle} → {new_middle}{after}"


@dataclass
class SectionDiff:
    title: str
    fields: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.fields or self.rows)

    @property
    def what(self):
        """What changed in the section, in words: "Dosage notes changed;
        doses: 1 added, 1 changed"."""
        parts = []
        if self.fields:
            labels = [change.label for change in self.fields]
            parts.append(f"{', '.join(labels)} changed")
        counts = {}
        for change in self.rows:
            counts[change.action] = counts.get(change.action, 0) + 1
        if counts:
            detail = ", ".join(f"{n} {action}" for action, n in counts.items())
            parts.append(f"{self.rows[0].section}: {detail}")
        return capfirst("; ".join(parts))


@dataclass
class MonographDiff:
    old: object
    new: object
    sections: list

    def __bool__(self):
        return any(self.sections)

    @property
    def fields(self):
        return [change for section in self.sections for change in section.fields]

    @property
    def rows(self):
        return [change for section in self.sections for change in section.rows]

    def summary(self):
        """Short words for what changed, e.g. ['Summary', 'Doses: 1 added']."""
        parts = [change.label for change in self.fields]
        counts = {}
        for change in self.rows:
            counts.setdefault(change.section, {}).setdefault(change.action, 0)
            counts[change.section][change.action] += 1
        for section, actions in counts.items():
            detail = ", ".join(f"{n} {action}" for action, n in actions.items())
            parts.append(f"{section}: {detail}")
        return parts


@functools.cache
def _plain_attnames(model, names):
    """{name: attname} of the fields among ``names`` whose shown value
    follows from their stored value alone: not relations, which show the
    related object's name as the document holds it (a topic renamed since
    shows as a change)."""
    fields = {name: model._meta.get_field(name) for name in names}
    return {
        name: field.attname for name, field in fields.items() if not field.is_relation
    }


def _changes(model_name, names, old, new, rendering=None):
    changes = []
    rendered = markdown_fields(model_name) if rendering is not None else ()
    plain = (
        _plain_attnames(type(new), tuple(names))
        if old is not None and new is not None
        else {}
    )
    for name in names:
        attname = plain.get(name)
        if attname is not None and getattr(old, attname) == getattr(new, attname):
            # The same stored value shows the same: most fields of a diff.
            continue
        before, after = _display(old, name), _display(new, name)
        if before != after:
            changes.append(
                FieldChange(
                    field_label(model_name, name),
                    before,
                    after,
                    rendering if name in rendered else None,
                )
            )
    return changes


def _citations_text(row):
    return ", ".join(citation.key for citation in getattr(row, "cited", None) or [])


def _row_changes(kind, old_row, new_row, rendering=None):
    changes = _changes(kind.model_name, kind.fields, old_row, new_row, rendering)
    if kind.cites:
        before = _citations_text(old_row) if old_row is not None else ""
        after = _citations_text(new_row) if new_row is not None else ""
        if before != after:
            changes.append(FieldChange("Citations", before, after))
    return changes


def _row_label(row):
    """A row as a heading names it: its own words, without its form's name."""
    label = str(row)
    form = getattr(row, "form", None)
    prefix = f"{form}: " if form is not None else ""
    return label[len(prefix) :] if prefix and label.startswith(prefix) else label


def _rows_section(kind, old, new, rendering=None):
    section = SectionDiff(kind.label)
    old_rows = {row.pk: row for row in getattr(old, kind.name)} if old else {}
    new_rows = {row.pk: row for row in getattr(new, kind.name)} if new else {}
    for pk, row in new_rows.items():
        before = old_rows.get(pk)
        changes = _row_changes(kind, before, row, rendering)
        if before is None:
            section.rows.append(
                RowChange(
                    kind.label, "added", str(row), changes, short_label=_row_label(row)
                )
            )
        elif changes:
            section.rows.append(
                RowChange(
                    kind.label,
                    "changed",
                    str(row),
                    changes,
                    short_label=_row_label(row),
                    old_label=_row_label(before),
                )
            )
    for pk, row in old_rows.items():
        if pk not in new_rows:
            section.rows.append(
                RowChange(
                    kind.label,
                    "removed",
                    str(row),
                    _row_changes(kind, row, None, rendering),
                    short_label=_row_label(row),
                )
            )
    return section


def _citations_section(old, new, *, staff_fields=True):
    """Citations both documents quote whose metadata changed in between
    (without ``staff_fields``, those readers see cited)."""

    def quoted(document):
        if document is None:
            return []
        if staff_fields:
            return document.citations.values()
        return document.reader_citations().values()

    section = SectionDiff("References")
    old_by_id = {c.pk: c for c in quoted(old)}
    for citation in quoted(new):
        before = old_by_id.get(citation.pk)
        if before is None:
            continue
        changes = _changes("Citation", citation_fields(), before, citation)
        if changes:
            section.rows.append(
                RowChange("References", "changed", citation.key, changes)
            )
    return section


def compare(old, new, *, staff_fields=True, links=None):
    """The changes from document ``old`` to ``new`` (either None: no monograph).

    Markdown is shown rendered, its citations numbered as on the newer
    revision's page; ``links`` (old page's address, new page's address)
    makes each number a link to that page's reference.
    """
    rendering = DiffRendering(old, new, links)
    sections = []
    for form_section in form_sections():
        names = [
            name
            for name in form_section.fields
            if staff_fields or name not in STAFF_FORM_FIELDS
        ]
        if not names:
            continue
        sections.append(
            SectionDiff(
                capfirst(form_section.title),
                fields=_changes(
                    "MagnesiumForm",
                    names,
                    old.form if old else None,
                    new.form if new else None,
                    rendering,
                ),
            )
        )
    sections += [_rows_section(kind, old, new, rendering) for kind in ROW_KINDS]
    sections.append(_citations_section(old, new, staff_fields=staff_fields))
    return MonographDiff(
        old=old, new=new, sections=[section for section in sections if section]
    )
