"""
Citation exports: RIS, BibTeX and CSL-JSON, from the same fields as the pages.

Each function takes Citation instances or any object with the same attributes
(key, authors, group_author, title, journal, year, volume, issue, pages, pmid,
pmcid, doi, url, publication_type); it only reads them, never queries.

Whatever a field holds, an export carries exactly one record per citation
and every value stays inside its own field:

- Every value is first put on one line: each line break (CR LF, LF, CR,
  vertical tab, form feed, NEL, Unicode line and paragraph separators) and
  each tab becomes one space, other control characters and unpaired
  surrogates are dropped, and leading and trailing whitespace goes; other
  spaces are kept as they are. All three formats carry the same folded text.
- RIS: one ``TAG  - value`` line per value, lines separated by CR LF.
- BibTeX: every value is written in braces, with TeX's special characters
  escaped (``\\&``, ``\\%``, ``\\$``, ``\\#``, ``\\_``, ``\\~{}``, ``\\^{}``,
  ``\\textbackslash{}``); a brace that has its partner in the value is
  written ``\\{`` / ``\\}``, one that has not ``\\textbraceleft{}`` /
  ``\\textbraceright{}``, so a field's braces always balance. ``url`` and
  ``doi`` are verbatim fields: no TeX escaping, but ``{``, ``}`` and ``\\``
  are percent-encoded (``%7B``, ``%7D``, ``%5C``). Name parts that BibTeX
  would read as a separator (``and``) or as "et al." (``others``), or that
  start with a TeX command, are braced.
  The entry key keeps only lowercase letters, digits, ``-`` and ``_``.
- CSL-JSON: the folded values, JSON-encoded.
"""

import re
import unicodedata

from monographs.models import Citation

CSL_TYPES = {
    Citation.PublicationType.GUIDELINE: "report",
    Citation.PublicationType.WEB_PAGE: "webpage",
}
RIS_TYPES = {
    Citation.PublicationType.GUIDELINE: "RPRT",
    Citation.PublicationType.WEB_PAGE: "ELEC",
}
BIBTEX_TYPES = {
    Citation.PublicationType.GUIDELINE: "techreport",
    Citation.PublicationType.WEB_PAGE: "misc",
}
# Control characters, unpaired surrogates and line or paragraph separators.
FOLDED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}


def one_line(value):
    """The value as one line of text: the folding every export applies."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n")
    return "".join(
        (" " if char.isspace() else "")
        if unicodedata.category(char) in FOLDED_CATEGORIES
        else char
        for char in text
    ).strip()


def _field(citation, name):
    return one_line(getattr(citation, name, ""))


def split_author(name):
    """'Garicano Vilar E' -> ('Garicano Vilar', 'E'): Vancouver puts initials last."""
    family, _, given = name.rpartition(" ")
    family = family.rstrip()
    if not family or not given.isupper():
        return name, ""
    return family, given


def _author_names(citation):
    names = getattr(citation, "author_list", None)
    if names is None:
        names = (getattr(citation, "authors", "") or "").split(",")
    return [one_line(name) for name in names]


def people(citation):
    return [
        split_author(name)
        for name in _author_names(citation)
        if name and name.lower().rstrip(".") != "et al"
    ]


def page_range(pages):
    first, _, last = one_line(pages).partition("-")
    return first.strip(), last.strip()


def _year(citation):
    return _field(citation, "year") if getattr(citation, "year", None) else ""


def to_csl(citation):
    item = {
        "id": _field(citation, "key"),
        "type": CSL_TYPES.get(citation.publication_type, "article-journal"),
    }
    group_author = _field(citation, "group_author")
    if group_author:
        item["author"] = [{"literal": group_author}]
    elif people(citation):
        item["author"] = [
            {"family": family, "given": given} if given else {"literal": family}
            for family, given in people(citation)
        ]
    optional = {
        "title": "title",
        "container-title": "journal",
        "volume": "volume",
        "issue": "issue",
        "page": "pages",
        "PMID": "pmid",
        "PMCID": "pmcid",
        "DOI": "doi",
        "URL": "url",
    }
    for name, attribute in optional.items():
        value = _field(citation, attribute)
        if value:
            item[name] = value
    if citation.year:
        year = citation.year
        item["issued"] = {
            "date-parts": [[year if isinstance(year, int) else one_line(year)]]
        }
    return item


def to_ris(citations):
    lines = []
    for citation in citations:
        lines.append(f"TY  - {RIS_TYPES.get(citation.publication_type, 'JOUR')}")
        lines.append(f"ID  - {_field(citation, 'key')}")
        group_author = _field(citation, "group_author")
        if group_author:
            lines.append(f"AU  - {group_author}")
        else:
            for family, given in people(citation):
                lines.append(f"AU  - {family}, {given}" if given else f"AU  - {family}")
        first, last = page_range(citation.pages)
        pmid = _field(citation, "pmid")
        fields = [
            ("TI", _field(citation, "title")),
            ("JO", _field(citation, "journal")),
            ("PY", _year(citation)),
            ("VL", _field(citation, "volume")),
            ("IS", _field(citation, "issue")),
            ("SP", first),
            ("EP", last),
            ("DO", _field(citation, "doi")),
            ("AN", f"PMID:{pmid}" if pmid else ""),
            ("C2", _field(citation, "pmcid")),
            ("UR", _field(citation, "url")),
        ]
        lines += [f"{tag}  - {value}" for tag, value in fields if value]
        lines.append("ER  - ")
        lines.append("")
    return "\r\n".join(lines)


BIBTEX_SPECIAL = re.compile(r"[\\{}%&$#_^~]")
BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}
BIBTEX_URL_ESCAPES = {"{": "%7B", "}": "%7D", "\\": "%5C"}
BIBTEX_KEY_UNSAFE = re.compile(r"[^a-z0-9_-]+")
# BibTeX splits names at a bare "and" and reads a bare "others" as "et al.".
BIBTEX_NAME_WORDS = re.compile(r"(^|\s)(and|others)(\s|$)", re.IGNORECASE)


def _paired_braces(text):
    """Positions of the braces in ``text`` that have a partner."""
    paired, opened = set(), []
    for position, char in enumerate(text):
        if char == "{":
            opened.append(position)
        elif char == "}" and opened:
            paired.update((opened.pop(), position))
    return paired


def bibtex_escape(value):
    """The folded value as TeX text, its braces balanced."""
    text = one_line(value)
    paired = _paired_braces(text)

    def replace(match):
        char = match.group()
        if char == "{":
            return r"\{" if match.start() in paired else r"\textbraceleft{}"
        if char == "}":
            return r"\}" if match.start() in paired else r"\textbraceright{}"
        return BIBTEX_ESCAPES[char]

    return BIBTEX_SPECIAL.sub(replace, text)


def bibtex_verbatim(value):
    """A URL or DOI as written, except the three characters that would end it."""
    return "".join(BIBTEX_URL_ESCAPES.get(char, char) for char in one_line(value))


def bibtex_key(value):
    return BIBTEX_KEY_UNSAFE.sub("-", one_line(value).lower()).strip("-") or "citation"


def _bibtex_name_part(part):
    escaped = bibtex_escape(part)
    # A part starting with a TeX command is braced too: bibtexparser 2.1
    # drops the first two characters of a name that starts with a backslash.
    if BIBTEX_NAME_WORDS.search(part) or escaped.startswith("\\"):
        return "{" + escaped + "}"
    return escaped


def to_bibtex(citations):
    entries = []
    for citation in citations:
        group_author = _field(citation, "group_author")
        if group_author:
            author = "{" + bibtex_escape(group_author) + "}"
        else:
            author = " and ".join(
                f"{_bibtex_name_part(family)}, {_bibtex_name_part(given)}"
                if given
                else "{" + bibtex_escape(family) + "}"
                for family, given in people(citation)
            )
        first, last = page_range(citation.pages)
        first, last = bibtex_escape(first), bibtex_escape(last)
        fields = [
            ("author", author),
            ("title", bibtex_escape(citation.title)),
            ("journal", bibtex_escape(citation.journal)),
            ("year", bibtex_escape(_year(citation))),
            ("volume", bibtex_escape(citation.volume)),
            ("number", bibtex_escape(citation.issue)),
            ("pages", f"{first}--{last}" if last else first),
            ("doi", bibtex_verbatim(citation.doi)),
            ("pmid", bibtex_escape(citation.pmid)),
            ("pmcid", bibtex_escape(citation.pmcid)),
            ("url", bibtex_verbatim(citation.url)),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        kind = BIBTEX_TYPES.get(citation.publication_type, "article")
        entries.append(f"@{kind}{{{bibtex_key(citation.key)},\n{body}\n}}\n")
    return "\n".join(entries)
