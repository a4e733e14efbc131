"""
Reading monograph files: Markdown pages with YAML front matter (the layout of
shared/seeds/004_*.txt) and plain clinical summaries with headed sections
(shared/seeds/000_*.txt).

``parse_file`` only reads; monographs.services.monograph_import writes.
Every problem is an ``ImportProblem`` naming the file and line.

Files come from anywhere, so reading one is bounded: at most
``MAX_FILE_BYTES``, front matter without YAML anchors and aliases (a few
hundred bytes of them stand for gigabytes) and nested at most
``MAX_FRONT_MATTER_DEPTH`` deep, every pattern and loop linear in the file,
and every Markdown text within what the renderer accepts
(monographs.markdown.validate_markdown).
"""

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError

from monographs.markdown import validate_markdown
from monographs.models.citations import UNRESOLVED_KEY_PREFIX

MAX_FILE_BYTES = 512 * 1024
# Front matter is a mapping of lists of mappings: three levels. PyYAML
# composes nested collections by recursion.
MAX_FRONT_MATTER_DEPTH = 20

FRONT_MATTER_SECTIONS = {
    "generic name": "generic_name",
    "usage": "usage",
    "dosage": "dosage_notes",
    "side effects": "side_effects",
    "how it works": "mechanism",
    "precautions": "precautions",
    "faqs": "faqs",
}

# Facts the ### sections have no place for travel in the front matter.
FRONT_MATTER_FACTS = (
    "category",
    "salt",
    "elemental_mg_percent",
    "formula_basis",
    "composition_note",
    "absorption_notes",
    "tolerability_notes",
    "precaution_notes",
)

BULLET_RE = re.compile(r"^\s*[*+-]\s+(.*)$")
LABELLED_RE = re.compile(r"^\*\*(?P<label>[^*]+?):?\*\*:?\s*(?P<text>.*)$", re.S)
ROW_LISTS = ("doses", "interactions", "evidence", "studies")
# Facts and row columns that are Markdown (MarkdownxField) in the models.
MARKDOWN_FACTS = (
    "composition_note",
    "absorption_notes",
    "tolerability_notes",
    "precaution_notes",
)
MARKDOWN_COLUMNS = {
    "doses": ("notes",),
    "evidence": ("summary",),
    "studies": ("notes",),
}
QUESTION_RE = re.compile(
    r"^\*\*Q:\s*(?P<question>.+?)\*\*\s*A:\s*(?P<answer>.+)$", re.S | re.IGNORECASE
)
DISCLAIMER_RE = re.compile(
    r"^\*\*Disclaimer:\*\*\s*(?P<text>.+)$", re.S | re.IGNORECASE
)
TRAILING_REFERENCE_RE = re.compile(r"(?<=[^\d\s])\s+(\d{1,2})\s*$")
NUMBERED_HEADING_RE = re.compile(r"^\d+\.\s+\S")
# "## Name" or "### Name", optionally closed by #s. The name is cut out in
# Python: a lazy ".*?" before "\s*#*$" retried every split of a long run of
# spaces (a 60 KB heading line took over a minute).
SECTION_HEADING_RE = re.compile(r"#{2,3}\s")
SERIOUS_RE = re.compile(r"serious|medical attention|seek", re.IGNORECASE)


class ImportProblem(Exception):
    def __init__(self, path, line, message):
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self):
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass
class ParsedSideEffect:
    name: str
    serious: bool


@dataclass
class ParsedMonograph:
    path: Path
    title: str
    fields: dict = field(default_factory=dict)
    synonyms: list = field(default_factory=list)
    side_effects: list | None = None
    precautions: list | None = None
    faqs: list | None = None
    other: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    doses: list | None = None
    interactions: list | None = None
    evidence: list | None = None
    studies: list | None = None
    # The line of the first section kept under "other sections".
    other_line: int | None = None


@dataclass
class Line:
    number: int
    text: str


def read_text(path, *, max_bytes=MAX_FILE_BYTES):
    """The file's text with LF line endings, or an ImportProblem saying why not."""
    path = Path(path)
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        raise ImportProblem(path, None, "not a regular file")
    if status.st_size > max_bytes:
        raise ImportProblem(
            path,
            None,
            f"file is {status.st_size:,} bytes; the limit is {max_bytes:,} bytes",
        )
    # Read no more than the limit even if the file grew since it was measured.
    with path.open("rb") as file:
        raw = file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ImportProblem(
            path, None, f"file is over the limit of {max_bytes:,} bytes"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportProblem(
            path,
            line,
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start}); "
            "save the file as UTF-8",
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ImportProblem(path, None, "the file is empty")
    return text


def parse_file(path, *, max_bytes=MAX_FILE_BYTES):
    path = Path(path)
    lines = [
        Line(number, text)
        for number, text in enumerate(
            read_text(path, max_bytes=max_bytes).split("\n"), 1
        )
    ]
    if lines[0].text.strip() == "---":
        parsed = _parse_front_matter_page(path, lines)
    else:
        parsed = _parse_clinical_summary(path, lines)
    if parsed.other:
        _check_markdown(
            path,
            parsed.other_line,
            "the sections kept under 'other sections'",
            other_sections_markdown(parsed),
        )
    return parsed


def _check_markdown(path, line, where, text):
    """An ImportProblem if ``text`` is Markdown the site would refuse to show."""
    try:
        validate_markdown(text)
    except ValidationError as error:
        raise ImportProblem(
            path, line, f"{where}: {' '.join(error.messages)}"
        ) from None


class FrontMatterRefused(yaml.MarkedYAMLError):
    """Front matter that is valid YAML but not accepted here."""


class FrontMatterLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors, aliases and deep nesting.

    An alias repeats a node wherever it appears: nine lines of aliases of
    aliases stand for a billion strings once the list is copied or printed
    (a 400-byte file took 33 s and 2.7 GB). Front matter has no use for
    them. Nesting is bounded because PyYAML composes collections by recursion.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise FrontMatterRefused(
                problem=f"uses the alias *{event.anchor}; aliases and anchors are "
                "not allowed, write the value out in full",
                problem_mark=event.start_mark,
            )
        if getattr(event, "anchor", None) is not None:
            raise FrontMatterRefused(
                problem=f"defines the anchor &{event.anchor}; aliases and anchors "
                "are not allowed, write each value out in full",
                problem_mark=event.start_mark,
            )
        if self.depth >= MAX_FRONT_MATTER_DEPTH:
            raise FrontMatterRefused(
                problem=f"nests lists or mappings more than {MAX_FRONT_MATTER_DEPTH} "
                "levels deep",
                problem_mark=event.start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _load_front_matter(source):
    """(data, node) of one YAML document; the node gives the lines of keys.

    Read by libyaml where it can be, about ten times faster than PyYAML's
    own parser (a folder import reads thousands of files): front matter
    without anchors, aliases or deep nesting that libyaml reads without an
    error. Anything else is read again by FrontMatterLoader, so that what
    is refused or malformed is reported, and read, exactly as it says."""
    if _C_LOADER is not None:
        try:
            return _load_front_matter_c(source)
        except Exception:
            pass  # FrontMatterLoader reads it, and says what is wrong.
    return _read_document(FrontMatterLoader(source))


def _read_document(loader):
    """(data, node) of the loader's single document."""
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


# libyaml's loader, if PyYAML was built with it.
_C_LOADER = getattr(yaml, "CSafeLoader", None)


class _NotForLibyaml(Exception):
    """Front matter FrontMatterLoader refuses, or reads differently."""


def _load_front_matter_c(source):
    """_load_front_matter by libyaml; _NotForLibyaml (or libyaml's error)
    where FrontMatterLoader is to read it."""
    # FrontMatterLoader.compose_node's refusals, checked on the events:
    # a node is as deep as the collections open around it.
    depth = 0
    for event in yaml.parse(source, Loader=_C_LOADER):
        if isinstance(event, yaml.NodeEvent) and (
            isinstance(event, yaml.AliasEvent)
            or event.anchor is not None
            or depth >= MAX_FRONT_MATTER_DEPTH
        ):
            raise _NotForLibyaml
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return _read_document(_C_LOADER(source))


def _key_lines(node):
    """File lines of the front matter's keys, and of each row of its lists:
    {key: line} and {(key, index): line}."""
    lines = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        # The front matter starts on the file's second line.
        lines[key.value] = key.start_mark.line + 2
        if isinstance(value, yaml.SequenceNode):
            for index, item in enumerate(value.value):
                lines[key.value, index] = item.start_mark.line + 2
    return lines


def _front_matter(path, lines):
    index = next(
        (
            index
            for index, line in enumerate(lines)
            if index and line.text.strip() == "---"
        ),
        None,
    )
    if index is None:
        raise ImportProblem(path, 1, "front matter opened with '---' is never closed")
    source = "\n".join(line.text for line in lines[1:index])
    try:
        data, node = _load_front_matter(source)
    except FrontMatterRefused as error:
        raise ImportProblem(
            path, error.problem_mark.line + 2, f"front matter {error.problem}"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        raise ImportProblem(path, line, f"malformed front matter: {problem}") from None
    except (ValueError, OverflowError) as error:
        # PyYAML turns what looks like a date or a number into one and lets
        # Python's errors through: "2020-13-45", an integer of 5,000 digits.
        raise ImportProblem(
            path, 2, f"malformed front matter: a value cannot be read ({error})"
        ) from None
    data = data or {}
    if not isinstance(data, dict):
        raise ImportProblem(path, 2, "front matter must be 'key: value' lines")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ImportProblem(path, 2, "front matter has no 'title'")
    return data, lines[index + 1 :], _key_lines(node)


def _blocks(lines):
    """Split lines into paragraphs and bullet items, keeping line numbers.

    An indented paragraph after a blank line continues the bullet above it,
    as in Markdown, so an item may hold several paragraphs.
    """
    blocks = []
    current = None
    last_bullet = None
    for line in lines:
        text = line.text.rstrip()
        bullet = BULLET_RE.match(text)
        if not text.strip():
            if current is not None and current["kind"] == "bullet":
                last_bullet = current
            current = None
        elif bullet:
            current = {
                "kind": "bullet",
                "line": line.number,
                "parts": [[bullet.group(1)]],
            }
            blocks.append(current)
            last_bullet = None
        elif current is not None and (
            current["kind"] == "paragraph" or text.startswith(" ")
        ):
            # Lines are collected and joined once: adding each to a growing
            # string copies the paragraph once per line.
            current["parts"][-1].append(text.strip())
        elif last_bullet is not None and text.startswith("  "):
            last_bullet["parts"].append([text.strip()])
            current = last_bullet
        else:
            current = {
                "kind": "paragraph",
                "line": line.number,
                "parts": [[text.strip()]],
            }
            blocks.append(current)
            last_bullet = None
    for block in blocks:
        block["text"] = "\n\n".join(
            " ".join(" ".join(part).split()) for part in block.pop("parts")
        )
    return blocks


def _markdown(lines):
    text = "\n".join(line.text.rstrip() for line in lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _section_heading(stripped):
    """The name of a "## Name" or "### Name ###" line, or None."""
    match = SECTION_HEADING_RE.match(stripped)
    if match is None:
        return None
    # As "^#{2,3}\s+(.*?)\s*#*$" read it: closing #s and the space before
    # them are not part of the name.
    return stripped[match.end() :].rstrip("#").strip()


def _parse_front_matter_page(path, lines):
    data, body, key_lines = _front_matter(path, lines)
    parsed = ParsedMonograph(path=path, title=data["title"].strip())
    parsed.facts = {name: data[name] for name in FRONT_MATTER_FACTS if name in data}
    # The import stores str() of whatever YAML read, so that is what is checked.
    for name, value in parsed.facts.items():
        if name in MARKDOWN_FACTS:
            _check_markdown(
                path, key_lines.get(name, 2), f"front matter '{name}'", str(value)
            )
    if isinstance(data.get("synonyms"), list):
        parsed.synonyms += [str(name) for name in data["synonyms"]]
    for name in ROW_LISTS:
        rows = data.get(name)
        if rows is None:
            continue
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ImportProblem(
                path,
                key_lines.get(name, 2),
                f"front matter '{name}' must be a list of mappings",
            )
        for index, row in enumerate(rows):
            for column in MARKDOWN_COLUMNS.get(name, ()):
                if column in row:
                    _check_markdown(
                        path,
                        key_lines.get((name, index), 2),
                        f"front matter '{name}', row {index + 1}, '{column}'",
                        str(row[column]),
                    )
        setattr(parsed, name, rows)
    sections = {}
    preamble = []
    preamble_has_text = False
    current = None
    for line in body:
        stripped = line.text.strip()
        # The page's "# Title" line, before any text, is not part of it.
        if stripped.startswith("# ") and current is None and not preamble_has_text:
            continue
        name = _section_heading(stripped)
        if name is not None:
            key = name.lower()
            if key in sections:
                raise ImportProblem(
                    path,
                    line.number,
                    f"section '{name}' appears twice (first at line {sections[key]['line']})",
                )
            current = {"name": name, "line": line.number, "lines": []}
            sections[key] = current
            continue
        if current is not None:
            current["lines"].append(line)
        else:
            preamble.append(line)
            preamble_has_text = preamble_has_text or bool(stripped)

    if preamble_has_text:
        parsed.fields["summary"] = _markdown(preamble)
        first = next(line.number for line in preamble if line.text.strip())
        _check_markdown(
            path, first, "the text before the first section", parsed.fields["summary"]
        )

    for key, section in sections.items():
        target = FRONT_MATTER_SECTIONS.get(key)
        where = f"section '{section['name']}'"
        lines = section["lines"]
        lines, disclaimer = _take_disclaimer(lines)
        if disclaimer:
            parsed.fields["disclaimer"] = disclaimer
            _check_markdown(
                path, section["line"], f"the disclaimer in {where}", disclaimer
            )
        if target is None:
            parsed.other.append((section["name"], _markdown(lines)))
            parsed.other_line = parsed.other_line or section["line"]
            parsed.warnings.append(
                f"{path}:{section['line']}: unknown section '{section['name']}' kept "
                "under 'other sections' for an editor to place"
            )
        elif target == "generic_name":
            name = " ".join(_markdown(lines).split())
            if name:
                parsed.synonyms.append(name)
        elif target == "side_effects":
            _parse_side_effects(parsed, section, lines)
        elif target == "precautions":
            parsed.precautions = _labelled_items(path, section, lines, parsed)
        elif target == "faqs":
            parsed.faqs = _questions(path, section, lines, parsed)
        else:
            parsed.fields[target] = _markdown(lines)
            _check_markdown(path, section["line"], where, parsed.fields[target])
    return parsed


def _take_disclaimer(lines):
    """The **Disclaimer:** paragraph and everything after it, which ends the page."""
    for index, line in enumerate(lines):
        match = DISCLAIMER_RE.match(line.text.strip())
        if match:
            rest = [Line(line.number, match.group("text")), *lines[index + 1 :]]
            return lines[:index], _markdown(rest)
    return lines, ""


def _trailing_note(text):
    r"""(where the note starts, the note) if ``text`` ends in "(a note)", else None.

    What "\s*\((.*)\)\s*$" finds, without retrying from every "(" in turn:
    the first "(" on the line of the final ")", and the spaces before it.
    """
    body = text.rstrip()
    if not body.endswith(")"):
        return None
    opening = body.find("(", body.rfind("\n") + 1, len(body) - 1)
    if opening == -1:
        return None
    return len(body[:opening].rstrip()), body[opening + 1 : -1]


def _parse_side_effects(parsed, section, lines):
    serious = False
    effects = []
    leftover = []
    for block in _blocks(lines):
        if block["kind"] == "paragraph":
            if block["text"].endswith(":"):
                serious = bool(SERIOUS_RE.search(block["text"]))
            else:
                leftover.append(block["text"])
            continue
        found = _trailing_note(block["text"])
        name, note = (
            (block["text"][: found[0]], found[1]) if found else (block["text"], "")
        )
        _check_markdown(
            parsed.path,
            block["line"],
            f"the note of a side effect in section '{section['name']}'",
            note,
        )
        effects.append(
            (
                ParsedSideEffect(name=name.strip().rstrip("."), serious=serious),
                note,
            )
        )
    parsed.side_effects = effects
    if leftover:
        parsed.other.append((section["name"], "\n\n".join(leftover)))
        parsed.other_line = parsed.other_line or section["line"]
        parsed.warnings.append(
            f"{parsed.path}:{section['line']}: text in 'Side Effects' outside the two "
            "lists kept under 'other sections'"
        )


def _labelled_items(path, section, lines, parsed):
    items = []
    notes = []
    for block in _blocks(lines):
        if block["kind"] == "paragraph" and not items:
            notes.append(block["text"])
            continue
        match = LABELLED_RE.match(block["text"]) if block["kind"] == "bullet" else None
        if match is None:
            parsed.other.append((section["name"], block["text"]))
            parsed.other_line = parsed.other_line or block["line"]
            parsed.warnings.append(
                f"{path}:{block['line']}: a '{section['name']}' item without a "
                "**Label:** kept under 'other sections'"
            )
            continue
        label, text = match.group("label").strip(), match.group("text").strip()
        _check_markdown(path, block["line"], f"precaution '{label}'", text)
        items.append((label, text))
    if notes:
        parsed.fields["precaution_notes"] = "\n\n".join(notes)
        _check_markdown(
            path,
            section["line"],
            f"section '{section['name']}'",
            parsed.fields["precaution_notes"],
        )
    return items


def _questions(path, section, lines, parsed):
    items = []
    for block in _blocks(lines):
        match = QUESTION_RE.match(block["text"]) if block["kind"] == "bullet" else None
        if match is None:
            parsed.other.append((section["name"], block["text"]))
            parsed.other_line = parsed.other_line or block["line"]
            parsed.warnings.append(
                f"{path}:{block['line']}: an FAQ without '**Q:** … A: …' kept under "
                "'other sections'"
            )
            continue
        question = match.group("question").strip()
        answer = match.group("answer").strip()
        _check_markdown(path, block["line"], f"the answer to '{question}'", answer)
        items.append((question, answer))
    return items


# The clinical-summary layout: a title line, then short heading lines, each
# followed by paragraphs or bullets whose trailing numbers cite sources the
# file does not list.

SUMMARY_TARGETS = [
    (re.compile(r"dos(e|ing|age)", re.I), "dosage_notes"),
    (re.compile(r"precaution|warning|safety", re.I), "precaution_notes"),
    (re.compile(r"advantage|how it works|mechanism", re.I), "mechanism"),
    (
        re.compile(
            r"use|application|benefit|support|improvement|management|treatment", re.I
        ),
        "usage",
    ),
]


def _is_heading(text, next_text):
    if not text or BULLET_RE.match(text) or len(text) > 80:
        return False
    if text[-1] in ".:;,!?" or TRAILING_REFERENCE_RE.search(text):
        return False
    return bool(next_text)


def _unresolved(text, parsed, line_number):
    match = TRAILING_REFERENCE_RE.search(text)
    if match is None:
        return text
    number = match.group(1)
    parsed.warnings.append(
        f"{parsed.path}:{line_number}: reference {number} is not listed in the file: "
        f"marked [@{UNRESOLVED_KEY_PREFIX}ref-{number}] for an editor to resolve"
    )
    return f"{text[: match.start()]} [@{UNRESOLVED_KEY_PREFIX}ref-{number}]"


def _parse_clinical_summary(path, lines):
    content = [line for line in lines if line.text.strip()]
    title_line = content[0].text.strip()
    if BULLET_RE.match(title_line) or len(title_line) > 120:
        raise ImportProblem(
            path, content[0].number, "the first line should be the monograph's title"
        )
    parsed = ParsedMonograph(path=path, title=title_line.split(":")[0].strip())
    sections = []  # (heading, target, [markdown lines], line)
    current = ("", "summary", [], content[1].number if len(content) > 1 else None)
    sections.append(current)
    for index, line in enumerate(content[1:], start=1):
        text = line.text.strip()
        following = content[index + 1].text.strip() if index + 1 < len(content) else ""
        if _is_heading(text, following):
            if NUMBERED_HEADING_RE.match(text) and current[1] != "other":
                # Level 4: level 3 is what the front-matter layout splits sections on.
                current[2].append(f"\n#### {text.split('.', 1)[1].strip()}\n")
                continue
            target = next(
                (name for pattern, name in SUMMARY_TARGETS if pattern.search(text)),
                "other",
            )
            current = (text, target, [], line.number)
            sections.append(current)
            if target == "other":
                parsed.warnings.append(
                    f"{path}:{line.number}: unknown section '{text}' kept under "
                    "'other sections' for an editor to place"
                )
            continue
        bullet = BULLET_RE.match(text)
        if bullet:
            current[2].append(f"- {_unresolved(bullet.group(1), parsed, line.number)}")
        else:
            current[2].append(f"\n{_unresolved(text, parsed, line.number)}\n")
    collected = {}
    for heading, target, body, line in sections:
        text = "\n".join(body).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        if not text and target != "other":
            continue
        if target == "other":
            parsed.other.append((heading, text))
            parsed.other_line = parsed.other_line or line
            continue
        where = f"section '{heading}'" if heading else "the text under the title"
        collected.setdefault(target, (where, line, []))[2].append(text)
    for target, (where, line, texts) in collected.items():
        parsed.fields[target] = "\n\n".join(texts)
        _check_markdown(path, line, where, parsed.fields[target])
    return parsed


def other_sections_markdown(parsed):
    return "\n\n".join(
        f"#### {heading}\n\n{text}".strip() if heading else text
        for heading, text in parsed.other
    )


def find_files(paths):
    """Files named by ``paths``, folders searched recursively, in a stable order."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(
                child
                for child in path.rglob("*")
                if child.is_file()
                and not any(
                    part.startswith(".") for part in child.relative_to(path).parts
                )
            )
        else:
            found.append(path)
    return found
