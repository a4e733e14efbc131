"""
The citation exports, read by the clients people use: rispy (RIS),
bibtexparser 2 (BibTeX, with its LaTeX decoding and name splitting) and
citeproc-py with a bundled CSL style (tests/data), over the seed content and
citations with awkward data. Each field is compared with the stored
citation, and every export imports back to the same fields.
"""

import json
from pathlib import Path

import bibtexparser
import rispy
from bibtexparser.middlewares import (
    LatexDecodingMiddleware,
    RemoveEnclosingMiddleware,
    SeparateCoAuthors,
    SplitNameParts,
)
from citeproc import (
    Citation as CiteprocCitation,
)
from citeproc import (
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from django.test import TestCase

from monographs.citation_styles import vancouver_authors
from monographs.models import Citation
from monographs.references_import import IMPORTED_FIELDS, references_parse
from monographs.services import seed_load
from tests import factories

CSL_STYLE = Path(__file__).parent.parent / "data" / "elsevier-vancouver-no-et-al.csl"
MANY = ", ".join(f"Author{n} {'ABCDEFGHIJ'[n % 10]}" for n in range(1, 31))
REPORT = Citation.PublicationType.GUIDELINE
WEB = Citation.PublicationType.WEB_PAGE


def awkward_citations():
    """Made-up records with the data that broke the exports before."""
    return [
        factories.CitationFactory(
            key="many2021",
            authors=MANY,
            title="A trial with thirty authors",
            pmid="39000001",
            pmcid="PMC9900001",
            doi="10.1000/many.2021",
        ),
        factories.CitationFactory(
            key="etal2018",
            authors="Dai Q, Zhu X, Manson JE, et al.",
            title="Three authors listed, more not",
            pmid="39000002",
            doi="10.1000/etal.2018",
        ),
        factories.CitationFactory(
            key="solo2017",
            authors="Kappeler D, et al.",
            title="One author listed, more not",
            pmid="39000003",
            doi="10.1000/solo.2017",
            pages="e59317",
        ),
        factories.CitationFactory(
            key="report1997",
            authors="",
            group_author="Institute of Example Medicine (US) Standing Committee",
            title="Reference intakes for five minerals",
            journal="",
            publisher="Example Academies Press",
            volume="",
            issue="",
            pages="",
            pmid="",
            doi="10.17226/0000",
            publication_type=REPORT,
            year=1997,
        ),
        factories.CitationFactory(
            key="webpage2022",
            authors="",
            group_author="Example Office of Dietary Supplements",
            title="Magnesium: fact sheet",
            journal="",
            publisher="Example Institutes of Health",
            volume="",
            issue="",
            pages="",
            pmid="",
            doi="",
            url="https://example.org/factsheets/Magnesium_(HP)%20sheet/",
            publication_type=WEB,
            year=2022,
        ),
        factories.CitationFactory(
            key="doi2020",
            authors="Ødegård Ø, García-López M, Núñez Ibáñez JP, Šimić-Žalac A",
            title="Names beyond ASCII and a DOI with _()% in it",
            doi="10.1002/(SICI)1097-4636_(199812)%43:4",
            pmid="39000004",
        ),
    ]


class ExportClientFixture:
    @classmethod
    def setUpTestData(cls):
        seed_load()
        cls.awkward = awkward_citations()
        form = factories.MagnesiumFormFactory(
            name="Magnesium awkwardate", slug="magnesium-awkwardate"
        )
        factories.EvidenceFactory(form=form).citations.add(*cls.awkward)
        factories.publish(form)

    def setUp(self):
        exported = {
            name: self.client.get(f"/citations/export.{name}")
            for name in ("ris", "bib", "json")
        }
        for response in exported.values():
            self.assertEqual(response.status_code, 200)
        self.ris = exported["ris"].content.decode()
        self.bib = exported["bib"].content.decode()
        self.csl = json.loads(exported["json"].content)
        self.stored = {
            citation.key: citation
            for citation in Citation.objects.filter(
                key__in=[item["id"] for item in self.csl]
            )
        }

    def test_seed_and_awkward_citations_are_all_exported(self):
        keys = set(self.stored)
        self.assertTrue({citation.key for citation in self.awkward} <= keys)
        self.assertIn("iom1997", keys)
        self.assertIn("dai2018", keys)
        self.assertGreater(len(keys), 15)


def people(citation):
    """(family, given) as the exports document them, from the stored text."""
    names = [name.strip() for name in citation.authors.split(",") if name.strip()]
    truncated = bool(names) and names[-1].lower().rstrip(".") == "et al"
    result = []
    for name in names[:-1] if truncated else names:
        family, _, initials = name.rpartition(" ")
        result.append((family, ". ".join(initials) + "."))
    return result, truncated


def publisher(citation):
    if citation.publication_type in {REPORT, WEB}:
        return citation.publisher or citation.journal
    return ""


def journal(citation):
    return "" if citation.publication_type in {REPORT, WEB} else citation.journal


class RisClientTests(ExportClientFixture, TestCase):
    def test_rispy_reads_every_field(self):
        records = {record["id"]: record for record in rispy.loads(self.ris)}
        self.assertEqual(set(records), set(self.stored))
        for key, citation in self.stored.items():
            record = records[key]
            with self.subTest(key=key):
                expected_type = {REPORT: "RPRT", WEB: "ELEC"}.get(
                    citation.publication_type, "JOUR"
                )
                self.assertEqual(record["type_of_reference"], expected_type)
                listed, truncated = people(citation)
                authors = [f"{family}, {given}" for family, given in listed]
                if citation.group_author:
                    authors = [citation.group_author]
                elif truncated:
                    authors.append("et al.")
                self.assertEqual(record.get("authors", []), authors)
                self.assertEqual(record.get("title", ""), citation.title)
                self.assertEqual(record.get("journal_name", ""), journal(citation))
                self.assertEqual(record.get("publisher", ""), publisher(citation))
                self.assertEqual(record.get("year", ""), str(citation.year or ""))
                self.assertEqual(record.get("volume", ""), citation.volume)
                self.assertEqual(record.get("number", ""), citation.issue)
                first, _, last = citation.pages.partition("-")
                self.assertEqual(record.get("start_page", ""), first)
                self.assertEqual(record.get("end_page", ""), last)
                self.assertEqual(record.get("doi", ""), citation.doi)
                notes = [f"PMID: {citation.pmid}"] if citation.pmid else []
                notes += [f"PMCID: {citation.pmcid}"] if citation.pmcid else []
                # Zotero's RIS import appends M2 lines to Extra.
                self.assertEqual(record.get("unknown_tag", {}).get("M2", []), notes)
                self.assertNotIn("accession_number", record)
                self.assertEqual(
                    record.get("urls", []), [citation.url] if citation.url else []
                )

    def test_et_al_and_initials(self):
        records = {record["id"]: record for record in rispy.loads(self.ris)}
        self.assertEqual(
            records["dai2018"]["authors"],
            ["Dai, Q.", "Zhu, X.", "Manson, J. E.", "et al."],
        )
        self.assertEqual(records["solo2017"]["authors"], ["Kappeler, D.", "et al."])
        self.assertEqual(len(records["many2021"]["authors"]), 30)
        self.assertEqual(records["iom1997"]["publisher"], "National Academies Press")
        self.assertNotIn("journal_name", records["iom1997"])


def bibtex_library(text):
    return bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware()]
    )


def bibtex_names(text):
    """{key: [NameParts]}: names split before any LaTeX decoding, which
    would drop the braces that keep a group author whole."""
    library = bibtexparser.parse_string(
        text,
        parse_stack=[
            RemoveEnclosingMiddleware(),
            SeparateCoAuthors(),
            SplitNameParts(),
        ],
    )
    return {
        entry.key: entry["author"] if "author" in entry.fields_dict else []
        for entry in library.entries
    }


class BibtexClientTests(ExportClientFixture, TestCase):
    def test_bibtexparser_reads_every_field(self):
        library = bibtex_library(self.bib)
        self.assertEqual(library.failed_blocks, [])
        entries = {entry.key: entry for entry in library.entries}
        self.assertEqual(set(entries), set(self.stored))
        # Verbatim fields, read without LaTeX decoding (which reads % as a comment).
        raw = {
            entry.key: {field.key: field.value for field in entry.fields}
            for entry in bibtexparser.parse_string(self.bib).entries
        }
        authors = bibtex_names(self.bib)
        for key, citation in self.stored.items():
            entry = entries[key]
            fields = {field.key: field.value for field in entry.fields}
            with self.subTest(key=key):
                expected_type = {REPORT: "report", WEB: "online"}.get(
                    citation.publication_type, "article"
                )
                self.assertEqual(entry.entry_type, expected_type)
                names = authors[key]
                if citation.group_author:
                    self.assertEqual(len(names), 1)
                    self.assertEqual(names[0].last, [f"{{{citation.group_author}}}"])
                else:
                    listed, truncated = people(citation)
                    read = [(" ".join(n.last), " ".join(n.first)) for n in names]
                    if truncated:
                        self.assertEqual(read[-1], ("others", ""))
                        read = read[:-1]
                    self.assertEqual(read, listed)
                self.assertEqual(fields.get("title", ""), citation.title)
                self.assertEqual(fields.get("journal", ""), journal(citation))
                publisher_field = {"report": "institution", "online": "organization"}
                self.assertEqual(
                    fields.get(publisher_field.get(expected_type, "publisher"), ""),
                    publisher(citation),
                )
                self.assertEqual(fields.get("year", ""), str(citation.year or ""))
                self.assertEqual(fields.get("volume", ""), citation.volume)
                self.assertEqual(fields.get("number", ""), citation.issue)
                self.assertEqual(
                    fields.get("pages", "").replace("\u2013", "-"), citation.pages
                )
                self.assertEqual(fields.get("pmid", ""), citation.pmid)
                self.assertEqual(fields.get("pmcid", ""), citation.pmcid)
                self.assertEqual(raw[key].get("doi", ""), citation.doi)
                self.assertEqual(raw[key].get("url", ""), citation.url)

    def test_doi_is_verbatim(self):
        self.assertIn("doi = {10.1002/(SICI)1097-4636_(199812)%43:4}", self.bib)
        self.assertIn(
            "author = {Dai, Q. and Zhu, X. and Manson, J. E. and others}", self.bib
        )


class CiteprocClientTests(ExportClientFixture, TestCase):
    def bibliography(self, items):
        source = CiteProcJSON(items)
        style = CitationStylesStyle(str(CSL_STYLE), validate=False)
        bibliography = CitationStylesBibliography(style, source, formatter.plain)
        for item in items:
            bibliography.register(CiteprocCitation([CitationItem(item["id"])]))
        return [str(entry) for entry in bibliography.bibliography()]

    def test_csl_json_fields(self):
        items = {item["id"]: item for item in self.csl}
        for key, citation in self.stored.items():
            item = items[key]
            with self.subTest(key=key):
                expected_type = {REPORT: "report", WEB: "webpage"}.get(
                    citation.publication_type, "article-journal"
                )
                self.assertEqual(item["type"], expected_type)
                listed, truncated = people(citation)
                authors = [{"family": f, "given": g} for f, g in listed]
                if citation.group_author:
                    authors = [{"literal": citation.group_author}]
                elif truncated:
                    authors.append({"literal": "et al."})
                self.assertEqual(item.get("author", []), authors)
                for variable, value in [
                    ("title", citation.title),
                    ("container-title", journal(citation)),
                    ("publisher", publisher(citation)),
                    ("volume", citation.volume),
                    ("issue", citation.issue),
                    ("page", citation.pages),
                    ("PMID", citation.pmid),
                    ("PMCID", citation.pmcid),
                    ("DOI", citation.doi),
                    ("URL", citation.url),
                ]:
                    self.assertEqual(item.get(variable, ""), value, variable)
                if citation.year:
                    self.assertEqual(item["issued"], {"date-parts": [[citation.year]]})

    def test_citeproc_renders_each_citation_as_vancouver(self):
        rendered = self.bibliography(self.csl)
        self.assertEqual(len(rendered), len(self.csl))
        by_key = dict(zip([item["id"] for item in self.csl], rendered, strict=True))
        for key, citation in self.stored.items():
            text = by_key[key]
            with self.subTest(key=key, text=text):
                if citation.year:
                    self.assertNotIn("n.d.", text)
                if citation.title:
                    self.assertIn(citation.title, text)
                if citation.group_author:
                    self.assertIn(citation.group_author, text)
                else:
                    # The style lists every author, family name then initials.
                    listed, truncated = people(citation)
                    for family, given in listed:
                        self.assertIn(
                            f"{family} {given.replace('. ', '').rstrip('.')}", text
                        )
                if citation.publication_type == REPORT:
                    self.assertIn(publisher(citation), text)
        self.assertIn("]Dai Q, Zhu X, Manson JE, et al. Magnesium", by_key["dai2018"])
        self.assertIn(vancouver_authors(self.stored["solo2017"]), by_key["solo2017"])


class RoundTripTests(ExportClientFixture, TestCase):
    """Every export imports back to the fields it was made from."""

    def check(self, text, fmt):
        chosen, records = references_parse(text, fmt)
        self.assertEqual(chosen, fmt)
        by_key = {record.key: record for record in records}
        self.assertEqual(set(by_key), set(self.stored))
        for key, citation in self.stored.items():
            values = by_key[key].values
            with self.subTest(format=fmt, key=key):
                for name in IMPORTED_FIELDS:
                    stored = getattr(citation, name)
                    if name == "publisher":
                        stored = publisher(citation)
                    if name == "journal":
                        stored = journal(citation)
                    if name == "publication_type" and stored not in {REPORT, WEB}:
                        # The formats know articles, reports and web pages.
                        stored = Citation.PublicationType.JOURNAL_ARTICLE
                    self.assertEqual(values.get(name) or "", stored or "", name)

    def test_ris(self):
        self.check(self.ris, "ris")

    def test_bibtex(self):
        self.check(self.bib, "bibtex")

    def test_csl_json(self):
        self.check(json.dumps(self.csl), "csl-json")
