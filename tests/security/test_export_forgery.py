"""
Citation exports cannot be forged from a field.

Hostile values (line breaks, RIS end tags, braces, TeX commands, comment and
entry starts, control characters, non-ASCII) go into every field of a
citation; the RIS, BibTeX and CSL-JSON exports are read back with real
parsers (rispy, bibtexparser 2) and must hold exactly the stored citations,
each field equal to its stored value after the documented folding
(monographs.exports): line breaks and tabs become spaces, other control
characters go, the ends are trimmed.
"""

import json
import re
import unicodedata
from types import SimpleNamespace

import bibtexparser
import rispy
from bibtexparser.middlewares import RemoveEnclosingMiddleware, SeparateCoAuthors
from django.core.cache import cache
from django.test import SimpleTestCase, TestCase

from monographs.exports import one_line, to_bibtex, to_csl, to_ris
from monographs.models import Citation
from tests import factories

LINE_BREAKS = "line one\nline two\r\nER  - \nTY  - JOUR\nID  - forged\rAU  - Forger, F"
BRACES = "1}, note={\\input{/etc/passwd}}"
ENTRY = '}{ @misc{forged, title={x}} @article(forged2, x=1) "q" = , %comment'
TEX = "\\input{/etc/passwd} \\def\\x{y}\\x $x^2$ #1 a_b ~ & 50% \\"
CONTROLS = "a\x00b\x07c\x1bd\x7fe\x85f\u2028g\u2029h\x0bi\x0cj\tk\x1c\x1dl\x9bm"
UNICODE = "Zürich 中文 Ωμέγα — “quotes” 🙂 non\u00a0breaking and\u200bzero-width"
NESTING = "{balanced {nested}} and }unbalanced{ {"
SPACES = "  leading, and  inner   and trailing \n "
NAMES = "Smith and Jones, AND, others and others, Others"
HOSTILE = [LINE_BREAKS, BRACES, ENTRY, TEX, CONTROLS, UNICODE, NESTING, SPACES, NAMES]
EVERYTHING = " ".join(HOSTILE)
# PostgreSQL text cannot hold NUL; the stored citations do without it.
STORABLE_CONTROLS = CONTROLS.replace("\x00", "")

TEXT_FIELDS = ["title", "volume", "issue", "pmid", "pmcid"]
VERBATIM_FIELDS = ["doi", "url"]
RIS_TAGS = {
    "title": "title",
    "volume": "volume",
    "issue": "number",
    "pmcid": "custom2",
    "doi": "doi",
}
CSL_NAMES = {
    "title": "title",
    "volume": "volume",
    "issue": "issue",
    "pages": "page",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "doi": "DOI",
    "url": "URL",
}
BIBTEX_NAMES = {
    "title": "title",
    "volume": "volume",
    "issue": "number",
    "pmid": "pmid",
    "pmcid": "pmcid",
}


def fold(value):
    """The documented folding, written out independently of the exporter."""
    text = value.replace("\r\n", "\n")
    kept = []
    for char in text:
        if unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"}:
            if char in "\n\r\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029":
                kept.append(" ")
        else:
            kept.append(char)
    return "".join(kept).strip()


INITIALS = re.compile(r"[^\W\d_](?:-?[^\W\d_])*")


def dotted(initials):
    """'JE' -> 'J. E.', 'J-P' -> 'J.-P.', as the exports document."""
    out = ""
    for char in initials:
        if char == "-":
            out += "-"
        else:
            out += (" " if out and not out.endswith("-") else "") + char + "."
    return out


def expected_people(citation):
    """(family, given) per author: comma-separated Vancouver names, 'et al.'
    dropped, initials dotted; a name not ending in initials is literal."""
    people = []
    for name in citation.authors.split(","):
        name = fold(name)
        if not name or name.lower().rstrip(".").strip() == "et al":
            continue
        family, _, given = name.rpartition(" ")
        family = family.rstrip()
        if family and given.isupper() and INITIALS.fullmatch(given):
            people.append((family, dotted(given)))
        else:
            people.append((name, ""))
    return people


def truncated(citation):
    names = [fold(name) for name in citation.authors.split(",") if fold(name)]
    return (
        not fold(citation.group_author)
        and len(names) > 1
        and names[-1].lower().rstrip(".").strip() == "et al"
    )


PUBLISHED = {
    Citation.PublicationType.GUIDELINE,
    Citation.PublicationType.WEB_PAGE,
}


def expected_journal(citation):
    return "" if citation.publication_type in PUBLISHED else fold(citation.journal)


def expected_publisher(citation):
    if citation.publication_type not in PUBLISHED:
        return ""
    return fold(getattr(citation, "publisher", "")) or fold(citation.journal)


def expected_pages(citation):
    first, _, last = fold(citation.pages).partition("-")
    return first.strip(), last.strip()


# The TeX escapes the BibTeX export documents, and nothing else.
TEX_ESCAPES = {
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
TEX_TOKEN = re.compile(
    "|".join(re.escape(escape) for escape in sorted(TEX_ESCAPES, key=len, reverse=True))
    + r"|[\\{}%&$#_^~]"
)
URL_ESCAPES = {"{": "%7B", "}": "%7D", "\\": "%5C"}


def bibtex_braces_balance(raw):
    """BibTeX counts every brace, escaped or not: depth never below 0, ends at 0."""
    depth = 0
    for char in raw:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def tex_decode(raw):
    """Undo the documented escapes; any other TeX special character is an error."""

    def replace(match):
        token = match.group()
        if token not in TEX_ESCAPES:
            raise AssertionError(f"unescaped {token!r} in BibTeX value {raw!r}")
        return TEX_ESCAPES[token]

    return TEX_TOKEN.sub(replace, raw)


def unbrace(raw):
    """A name part the exporter protected with braces, without them."""
    return raw[1:-1] if raw.startswith("{") and raw.endswith("}") else raw


def hostile_citation(key, value, **overrides):
    fields = {
        "key": key,
        "authors": f"Smith A, {value} B, {value}, et al.",
        "group_author": "",
        "title": value,
        "journal": value,
        "year": 2020,
        "volume": value,
        "issue": value,
        "pages": f"{value}-{value}",
        "pmid": value,
        "pmcid": value,
        "doi": f"10.1000/{value}",
        "url": f"https://example.org/{value}",
        "publication_type": Citation.PublicationType.JOURNAL_ARTICLE,
    }
    fields.update(overrides)
    return SimpleNamespace(**fields)


class ExportForgeryChecks:
    """Read the three exports back and compare them with the stored citations."""

    def check_ris(self, text, citations):
        lines = text.split("\r\n")
        # No line break of any kind (LF, CR, NEL, U+2028...) inside a value.
        self.assertEqual(text.splitlines(), lines[:-1])
        for line in lines[:-1]:
            if line:
                self.assertRegex(line, r"^[A-Z][A-Z0-9]  - ")
        records = rispy.loads(text, delimiter_tags_mapping={})
        self.assertEqual(len(records), len(citations))
        by_key = {record["id"]: record for record in records}
        self.assertEqual(set(by_key), {fold(citation.key) for citation in citations})
        for citation in citations:
            record = by_key[fold(citation.key)]
            with self.subTest(format="RIS", key=citation.key):
                if fold(citation.group_author):
                    authors = [fold(citation.group_author)]
                else:
                    authors = [
                        f"{family}, {given}" if given else family
                        for family, given in expected_people(citation)
                    ]
                    if authors and truncated(citation):
                        authors.append("et al.")
                self.assertEqual(record.get("authors", []), authors)
                self.assertEqual(
                    record.get("journal_name", ""), expected_journal(citation)
                )
                self.assertEqual(
                    record.get("publisher", ""), expected_publisher(citation)
                )
                for field, name in RIS_TAGS.items():
                    self.assertEqual(
                        record.get(name, ""), fold(getattr(citation, field)), field
                    )
                first, last = expected_pages(citation)
                self.assertEqual(record.get("start_page", ""), first)
                self.assertEqual(record.get("end_page", ""), last)
                pmid, pmcid = fold(citation.pmid), fold(citation.pmcid)
                notes = [f"PMID: {pmid}"] if pmid else []
                notes += [f"PMCID: {pmcid}"] if pmcid else []
                self.assertEqual(record.get("unknown_tag", {}).get("M2", []), notes)
                self.assertEqual(
                    record.get("urls", []),
                    [fold(citation.url)] if fold(citation.url) else [],
                )
                self.assertEqual(record["year"], str(citation.year))

    def check_bibtex(self, text, citations):
        library = bibtexparser.parse_string(text, parse_stack=[])
        self.assertEqual(library.failed_blocks, [])
        self.assertEqual(len(library.blocks), len(citations))
        self.assertEqual(len(library.entries), len(citations))
        entries = {entry.key: entry for entry in library.entries}
        self.assertEqual(set(entries), {citation.key for citation in citations})
        authors_library = bibtexparser.parse_string(
            text, parse_stack=[RemoveEnclosingMiddleware(), SeparateCoAuthors()]
        )
        authors = {entry.key: entry for entry in authors_library.entries}
        for citation in citations:
            entry, with_authors = entries[citation.key], authors[citation.key]
            with self.subTest(format="BibTeX", key=citation.key):
                raw = {field.key: field.value for field in entry.fields}
                for name, value in raw.items():
                    self.assertTrue(value.startswith("{") and value.endswith("}"))
                    self.assertTrue(bibtex_braces_balance(value), (name, value))
                    self.assertNotIn("\n", value)
                values = {name: value[1:-1] for name, value in raw.items()}
                expected_names = set()
                for field, name in BIBTEX_NAMES.items():
                    expected = fold(getattr(citation, field))
                    if expected:
                        expected_names.add(name)
                        self.assertEqual(tex_decode(values[name]), expected, field)
                for name in VERBATIM_FIELDS:
                    expected = fold(getattr(citation, name))
                    if expected:
                        expected_names.add(name)
                        verbatim = "".join(URL_ESCAPES.get(c, c) for c in expected)
                        self.assertEqual(values[name], verbatim)
                kind = {
                    Citation.PublicationType.GUIDELINE: ("report", "institution"),
                    Citation.PublicationType.WEB_PAGE: ("online", "organization"),
                }.get(citation.publication_type, ("article", "publisher"))
                self.assertEqual(entry.entry_type, kind[0])
                for name, expected in [
                    ("journal", expected_journal(citation)),
                    (kind[1], expected_publisher(citation)),
                ]:
                    if expected:
                        expected_names.add(name)
                        self.assertEqual(tex_decode(values[name]), expected, name)
                first, last = expected_pages(citation)
                if first or last:
                    expected_names.add("pages")
                    decoded = tex_decode(values["pages"])
                    self.assertEqual(decoded, f"{first}--{last}" if last else first)
                expected_names.update({"author", "year"})
                self.assertEqual(set(values), expected_names)
                self.assertEqual(values["year"], str(citation.year))
                self.check_bibtex_authors(with_authors, citation)

    def check_bibtex_authors(self, entry, citation):
        [names] = [field.value for field in entry.fields if field.key == "author"]
        if fold(citation.group_author):
            [group] = names
            self.assertEqual(tex_decode(unbrace(group)), fold(citation.group_author))
            return
        read = []
        if truncated(citation):
            self.assertEqual(names[-1], "others")
            names = names[:-1]
        for name in names:
            family, _, given = name.partition(", ")
            family, given = tex_decode(unbrace(family)), tex_decode(unbrace(given))
            read.append((family, given))
        self.assertEqual(read, expected_people(citation))

    def check_csl(self, text, citations):
        items = json.loads(text)
        self.assertEqual(len(items), len(citations))
        by_key = {item["id"]: item for item in items}
        self.assertEqual(set(by_key), {fold(citation.key) for citation in citations})
        for citation in citations:
            item = by_key[fold(citation.key)]
            with self.subTest(format="CSL-JSON", key=citation.key):
                for field, name in CSL_NAMES.items():
                    self.assertEqual(
                        item.get(name, ""), fold(getattr(citation, field)), field
                    )
                if fold(citation.group_author):
                    authors = [{"literal": fold(citation.group_author)}]
                else:
                    authors = [
                        {"family": family, "given": given}
                        if given
                        else {"literal": family}
                        for family, given in expected_people(citation)
                    ]
                    if authors and truncated(citation):
                        authors.append({"literal": "et al."})
                self.assertEqual(item.get("author", []), authors)
                self.assertEqual(
                    item.get("container-title", ""), expected_journal(citation)
                )
                self.assertEqual(
                    item.get("publisher", ""), expected_publisher(citation)
                )
                self.assertEqual(item["issued"], {"date-parts": [[citation.year]]})


class ExportFunctionForgeryTests(ExportForgeryChecks, SimpleTestCase):
    """Citation-like objects (as built from stored JSON), any length."""

    def citations(self):
        made = [
            hostile_citation(f"hostile{number}", value)
            for number, value in enumerate([*HOSTILE, EVERYTHING])
        ]
        made.append(
            hostile_citation(
                "grouped",
                EVERYTHING,
                group_author=EVERYTHING,
                publication_type=Citation.PublicationType.WEB_PAGE,
            )
        )
        return made

    def test_ris_holds_one_record_per_citation_with_its_values(self):
        citations = self.citations()
        self.check_ris(to_ris(citations), citations)

    def test_bibtex_holds_one_entry_per_citation_with_its_values(self):
        citations = self.citations()
        self.check_bibtex(to_bibtex(citations), citations)

    def test_csl_json_holds_the_folded_values(self):
        citations = self.citations()
        self.check_csl(json.dumps([to_csl(c) for c in citations]), citations)

    def test_bibtex_key_keeps_only_safe_characters(self):
        citation = hostile_citation("evil},\n@misc{x,\ttitle={y}", "plain")
        library = bibtexparser.parse_string(to_bibtex([citation]), parse_stack=[])
        self.assertEqual(library.failed_blocks, [])
        [entry] = library.entries
        self.assertEqual(entry.key, "evil-misc-x-title-y")
        self.check_ris(to_ris([citation]), [citation])

    def test_empty_and_missing_values_are_left_out(self):
        citation = hostile_citation(
            "sparse",
            "",
            authors="\n, \x00, et al.",
            title=None,
            pages="\n",
            doi="",
            url="",
            year=None,
        )
        ris = to_ris([citation])
        self.assertEqual(ris, "TY  - JOUR\r\nID  - sparse\r\nER  - \r\n")
        library = bibtexparser.parse_string(to_bibtex([citation]), parse_stack=[])
        [entry] = library.entries
        self.assertEqual((entry.key, entry.fields), ("sparse", []))
        self.assertEqual(to_csl(citation), {"id": "sparse", "type": "article-journal"})

    def test_well_formed_values_are_unchanged(self):
        citation = hostile_citation(
            "plain2020",
            "x",
            authors="Garicano Vilar E, Smith AB",
            title="Magnesium and sleep: a trial",
            journal="Sleep Med",
            volume="12",
            issue="3",
            pages="100-110",
            pmid="31000001",
            pmcid="PMC6000001",
            doi="10.1016/j.sleep.2019_001",
            url="https://example.org/a_b?c=1&d=50%25#top",
        )
        bibtex = to_bibtex([citation])
        self.assertIn("author = {Garicano Vilar, E. and Smith, A. B.}", bibtex)
        self.assertIn("doi = {10.1016/j.sleep.2019_001}", bibtex)
        self.assertIn("url = {https://example.org/a_b?c=1&d=50%25#top}", bibtex)
        self.assertIn("pages = {100--110}", bibtex)
        self.check_bibtex(bibtex, [citation])


class ExportViewForgeryTests(ExportForgeryChecks, TestCase):
    """Stored citations of a published page, through the export URLs."""

    @classmethod
    def setUpTestData(cls):
        # Within the column lengths PostgreSQL enforces.
        cls.hostile = factories.CitationFactory(
            key="hostile",
            authors=f"Smith A,\nER  - \nTY  - JOUR,{TEX} B, {NAMES}, et al.",
            title=EVERYTHING.replace(CONTROLS, STORABLE_CONTROLS),
            journal=f"{LINE_BREAKS} {BRACES} {STORABLE_CONTROLS}",
            volume="1}, note={x}\n%",
            issue="2\r\nER  - \u2028@misc{",
            pages="1}, note={\\input{/x}}-2\n{",
            pmid="1}\n@x{%\x07",
            pmcid="PMC\r\nER  - {",
            doi="10.1000/x}\n{\\input_%&~#",
            url="https://example.org/a_b%20{c}\\d\nER  - #&~",
        )
        cls.group = factories.CitationFactory(
            key="grouped",
            authors="",
            group_author=f"{NESTING}\n{UNICODE}",
            title=f"{ENTRY}\t{SPACES}",
            publication_type=Citation.PublicationType.GUIDELINE,
        )
        cls.plain = factories.CitationFactory(key="plain")
        form = factories.MagnesiumFormFactory(slug="magnesium-forgery")
        factories.EvidenceFactory(form=form).citations.add(
            cls.hostile, cls.group, cls.plain
        )
        factories.publish(form)

    def setUp(self):
        cache.clear()
        self.citations = list(Citation.objects.all())

    def export(self, url, content_type):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith(content_type))
        return response.content.decode()

    def test_ris_export(self):
        text = self.export("/citations/export.ris", "application/x-research-info")
        self.check_ris(text, self.citations)

    def test_bibtex_export(self):
        text = self.export("/citations/export.bib", "application/x-bibtex")
        self.check_bibtex(text, self.citations)

    def test_csl_json_export(self):
        text = self.export("/citations/export.json", "application/json")
        self.check_csl(text, self.citations)


class OneLineTests(SimpleTestCase):
    """one_line answers printable text at once: the answer must be the same
    as folding it character by character."""

    @staticmethod
    def folded(text):
        return "".join(
            (" " if char.isspace() else "")
            if unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"}
            else char
            for char in text.replace("\r\n", "\n")
        ).strip()

    def test_every_kind_of_character_folds_as_the_rule_says(self):
        samples = [
            " Manson JE ",
            "Garicano\u00a0Vilar E",  # no-break space: kept
            "zero\u200bwidth",  # a format character: kept
            "line\u2028break",
            "para\u2029graph",
            "tab\there",
            "a\r\nb\rc\nd",
            "nul\x00byte",
            "bell\x07",
            "\x85next line",
            "surrogate \ud800 alone",
            "Łódź, São Paulo, 東京",
        ]
        for text in samples:
            with self.subTest(text=text):
                self.assertEqual(one_line(text), self.folded(text))

    def test_none_is_empty_and_other_values_are_text(self):
        self.assertEqual(one_line(None), "")
        self.assertEqual(one_line(2024), "2024")
