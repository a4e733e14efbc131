"""
Citation exports: RIS, BibTeX (biblatex) and CSL-JSON, from the same fields
as the pages, written so that Zotero, citeproc and biblatex read them exactly.

Each function takes Citation instances or any object with the same attributes
(key, authors, group_author, title, journal, publisher, year, volume, issue,
pages, pmid, pmcid, doi, url, publication_type); it only reads them, never
queries. A stored document older than a field reads as the field's default.

What each field becomes:

- Authors: Vancouver names ('Manson JE') are split into family and given
  names, initials apart: ``Manson, J. E.`` (RIS, BibTeX) and
  ``{"family": "Manson", "given": "J. E."}`` (CSL). A name that does not end
  in initials is one literal name. Authors ending in "et al." (not all
  listed) end in ``et al.`` (RIS, CSL literal) or ``and others`` (BibTeX).
  A group author is one literal name.
- Reports and guidelines are RIS ``RPRT``, biblatex ``@report`` and CSL
  ``report``; web pages RIS ``ELEC``, biblatex ``@online`` and CSL
  ``webpage``. Their publisher or institution (``publisher``, or for older
  records the journal field) is RIS ``PB``, BibTeX ``institution`` /
  ``organization`` and CSL ``publisher``, never a journal.
- PMID and PMCID: CSL ``PMID`` / ``PMCID``, BibTeX ``pmid`` / ``pmcid``,
  and in RIS ``M2`` lines ``PMID: n`` / ``PMCID: PMCn`` (Zotero's RIS import
  appends M2 to Extra, where it keeps them in that form) plus ``C2`` for
  EndNote's PMCID.
- DOIs and URLs are verbatim in every format.

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
# biblatex's types: @report carries an institution, @online is a web page.
BIBTEX_TYPES = {
    Citation.PublicationType.GUIDELINE: "report",
    Citation.PublicationType.WEB_PAGE: "online",
}
BIBTEX_PUBLISHER_FIELDS = {"report": "institution", "online": "organization"}
# Sources with a publisher or institution rather than a journal.
PUBLISHED_TYPES = frozenset(CSL_TYPES)
# How each format says "and further authors not listed".
ET_AL = "et al."
# Control characters, unpaired surrogates and line or paragraph separators.
FOLDED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
# Vancouver initials: capital letters, hyphenated for hyphenated given names.
INITIALS_RE = re.compile(r"[^\W\d_](?:-?[^\W\d_])*")


def one_line(value):
    """The value as one line of text: the folding every export applies."""
    if value is None:
        return ""
    text = str(value)
    if text.isprintable():
        # Nothing to fold: a printable text has no character of those
        # categories (and this is nearly every value, on every page).
        return text.strip()
    text = text.replace("\r\n", "\n")
    return "".join(
        (" " if char.isspace() else "")
        if unicodedata.category(char) in FOLDED_CATEGORIES
        else char
        for char in text
    ).strip()


def _field(citation, name):
    return one_line(getattr(citation, name, ""))


def is_et_al(name):
    return one_line(name).lower().rstrip(".").strip() == "et al"


def dotted_initials(initials):
    """'JE' -> 'J. E.', 'J-P' -> 'J.-P.': given names as citeproc and Zotero read them."""
    parts = []
    for char in initials:
        if char == "-":
            parts.append("-")
        else:
            if parts and parts[-1] != "-":
                parts.append(" ")
            parts.append(f"{char}.")
    return "".join(parts)


def split_author(name):
    """A Vancouver name as (family, given): 'Manson JE' -> ('Manson', 'J. E.').

    Vancouver writes the family name first and the initials last, without
    dots; 'Garicano Vilar E' keeps its two-word family name. A name whose
    last word is not initials (an organisation, a mononym) is
    (name, ''), which every format writes as one literal name.
    """
    family, _, given = name.rpartition(" ")
    family = family.rstrip()
    if not family or not given.isupper() or not INITIALS_RE.fullmatch(given):
        return name, ""
    return family, dotted_initials(given)


def _author_names(citation):
    names = getattr(citation, "author_list", None)
    if names is None:
        names = (getattr(citation, "authors", "") or "").split(",")
    return [one_line(name) for name in names]


def people(citation):
    """(family, given) of each listed author, in order; 'et al.' is not one."""
    return [
        split_author(name)
        for name in _author_names(citation)
        if name and not is_et_al(name)
    ]


def authors_truncated(citation):
    """True when the authors end with 'et al.': not every author is listed."""
    if _field(citation, "group_author"):
        return False
    names = [name for name in _author_names(citation) if name]
    return bool(names) and is_et_al(names[-1]) and len(names) > 1


def publisher(citation):
    """A report's or web page's publisher or institution.

    Records entered before the publisher field existed kept it in the
    journal field, and stored documents may lack the field: both read the
    journal field for these types.
    """
    if citation.publication_type not in PUBLISHED_TYPES:
        return ""
    return _field(citation, "publisher") or _field(citation, "journal")


def container(citation):
    """The journal an article appeared in; reports and web pages have none."""
    if citation.publication_type in PUBLISHED_TYPES:
        return ""
    return _field(citation, "journal")


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
        if authors_truncated(citation):
            item["author"].append({"literal": ET_AL})
    values = {
        "title": _field(citation, "title"),
        "container-title": container(citation),
        "publisher": publisher(citation),
        "volume": _field(citation, "volume"),
        "issue": _field(citation, "issue"),
        "page": _field(citation, "pages"),
        "PMID": _field(citation, "pmid"),
        "PMCID": _field(citation, "pmcid"),
        "DOI": _field(citation, "doi"),
        "URL": _field(citation, "url"),
    }
    item.update({name: value for name, value in values.items() if value})
    if citation.year:
        year = citation.year
        item["issued"] = {
            "date-parts": [[year if isinstance(year, int) else one_line(year)]]
        }
    return item


def _ris_authors(citation):
    group_author = _field(citation, "group_author")
    if group_author:
        return [group_author]
    names = [
        f"{family}, {given}" if given else family for family, given in people(citation)
    ]
    if names and authors_truncated(citation):
        names.append(ET_AL)
    return names


def to_ris(citations):
    """RIS as Zotero, EndNote and rispy read it.

    Zotero keeps PMID and PMCID in its Extra field as 'PMID: n' lines, and its
    RIS import appends every M2 line to Extra (N1 becomes a child note, AN
    the archive location): they are written as M2 lines in that form. C2
    holds the PMCID for EndNote.
    """
    lines = []
    for citation in citations:
        lines.append(f"TY  - {RIS_TYPES.get(citation.publication_type, 'JOUR')}")
        lines.append(f"ID  - {_field(citation, 'key')}")
        lines += [f"AU  - {name}" for name in _ris_authors(citation)]
        first, last = page_range(citation.pages)
        pmid, pmcid = _field(citation, "pmid"), _field(citation, "pmcid")
        fields = [
            ("TI", _field(citation, "title")),
            ("JO", container(citation)),
            ("PB", publisher(citation)),
            ("PY", _year(citation)),
            ("VL", _field(citation, "volume")),
            ("IS", _field(citation, "issue")),
            ("SP", first),
            ("EP", last),
            ("DO", _field(citation, "doi")),
            ("C2", pmcid),
            ("M2", f"PMID: {pmid}" if pmid else ""),
            ("M2", f"PMCID: {pmcid}" if pmcid else ""),
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


def _bibtex_authors(citation):
    group_author = _field(citation, "group_author")
    if group_author:
        return "{" + bibtex_escape(group_author) + "}"
    names = [
        f"{_bibtex_name_part(family)}, {_bibtex_name_part(given)}"
        if given
        else "{" + bibtex_escape(family) + "}"
        for family, given in people(citation)
    ]
    if names and authors_truncated(citation):
        names.append("others")  # biblatex and BibTeX print "et al."
    return " and ".join(names)


def to_bibtex(citations):
    entries = []
    for citation in citations:
        kind = BIBTEX_TYPES.get(citation.publication_type, "article")
        first, last = page_range(citation.pages)
        first, last = bibtex_escape(first), bibtex_escape(last)
        fields = [
            ("author", _bibtex_authors(citation)),
            ("title", bibtex_escape(citation.title)),
            ("journal", bibtex_escape(container(citation))),
            (
                BIBTEX_PUBLISHER_FIELDS.get(kind, "publisher"),
                bibtex_escape(publisher(citation)),
            ),
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
        entries.append(f"@{kind}{{{bibtex_key(citation.key)},\n{body}\n}}\n")
    return "\n".join(entries)
