"""
Reading reference-manager exports into citation fields, without the network.

Four formats, pasted or uploaded: RIS (Zotero, EndNote, Mendeley), BibTeX
and biblatex, CSL-JSON, and PubMed's MEDLINE/nbib. Each parser returns
``ParsedRecord``s: the record's number and first line in the input, and the
values of the Citation fields it gives (authors as Vancouver text, "et al."
last when the source says not every author is listed). A problem is a
``ReferenceFormatError`` naming the record and line.

``import_plan`` then matches every record with an existing citation by PMID,
then DOI, and says what importing would create or change; the service
``monographs.services.citations.citations_import`` carries the plan out.
"""

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field

import bibtexparser
from bibtexparser.middlewares import (
    RemoveEnclosingMiddleware,
    SeparateCoAuthors,
    SplitNameParts,
)
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.text import capfirst
from pylatexenc.latex2text import LatexNodes2Text

from monographs.citation_styles import citation_label
from monographs.models import Citation
from monographs.models.citations import DOI_PREFIX_RE, validate_key

MAX_CHARACTERS = 1_000_000
MAX_RECORDS = 2_000
FORMAT_CHOICES = [
    ("auto", "Recognise it"),
    ("ris", "RIS (Zotero, EndNote, Mendeley)"),
    ("bibtex", "BibTeX or biblatex"),
    ("csl-json", "CSL-JSON"),
    ("medline", "PubMed MEDLINE / .nbib"),
]
# Fields an import may fill; never the editors' note.
IMPORTED_FIELDS = (
    "authors",
    "group_author",
    "title",
    "journal",
    "publisher",
    "year",
    "volume",
    "issue",
    "pages",
    "pmid",
    "pmcid",
    "doi",
    "url",
    "publication_type",
)
ET_AL = "et al."
Type = Citation.PublicationType


class ReferenceFormatError(ValueError):
    """Input that cannot be read, named by record and line."""

    def __init__(self, message, *, record=None, line=None):
        self.record, self.line = record, line
        where = []
        if record is not None:
            where.append(f"record {record}")
        if line is not None:
            where.append(f"line {line}")
        prefix = f"{', '.join(where).capitalize()}: " if where else ""
        super().__init__(f"{prefix}{message}")


@dataclass
class ParsedRecord:
    number: int
    line: int
    key: str = ""
    values: dict = field(default_factory=dict)

    def where(self):
        return f"Record {self.number} (line {self.line})"


def _clean(value):
    """One line of text, spaces collapsed."""
    if value is None:
        return ""
    text = "".join(
        " " if unicodedata.category(char)[0] in "CZ" else char for char in str(value)
    )
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------- names


def initials(given):
    """'John Edward' / 'J. E.' / 'JE' / 'Jean-Pierre' -> Vancouver 'JE' / 'JP'."""
    given = _clean(given)
    if given.replace(" ", "").isupper() and given.replace(" ", "").isalpha():
        return given.replace(" ", "")  # already Vancouver initials
    letters = [part[0] for part in re.split(r"[\s.\-]+", given) if part]
    return "".join(letter.upper() for letter in letters if letter.isalpha())


def vancouver_name(family, given=""):
    family = _clean(family)
    letters = initials(given)
    return f"{family} {letters}" if letters else family


def is_et_al(name):
    return _clean(name).lower().rstrip(".").strip() in {"et al", "others"}


def authors_text(names):
    """Vancouver author text from names already in Vancouver form; a
    trailing et-al marker becomes 'et al.'."""
    listed = [name for name in names if name and not is_et_al(name)]
    truncated = any(is_et_al(name) for name in names)
    if truncated and listed:
        listed.append(ET_AL)
    return ", ".join(listed)


def _person(text):
    """'Manson, JoAnn E.' or 'Manson JE' -> 'Manson JE'."""
    text = _clean(text)
    if is_et_al(text):
        return ET_AL
    if "," in text:
        family, _, given = text.partition(",")
        given = given.split(",")[0]  # drop a suffix
        return vancouver_name(family, given)
    return text


def _authors_and_group(names):
    """(authors, group_author) from names as a source lists them: one name
    without given names or initials is taken for an organisation."""
    people = [_person(name) for name in names if _clean(name)]
    if (
        len(people) == 1
        and " " in people[0]
        and not re.search(r" [A-Z]{1,3}$", people[0])
    ):
        return "", people[0]
    return authors_text(people), ""


# ---------------------------------------------------------------- shared


def _year(value, record):
    match = re.search(r"\b(1[89]\d\d|2[01]\d\d)\b", _clean(value))
    if value and not match:
        raise ReferenceFormatError(
            f"cannot read a year in {_clean(value)!r}.",
            record=record.number,
            line=record.line,
        )
    return int(match.group(1)) if match else None


def _doi(value):
    return DOI_PREFIX_RE.sub("", _clean(value))


def _pages(first, last=""):
    first, last = _clean(first), _clean(last)
    return f"{first}-{last}" if first and last and last != first else first


def _set(values, name, value):
    value = _clean(value) if isinstance(value, str) else value
    if value not in ("", None) and not values.get(name):
        values[name] = value


# ---------------------------------------------------------------- RIS

RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  ?-(?: (.*))?$")
RIS_TYPES = {
    "RPRT": Type.GUIDELINE,
    "GOVDOC": Type.GUIDELINE,
    "STAND": Type.GUIDELINE,
    "ELEC": Type.WEB_PAGE,
    "WEB": Type.WEB_PAGE,
    "BLOG": Type.WEB_PAGE,
}
EXTRA_ID = re.compile(r"^\s*(PMID|PMCID)\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


def _ris_identifiers(values, text):
    for name, value in EXTRA_ID.findall(text or ""):
        _set(values, name.lower(), value)


def parse_ris(text):
    records, current = [], None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\ufeff").rstrip()
        if not line.strip():
            continue
        match = RIS_LINE.match(line)
        if not match:
            if current is None:
                raise ReferenceFormatError(
                    f"expected a tag line such as 'TY  - JOUR', found {line[:60]!r}.",
                    line=number,
                )
            tag, value = current["last"], line.strip()
            current["tags"][tag][-1] += " " + value
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            if current is not None:
                raise ReferenceFormatError(
                    "a new record starts before 'ER  - ' ended this one.",
                    record=len(records) + 1,
                    line=number,
                )
            current = {"line": number, "tags": {"TY": [value]}, "last": "TY"}
            continue
        if current is None:
            raise ReferenceFormatError(
                f"'{tag}' comes before any 'TY  - ' starts a record.", line=number
            )
        if tag == "ER":
            records.append(current)
            current = None
            continue
        current["tags"].setdefault(tag, []).append(value)
        current["last"] = tag
    if current is not None:
        raise ReferenceFormatError(
            "the record has no 'ER  - ' line at its end.",
            record=len(records) + 1,
            line=current["line"],
        )
    parsed = []
    for index, found in enumerate(records, start=1):
        tags = found["tags"]
        record = ParsedRecord(
            index, found["line"], key=_clean((tags.get("ID") or [""])[0])
        )

        def first(*names, tags=tags):
            for name in names:
                for value in tags.get(name, []):
                    if _clean(value):
                        return value
            return ""

        values = record.values
        kind = RIS_TYPES.get(_clean(tags["TY"][0]).upper(), Type.JOURNAL_ARTICLE)
        values["publication_type"] = kind
        names = [name for tag in ("AU", "A1") for name in tags.get(tag, [])]
        values["authors"], values["group_author"] = _authors_and_group(names)
        _set(values, "title", first("TI", "T1", "CT"))
        container = first("JO", "JF", "JA", "J2", "T2")
        publisher = first("PB")
        if kind == Type.JOURNAL_ARTICLE:
            _set(values, "journal", container)
            _set(values, "publisher", publisher if not container else "")
        else:
            _set(values, "publisher", publisher or container)
        values["year"] = _year(first("PY", "Y1", "DA"), record)
        _set(values, "volume", first("VL"))
        _set(values, "issue", first("IS", "CP"))
        _set(values, "pages", _pages(first("SP"), first("EP")))
        _set(values, "doi", _doi(first("DO")))
        for note in tags.get("N1", []) + tags.get("M2", []):
            _ris_identifiers(values, note)
        pmcid = first("C2")
        if re.fullmatch(r"PMC\d+", _clean(pmcid)):
            _set(values, "pmcid", pmcid)
        accession = _clean(first("AN")).removeprefix("PMID:").strip()
        if accession.isdigit():
            _set(values, "pmid", accession)
        url = first("UR", "L2")
        _set(values, "url", url.split()[0] if _clean(url) else "")
        parsed.append(record)
    return parsed


# ---------------------------------------------------------------- MEDLINE

MEDLINE_LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3})\s*- (.*)$")


def parse_medline(text):
    records, current, last = [], None, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\ufeff").rstrip()
        if not line.strip():
            current = None
            continue
        match = MEDLINE_LINE.match(line)
        if match and match.group(1) == "PMID":
            current = {"line": number, "tags": {}}
            records.append(current)
        if current is None:
            if match:
                raise ReferenceFormatError(
                    f"'{match.group(1)}' comes before a 'PMID- ' line starts a record.",
                    line=number,
                )
            raise ReferenceFormatError(
                f"expected a MEDLINE line such as 'PMID- 7815675', found {line[:60]!r}.",
                line=number,
            )
        if match:
            last = match.group(1)
            current["tags"].setdefault(last, []).append(match.group(2).strip())
        elif raw.startswith("      ") and last:
            current["tags"][last][-1] += " " + line.strip()
        else:
            raise ReferenceFormatError(
                f"cannot read {line[:60]!r} as a MEDLINE tag or its continuation.",
                record=len(records),
                line=number,
            )
    parsed = []
    for index, found in enumerate(records, start=1):
        tags = found["tags"]
        record = ParsedRecord(index, found["line"])
        values = record.values

        def first(name, tags=tags):
            return (tags.get(name) or [""])[0]

        values["publication_type"] = Type.JOURNAL_ARTICLE
        kinds = " ".join(tags.get("PT", [])).lower()
        if "randomized controlled trial" in kinds:
            values["publication_type"] = Type.RANDOMIZED_TRIAL
        elif "systematic review" in kinds:
            values["publication_type"] = Type.SYSTEMATIC_REVIEW
        elif "review" in kinds:
            values["publication_type"] = Type.NARRATIVE_REVIEW
        elif "guideline" in kinds:
            values["publication_type"] = Type.GUIDELINE
        names = [_clean(name) for name in tags.get("AU", [])]
        if names and _clean(first("AUTHL") or "").lower().startswith("et al"):
            names.append(ET_AL)
        values["authors"] = authors_text(names)
        _set(values, "group_author", first("CN"))
        _set(values, "title", first("TI").rstrip("."))
        _set(values, "journal", first("TA") or first("JT"))
        values["year"] = _year(first("DP"), record)
        _set(values, "volume", first("VI"))
        _set(values, "issue", first("IP"))
        pages = _clean(first("PG"))
        if "-" in pages:
            start, _, end = pages.partition("-")
            # MEDLINE shortens the end page: 430-5 means 430-435.
            if end.isdigit() and start.isdigit() and len(end) < len(start):
                end = start[: len(start) - len(end)] + end
            pages = f"{start}-{end}"
        _set(values, "pages", pages)
        _set(values, "pmid", first("PMID"))
        _set(values, "pmcid", first("PMC"))
        for article_id in tags.get("AID", []) + tags.get("LID", []):
            if article_id.endswith("[doi]"):
                _set(values, "doi", _doi(article_id.removesuffix("[doi]")))
        parsed.append(record)
    return parsed


# ---------------------------------------------------------------- CSL-JSON

CSL_TYPES = {
    "report": Type.GUIDELINE,
    "webpage": Type.WEB_PAGE,
    "post-weblog": Type.WEB_PAGE,
    "review": Type.NARRATIVE_REVIEW,
}


def _csl_name(name):
    if not isinstance(name, dict):
        return _clean(name)
    if name.get("literal"):
        return _clean(name["literal"])
    family = " ".join(
        _clean(name.get(part))
        for part in ("non-dropping-particle", "family")
        if name.get(part)
    )
    return vancouver_name(family, name.get("given", ""))


def parse_csl_json(text):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReferenceFormatError(
            f"this is not valid JSON: {error.msg}.", line=error.lineno
        ) from None
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        raise ReferenceFormatError(
            "CSL-JSON is a list of items, each an object.", line=1
        )
    # Where each item starts, to name it by line.
    starts = [match.start() for match in re.finditer(r"\{", text)]
    parsed = []
    for index, item in enumerate(data, start=1):
        line = text.count("\n", 0, starts[0]) + 1 if starts else 1
        record = ParsedRecord(index, line)
        if not isinstance(item, dict):
            raise ReferenceFormatError(
                "an item must be an object.", record=index, line=line
            )
        record.key = (
            _clean(item.get("id", "")) if isinstance(item.get("id"), str) else ""
        )
        values = record.values
        kind = CSL_TYPES.get(item.get("type"), Type.JOURNAL_ARTICLE)
        values["publication_type"] = kind
        authors = item.get("author") or []
        if not isinstance(authors, list):
            raise ReferenceFormatError(
                "'author' must be a list of names.", record=index, line=line
            )
        names = [_csl_name(name) for name in authors]
        if (
            len(authors) == 1
            and isinstance(authors[0], dict)
            and authors[0].get("literal")
        ):
            values["authors"], values["group_author"] = "", names[0]
        else:
            values["authors"], values["group_author"] = authors_text(names), ""
        _set(values, "title", item.get("title"))
        container = item.get("container-title-short") or item.get("container-title")
        if kind == Type.JOURNAL_ARTICLE:
            _set(values, "journal", container)
            _set(values, "publisher", item.get("publisher") if not container else "")
        else:
            _set(values, "publisher", item.get("publisher") or container)
        issued = item.get("issued") or {}
        parts = issued.get("date-parts") if isinstance(issued, dict) else None
        year = (
            parts[0][0]
            if parts and parts[0]
            else (issued.get("raw") if isinstance(issued, dict) else None)
        )
        values["year"] = _year(str(year) if year is not None else "", record)
        for name, variable in [
            ("volume", "volume"),
            ("issue", "issue"),
            ("pages", "page"),
            ("pmid", "PMID"),
            ("pmcid", "PMCID"),
            ("url", "URL"),
        ]:
            value = item.get(variable)
            _set(values, name, str(value) if value is not None else "")
        _set(values, "doi", _doi(item.get("DOI", "")))
        _ris_identifiers(values, item.get("note", ""))
        parsed.append(record)
        # Move to the next top-level item's opening brace.
        if starts:
            depth, position = 0, starts[0]
            for position in range(starts[0], len(text)):
                char = text[position]
                depth += {"{": 1, "}": -1}.get(char, 0)
                if depth == 0:
                    break
            starts = [start for start in starts if start > position]
    return parsed


# ---------------------------------------------------------------- BibTeX

BIBTEX_TYPES = {
    "report": Type.GUIDELINE,
    "techreport": Type.GUIDELINE,
    "manual": Type.GUIDELINE,
    "online": Type.WEB_PAGE,
    "electronic": Type.WEB_PAGE,
    "www": Type.WEB_PAGE,
    "webpage": Type.WEB_PAGE,
}
# TeX escapes the exporter writes, kept apart from pylatexenc's reading.
TEX_KEEP = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\{": "{",
    r"\}": "}",
    r"\%": "%",
    r"\&": "&",
    r"\$": "$",
    r"\#": "#",
    r"\_": "_",
    r"\^{}": "^",
    r"\~{}": "~",
}
TEX_KEEP_RE = re.compile(
    "|".join(re.escape(key) for key in sorted(TEX_KEEP, key=len, reverse=True))
)
PRIVATE_BASE = 0xF0000
URL_UNESCAPES = {"%7B": "{", "%7D": "}", "%5C": "\\"}
_latex = LatexNodes2Text(math_mode="verbatim", keep_comments=True)


def tex_to_text(value):
    """BibTeX text as Unicode: accents and escapes decoded, grouping braces gone."""
    specials = list(TEX_KEEP.values())
    marked = TEX_KEEP_RE.sub(
        lambda match: chr(PRIVATE_BASE + specials.index(TEX_KEEP[match.group()])),
        value,
    )
    text = _latex.latex_to_text(marked)
    return "".join(
        specials[ord(char) - PRIVATE_BASE]
        if PRIVATE_BASE <= ord(char) < PRIVATE_BASE + len(specials)
        else char
        for char in text
    )


def _unbrace(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}":
        return value[1:-1]
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def parse_bibtex(text):
    # Raw values: enclosing braces and TeX are read below, field by field.
    library = bibtexparser.parse_string(text, parse_stack=[])
    problems = list(library.failed_blocks)
    if problems:
        block = problems[0]
        error = getattr(block, "error", None)
        reason = getattr(error, "abort_reason", None) or str(error or "")
        reason = reason.strip().rstrip(".") or "it is not a well-formed entry"
        before = sum(
            1 for entry in library.entries if entry.start_line < block.start_line
        )
        raise ReferenceFormatError(
            f"this entry cannot be read: {reason}.",
            record=before + 1,
            line=(block.start_line or 0) + 1,
        )
    parsed = []
    for index, entry in enumerate(library.entries, start=1):
        record = ParsedRecord(index, (entry.start_line or 0) + 1, key=entry.key)
        raw = {item.key.lower(): _unbrace(str(item.value)) for item in entry.fields}
        values = record.values
        kind = BIBTEX_TYPES.get(entry.entry_type.lower(), Type.JOURNAL_ARTICLE)
        values["publication_type"] = kind
        authors = raw.get("author", "")
        if authors:
            people = _bibtex_people(authors)
            if len(people) == 1 and people[0][1] == "" and people[0][2]:
                values["authors"], values["group_author"] = "", people[0][0]
            else:
                values["authors"] = authors_text(
                    [
                        ET_AL
                        if family == "others" and not braced
                        else vancouver_name(family, given)
                        for family, given, braced in people
                    ]
                )
                values["group_author"] = ""
        for name, keys in [
            ("title", ["title"]),
            ("volume", ["volume"]),
            ("issue", ["number", "issue"]),
            ("pmid", ["pmid"]),
            ("pmcid", ["pmcid"]),
        ]:
            for key in keys:
                if raw.get(key):
                    _set(values, name, tex_to_text(raw[key]))
        container = tex_to_text(raw.get("journal") or raw.get("journaltitle") or "")
        publisher = tex_to_text(
            raw.get("institution")
            or raw.get("organization")
            or raw.get("publisher")
            or ""
        )
        if kind == Type.JOURNAL_ARTICLE:
            _set(values, "journal", container)
            _set(values, "publisher", publisher if not container else "")
        else:
            _set(values, "publisher", publisher or container)
        values["year"] = _year(raw.get("year") or raw.get("date") or "", record)
        _set(
            values,
            "pages",
            tex_to_text(raw.get("pages", "")).replace("--", "-").replace("–", "-"),
        )
        doi = raw.get("doi", "")
        for escaped, char in URL_UNESCAPES.items():
            doi = doi.replace(escaped, char)
        _set(values, "doi", _doi(doi))
        _set(values, "url", raw.get("url", ""))
        if raw.get("eprinttype", "").lower() == "pubmed":
            _set(values, "pmid", raw.get("eprint", ""))
        parsed.append(record)
    return parsed


def _bibtex_people(authors):
    """[(family, given, braced)] of a BibTeX author list, split by bibtexparser."""
    library = bibtexparser.parse_string(
        "@misc{x, author = {" + authors + "}}",
        parse_stack=[
            RemoveEnclosingMiddleware(),
            SeparateCoAuthors(),
            SplitNameParts(),
        ],
    )
    if library.failed_blocks or not library.entries:
        return [(tex_to_text(authors), "", True)]
    names = library.entries[0]["author"]
    people = []
    for name in names:
        family = tex_to_text(" ".join(name.von + name.last))
        given = tex_to_text(" ".join(name.first))
        braced = not name.first and (" ".join(name.last)).startswith("{")
        people.append((family, given, braced or (not name.first and " " in family)))
    return people


# ---------------------------------------------------------------- entry point

PARSERS = {
    "ris": parse_ris,
    "bibtex": parse_bibtex,
    "csl-json": parse_csl_json,
    "medline": parse_medline,
}


def detect_format(text):
    start = text.lstrip("\ufeff \t\r\n")[:2000]
    if start[:1] in "[{":
        return "csl-json"
    if start.startswith("@") or re.search(r"^\s*@\w+\s*[{(]", start, re.MULTILINE):
        return "bibtex"
    if re.search(r"^TY  ?- ", start, re.MULTILINE):
        return "ris"
    if re.search(r"^PMID- ", start, re.MULTILINE):
        return "medline"
    raise ReferenceFormatError(
        "cannot tell the format: RIS starts with 'TY  - ', BibTeX with '@', "
        "CSL-JSON with '[' and MEDLINE with 'PMID- '. Choose the format."
    )


def references_parse(text, format="auto"):
    """[ParsedRecord] of ``text`` in ``format`` ('auto' recognises it)."""
    if len(text) > MAX_CHARACTERS:
        raise ReferenceFormatError(
            f"the input has {len(text):,} characters; import at most {MAX_CHARACTERS:,} at a time."
        )
    if not text.strip():
        raise ReferenceFormatError("there is nothing to import.")
    chosen = detect_format(text) if format == "auto" else format
    records = PARSERS[chosen](text)
    if not records:
        raise ReferenceFormatError("no records were found.")
    if len(records) > MAX_RECORDS:
        raise ReferenceFormatError(
            f"{len(records):,} records; import at most {MAX_RECORDS:,} at a time."
        )
    return chosen, records


# ---------------------------------------------------------------- the plan


@dataclass
class PlannedChange:
    record: ParsedRecord
    citation: Citation  # unsaved changes applied
    action: str  # "create", "update" or "unchanged"
    changes: list  # [(field label, old, new)]
    errors: list = field(default_factory=list)

    @property
    def label(self):
        return citation_label(self.citation)


def _new_key(record, taken):
    key = record.key.lower()
    try:
        validate_key(key)
        if key and key not in taken and len(key) <= 60:
            return key
    except ValidationError:
        pass
    values = record.values
    first = (
        values.get("authors")
        or values.get("group_author")
        or values.get("title")
        or "ref"
    )
    word = unicodedata.normalize(
        "NFKD", first.split(",")[0].split()[0] if first.split() else "ref"
    )
    word = (
        re.sub(r"[^a-z0-9]", "", word.encode("ascii", "ignore").decode().lower())
        or "ref"
    )
    base = f"{word[:40]}{values.get('year') or ''}"
    candidate, suffix = base, 0
    while candidate in taken:
        suffix += 1
        candidate = f"{base}{chr(ord('a') + suffix - 1) if suffix <= 26 else suffix}"
    return candidate


def _match(values, by_pmid, by_doi):
    if values.get("pmid") and values["pmid"] in by_pmid:
        return by_pmid[values["pmid"]]
    if values.get("doi") and values["doi"].lower() in by_doi:
        return by_doi[values["doi"].lower()]
    return None


def import_plan(records):
    """[PlannedChange] for the records: one query for the matches, one for keys."""
    pmids = {record.values["pmid"] for record in records if record.values.get("pmid")}
    dois = {
        record.values["doi"].lower() for record in records if record.values.get("doi")
    }
    existing = Citation.objects.annotate(doi_lower=Lower("doi")).filter(
        pmid__in=pmids
    ) | Citation.objects.annotate(doi_lower=Lower("doi")).filter(doi_lower__in=dois)
    by_pmid, by_doi = {}, {}
    for citation in existing:
        if citation.pmid:
            by_pmid[citation.pmid] = citation
        if citation.doi:
            by_doi[citation.doi.lower()] = citation
    taken = set(Citation.objects.values_list("key", flat=True))
    plan, seen = [], {}
    for record in records:
        values = record.values
        identity = values.get("pmid") or (values.get("doi") or "").lower()
        matched = _match(values, by_pmid, by_doi)
        if matched is not None:
            citation = Citation.objects.get(pk=matched.pk)
            changes = []
            for name in IMPORTED_FIELDS:
                new = values.get(name)
                old = getattr(citation, name)
                # An import adds and corrects; it never empties a field.
                if new in ("", None) or new == old:
                    continue
                if name == "publication_type" and new == Type.JOURNAL_ARTICLE:
                    continue  # the formats' default says nothing
                if (
                    name == "group_author"
                    and citation.authors
                    and not values.get("authors")
                ):
                    continue
                if name == "authors" and _fewer_authors(new, old):
                    continue  # a shorter list of the same authors says less
                changes.append(
                    (_label(name), _shown(citation, name), _shown_value(name, new))
                )
                setattr(citation, name, new)
            action = "update" if changes else "unchanged"
        else:
            citation = Citation(key=_new_key(record, taken))
            taken.add(citation.key)
            for name in IMPORTED_FIELDS:
                if values.get(name) not in ("", None):
                    setattr(citation, name, values[name])
            changes = [
                (_label(name), "", _shown(citation, name))
                for name in ("key", *IMPORTED_FIELDS)
                if getattr(citation, name) not in ("", None)
            ]
            action = "create"
        planned = PlannedChange(record, citation, action, changes)
        if identity and identity in seen:
            planned.errors.append(
                f"it is the same reference as record {seen[identity]} (same PMID or DOI)."
            )
        elif identity:
            seen[identity] = record.number
        if action != "unchanged":
            try:
                citation.full_clean(validate_unique=action == "create")
            except ValidationError as error:
                planned.errors += _messages(error)
        plan.append(planned)
    return plan


def _listed(authors):
    return [name.strip() for name in authors.split(",") if not is_et_al(name)]


def _fewer_authors(new, old):
    """True when ``new`` lists only the first of ``old``'s authors."""
    new_names, old_names = _listed(new), _listed(old)
    return len(new_names) < len(old_names) and old_names[: len(new_names)] == new_names


def _label(name):
    return capfirst(Citation._meta.get_field(name).verbose_name)


def _shown(citation, name):
    if name == "publication_type":
        return citation.get_publication_type_display()
    value = getattr(citation, name)
    return "" if value is None else str(value)


def _shown_value(name, value):
    if name == "publication_type":
        return Citation.PublicationType(value).label
    return str(value)


def _messages(error):
    if hasattr(error, "message_dict"):
        return [
            f"{_label(name) if name != '__all__' else 'Record'}: {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def plan_digest(plan):
    """A fingerprint of what an import would write: a preview is confirmed
    only while it still describes what will happen."""
    summary = [
        (item.action, item.citation.pk, item.citation.key, item.changes)
        for item in plan
    ]
    return hashlib.sha256(json.dumps(summary, default=str).encode()).hexdigest()
