"""Citation exports: RIS, BibTeX and CSL-JSON, from the same fields as the pages."""

import re

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


def split_author(name):
    """'Garicano Vilar E' -> ('Garicano Vilar', 'E'): Vancouver puts initials last."""
    family, _, given = name.rpartition(" ")
    if not family or not given.isupper():
        return name, ""
    return family, given


def people(citation):
    return [
        split_author(name)
        for name in citation.author_list
        if name.lower().rstrip(".") != "et al"
    ]


def page_range(pages):
    first, _, last = pages.partition("-")
    return first.strip(), last.strip()


def to_csl(citation):
    item = {
        "id": citation.key,
        "type": CSL_TYPES.get(citation.publication_type, "article-journal"),
    }
    if citation.group_author:
        item["author"] = [{"literal": citation.group_author}]
    elif citation.authors:
        item["author"] = [
            {"family": family, "given": given} if given else {"literal": family}
            for family, given in people(citation)
        ]
    optional = {
        "title": citation.title,
        "container-title": citation.journal,
        "volume": citation.volume,
        "issue": citation.issue,
        "page": citation.pages,
        "PMID": citation.pmid,
        "PMCID": citation.pmcid,
        "DOI": citation.doi,
        "URL": citation.url,
    }
    item.update((name, value) for name, value in optional.items() if value)
    if citation.year:
        item["issued"] = {"date-parts": [[citation.year]]}
    return item


def to_ris(citations):
    lines = []
    for citation in citations:
        lines.append(f"TY  - {RIS_TYPES.get(citation.publication_type, 'JOUR')}")
        lines.append(f"ID  - {citation.key}")
        if citation.group_author:
            lines.append(f"AU  - {citation.group_author}")
        for family, given in people(citation) if not citation.group_author else []:
            lines.append(f"AU  - {family}, {given}" if given else f"AU  - {family}")
        first, last = page_range(citation.pages)
        fields = [
            ("TI", citation.title),
            ("JO", citation.journal),
            ("PY", str(citation.year or "")),
            ("VL", citation.volume),
            ("IS", citation.issue),
            ("SP", first),
            ("EP", last),
            ("DO", citation.doi),
            ("AN", f"PMID:{citation.pmid}" if citation.pmid else ""),
            ("C2", citation.pmcid),
            ("UR", citation.url),
        ]
        lines += [f"{tag}  - {_one_line(value)}" for tag, value in fields if value]
        lines.append("ER  - ")
        lines.append("")
    return "\r\n".join(lines)


def _one_line(value):
    return " ".join(str(value).split())


BIBTEX_SPECIAL = re.compile(r"([\\{}%&$#_^~])")


def bibtex_escape(value):
    def replace(match):
        char = match.group(1)
        if char == "\\":
            return r"\textbackslash{}"
        if char in "^~":
            return rf"\{char}{{}}"
        return "\\" + char

    return BIBTEX_SPECIAL.sub(replace, _one_line(value))


def to_bibtex(citations):
    entries = []
    for citation in citations:
        if citation.group_author:
            author = "{" + bibtex_escape(citation.group_author) + "}"
        else:
            author = " and ".join(
                f"{bibtex_escape(family)}, {bibtex_escape(given)}"
                if given
                else "{" + bibtex_escape(family) + "}"
                for family, given in people(citation)
            )
        first, last = page_range(citation.pages)
        fields = [
            ("author", author, False),
            ("title", citation.title, True),
            ("journal", citation.journal, True),
            ("year", str(citation.year or ""), True),
            ("volume", citation.volume, True),
            ("number", citation.issue, True),
            ("pages", f"{first}--{last}" if last else first, False),
            ("doi", citation.doi, True),
            ("pmid", citation.pmid, True),
            ("pmcid", citation.pmcid, True),
            ("url", citation.url, False),
        ]
        body = ",\n".join(
            f"  {name} = {{{bibtex_escape(value) if escaped else value}}}"
            for name, value, escaped in fields
            if value
        )
        kind = BIBTEX_TYPES.get(citation.publication_type, "article")
        entries.append(f"@{kind}{{{citation.key},\n{body}\n}}\n")
    return "\n".join(entries)
