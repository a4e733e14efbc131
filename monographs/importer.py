"""
Reading monograph files: Markdown pages with YAML front matter (the layout of
shared/seeds/004_*.txt) and plain clinical summaries with headed sections
(shared/seeds/000_*.txt).

``parse_file`` only reads; monographs.services.monograph_import writes.
Every problem is an ``ImportProblem`` naming the file and line.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from monographs.models.citations import UNRESOLVED_KEY_PREFIX

MAX_FILE_BYTES = 512 * 1024

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
    "elemental_mg_percent",
    "formula_basis",
    "composition_note",
    "absorption_notes",
    "tolerability_notes",
    "precaution_notes",
)

BULLET_RE = re.compile(r"^\s*[*+-]\s+(.*)$")
LABELLED_RE = re.compile(r"^\*\*(?P<label>[^*]+?):?\*\*:?\s*(?P<text>.*)$", re.S)
ROW_LISTS = ("doses", "interactions", "evidence")
QUESTION_RE = re.compile(
    r"^\*\*Q:\s*(?P<question>.+?)\*\*\s*A:\s*(?P<answer>.+)$", re.S | re.IGNORECASE
)
DISCLAIMER_RE = re.compile(
    r"^\*\*Disclaimer:\*\*\s*(?P<text>.+)$", re.S | re.IGNORECASE
)
TRAILING_REFERENCE_RE = re.compile(r"(?<=[^\d\s])\s+(\d{1,2})\s*$")
NUMBERED_HEADING_RE = re.compile(r"^\d+\.\s+\S")
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


@dataclass
class Line:
    number: int
    text: str


def read_text(path, *, max_bytes=MAX_FILE_BYTES):
    """The file's text with LF line endings, or an ImportProblem saying why not."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportProblem(
            path, None, f"file is {size:,} bytes; the limit is {max_bytes:,} bytes"
        )
    raw = path.read_bytes()
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
        return _parse_front_matter_page(path, lines)
    return _parse_clinical_summary(path, lines)


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
        data = yaml.safe_load(source) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        raise ImportProblem(path, line, f"malformed front matter: {problem}") from None
    if not isinstance(data, dict):
        raise ImportProblem(path, 2, "front matter must be 'key: value' lines")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ImportProblem(path, 2, "front matter has no 'title'")
    return data, lines[index + 1 :]


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
                "parts": [bullet.group(1)],
            }
            blocks.append(current)
            last_bullet = None
        elif current is not None and (
            current["kind"] == "paragraph" or text.startswith(" ")
        ):
            current["parts"][-1] += " " + text.strip()
        elif last_bullet is not None and text.startswith("  "):
            last_bullet["parts"].append(text.strip())
            current = last_bullet
        else:
            current = {
                "kind": "paragraph",
                "line": line.number,
                "parts": [text.strip()],
            }
            blocks.append(current)
            last_bullet = None
    for block in blocks:
        block["text"] = "\n\n".join(
            " ".join(part.split()) for part in block.pop("parts")
        )
    return blocks


def _markdown(lines):
    text = "\n".join(line.text.rstrip() for line in lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _parse_front_matter_page(path, lines):
    data, body = _front_matter(path, lines)
    parsed = ParsedMonograph(path=path, title=data["title"].strip())
    parsed.facts = {name: data[name] for name in FRONT_MATTER_FACTS if name in data}
    if isinstance(data.get("synonyms"), list):
        parsed.synonyms += [str(name) for name in data["synonyms"]]
    for name in ROW_LISTS:
        rows = data.get(name)
        if rows is None:
            continue
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ImportProblem(
                path, 2, f"front matter '{name}' must be a list of mappings"
            )
        setattr(parsed, name, rows)
    sections = {}
    preamble = []
    current = None
    for line in body:
        stripped = line.text.strip()
        if stripped.startswith("# ") and current is None and not _markdown(preamble):
            continue
        heading = re.match(r"^#{2,3}\s+(.*?)\s*#*$", stripped)
        if heading:
            name = heading.group(1).strip()
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
        (current["lines"] if current else preamble).append(line)

    if _markdown(preamble):
        parsed.fields["summary"] = _markdown(preamble)

    for key, section in sections.items():
        target = FRONT_MATTER_SECTIONS.get(key)
        lines = section["lines"]
        lines, disclaimer = _take_disclaimer(lines)
        if disclaimer:
            parsed.fields["disclaimer"] = disclaimer
        if target is None:
            parsed.other.append((section["name"], _markdown(lines)))
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
    return parsed


def _take_disclaimer(lines):
    """The **Disclaimer:** paragraph and everything after it, which ends the page."""
    for index, line in enumerate(lines):
        match = DISCLAIMER_RE.match(line.text.strip())
        if match:
            rest = [Line(line.number, match.group("text")), *lines[index + 1 :]]
            return lines[:index], _markdown(rest)
    return lines, ""


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
        name = re.sub(r"\s*\(.*\)\s*$", "", block["text"]).strip().rstrip(".")
        note = re.search(r"\((.*)\)\s*$", block["text"])
        effects.append(
            (
                ParsedSideEffect(name=name, serious=serious),
                note.group(1) if note else "",
            )
        )
    parsed.side_effects = effects
    if leftover:
        parsed.other.append((section["name"], "\n\n".join(leftover)))
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
            parsed.warnings.append(
                f"{path}:{block['line']}: a '{section['name']}' item without a "
                "**Label:** kept under 'other sections'"
            )
            continue
        items.append((match.group("label").strip(), match.group("text").strip()))
    if notes:
        parsed.fields["precaution_notes"] = "\n\n".join(notes)
    return items


def _questions(path, section, lines, parsed):
    items = []
    for block in _blocks(lines):
        match = QUESTION_RE.match(block["text"]) if block["kind"] == "bullet" else None
        if match is None:
            parsed.other.append((section["name"], block["text"]))
            parsed.warnings.append(
                f"{path}:{block['line']}: an FAQ without '**Q:** … A: …' kept under "
                "'other sections'"
            )
            continue
        items.append((match.group("question").strip(), match.group("answer").strip()))
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
    sections = []  # (heading, target, [markdown lines])
    current = ("", "summary", [])
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
            current = (text, target, [])
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
    for heading, target, body in sections:
        text = "\n".join(body).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        if not text and target != "other":
            continue
        if target == "other":
            parsed.other.append((heading, text))
            continue
        collected.setdefault(target, []).append(text)
    for target, texts in collected.items():
        parsed.fields[target] = "\n\n".join(texts)
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
