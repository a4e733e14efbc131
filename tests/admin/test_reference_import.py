"""
The admin's reference import: paste or upload RIS, BibTeX, CSL-JSON or
MEDLINE, preview what would be created or updated, import with an edit
summary. Existing PMIDs and DOIs are matched, not duplicated; problems name
the record and line; writes go through the revision machinery.
"""

import json
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils.html import escape

from monographs.models import Citation, Revision
from monographs.references_import import import_plan, references_parse
from tests import factories

IMPORT = "/admin/monographs/citation/import/"

RIS = """TY  - JOUR
ID  - walker2003
AU  - Walker, Ann F.
AU  - Marakis, G
AU  - et al.
TI  - Mg citrate found more bioavailable
JO  - Magnes Res
PY  - 2003
VL  - 16
IS  - 3
SP  - 183
EP  - 191
N1  - PMID: 14596323
ER  -

TY  - RPRT
AU  - Example Standing Committee on Intakes
TI  - Reference intakes for minerals
PB  - Example Academies Press
PY  - 1997
DO  - 10.17226/0000
ER  -
"""

BIBTEX = r"""@article{existing,
  author = {Schuette, S. A. and Lashner, B. A. and others},
  title = {Bioavailability of magnesium diglycinate},
  journal = {JPEN J Parenter Enteral Nutr},
  year = {1994},
  volume = {18},
  pages = {430--435},
  doi = {10.1177/0148607194018005430},
}

@online{webpage,
  author = {{Example Office of Dietary Supplements}},
  title = {Magnesium: fact sheet},
  organization = {Example Institutes},
  year = {2022},
  url = {https://example.org/fact_sheet},
}
"""

CSL = json.dumps(
    [
        {
            "id": "garcia2020",
            "type": "article-journal",
            "author": [
                {"family": "García-López", "given": "María José"},
                {"family": "Ødegård", "given": "Ø."},
            ],
            "title": "Non-ASCII names",
            "container-title": "Nutrients",
            "issued": {"date-parts": [[2020]]},
            "DOI": "10.3390/nu0000_(x)%1",
        }
    ],
    indent=1,
)

MEDLINE = """PMID- 7815675
OWN - NLM
TI  - Bioavailability of magnesium diglycinate vs magnesium oxide in patients with
      ileal resection.
PG  - 430-5
DP  - 1994 Sep-Oct
VI  - 18
IP  - 5
AU  - Schuette SA
AU  - Lashner BA
AU  - Janghorbani M
TA  - JPEN J Parenter Enteral Nutr
AID - 10.1177/0148607194018005430 [doi]
PT  - Journal Article
"""


def page_text(response):
    return re.sub(r"\s+", " ", response.content.decode())


class ImportPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.existing = factories.CitationFactory(
            key="schuette1994",
            authors="Schuette SA",
            title="Bioavailability of magnesium diglycinate",
            journal="",
            year=1994,
            volume="",
            issue="",
            pages="",
            pmid="7815675",
            doi="10.1177/0148607194018005430",
        )

    def setUp(self):
        self.client.force_login(self.editor)

    def preview(self, text="", **extra):
        data = {"text": text, "format": "auto", "edit_summary": "From Zotero"}
        data.update(extra)
        return self.client.post(IMPORT, {**data, "preview": "Preview"})

    def confirm(self, preview, text, **extra):
        digest = re.search(
            r'name="digest" value="([0-9a-f]+)"', preview.content.decode()
        )
        self.assertIsNotNone(digest, "the preview offers no import")
        data = {
            "text": text,
            "format": "auto",
            "edit_summary": "From Zotero",
            "digest": digest.group(1),
            "import": "Import",
        }
        data.update(extra)
        return self.client.post(IMPORT, data)

    def test_linked_from_the_citation_list(self):
        response = self.client.get("/admin/monographs/citation/")
        self.assertContains(response, f'href="{IMPORT}"')
        self.assertEqual(self.client.get(IMPORT).status_code, 200)

    def test_readers_and_staff_without_rights_cannot_open_it(self):
        self.client.logout()
        self.assertEqual(self.client.get(IMPORT).status_code, 302)
        self.client.force_login(factories.StaffFactory())
        self.assertEqual(self.client.get(IMPORT).status_code, 403)

    def test_preview_shows_what_would_be_created_and_writes_nothing(self):
        response = self.preview(RIS)
        self.assertEqual(response.status_code, 200)
        text = page_text(response)
        self.assertIn("2 to create, 0 to update", text)
        self.assertIn("Walker AF, Marakis G, et al.", text)
        self.assertIn("Example Academies Press", text)
        self.assertIn("Record 1 (line 1)", text)
        self.assertIn("Record 2 (line 16)", text)
        self.assertEqual(Citation.objects.count(), 1)

    def test_import_creates_citations_with_history_and_reason(self):
        response = self.confirm(self.preview(RIS), RIS)
        self.assertRedirects(response, "/admin/monographs/citation/")
        walker = Citation.objects.get(key="walker2003")
        self.assertEqual(walker.authors, "Walker AF, Marakis G, et al.")
        self.assertEqual(walker.pmid, "14596323")
        self.assertEqual(walker.pages, "183-191")
        report = Citation.objects.get(doi="10.17226/0000")
        self.assertEqual(report.group_author, "Example Standing Committee on Intakes")
        self.assertEqual(report.publisher, "Example Academies Press")
        self.assertEqual(report.publication_type, Citation.PublicationType.GUIDELINE)
        record = walker.history.get()
        self.assertEqual(record.history_change_reason, "From Zotero")
        self.assertEqual(record.history_user, self.editor)

    def test_existing_pmid_or_doi_is_updated_not_duplicated(self):
        response = self.preview(MEDLINE)
        text = page_text(response)
        self.assertIn("0 to create, 1 to update", text)
        self.assertIn(
            "<del>Schuette SA</del> &rarr; <ins>Schuette SA, Lashner BA, Janghorbani M</ins>",
            text,
        )
        self.confirm(response, MEDLINE)
        self.assertEqual(Citation.objects.count(), 1)
        self.existing.refresh_from_db()
        self.assertEqual(self.existing.key, "schuette1994")
        self.assertEqual(self.existing.pages, "430-435")
        self.assertEqual(self.existing.journal, "JPEN J Parenter Enteral Nutr")
        self.assertEqual(
            self.existing.title,
            "Bioavailability of magnesium diglycinate vs magnesium oxide in "
            "patients with ileal resection",
        )

    def test_matching_by_doi_and_bibtex_upload(self):
        upload = SimpleUploadedFile("refs.bib", BIBTEX.encode(), "application/x-bibtex")
        response = self.client.post(
            IMPORT,
            {
                "upload": upload,
                "format": "auto",
                "edit_summary": "From Zotero",
                "preview": "1",
            },
        )
        self.assertEqual(response.status_code, 200)
        text = page_text(response)
        self.assertIn("1 to create, 1 to update", text)
        # The preview carries the uploaded text on to the import.
        self.assertIn("Magnesium: fact sheet", text)
        self.confirm(response, BIBTEX)
        self.existing.refresh_from_db()
        self.assertEqual(self.existing.authors, "Schuette SA, Lashner BA, et al.")
        self.assertEqual(self.existing.pages, "430-435")
        web = Citation.objects.get(url="https://example.org/fact_sheet")
        self.assertEqual(web.publication_type, Citation.PublicationType.WEB_PAGE)
        self.assertEqual(web.group_author, "Example Office of Dietary Supplements")
        self.assertEqual(web.publisher, "Example Institutes")
        self.assertEqual(web.key, "webpage")

    def test_csl_json_with_non_ascii_names(self):
        response = self.confirm(self.preview(CSL), CSL)
        self.assertEqual(response.status_code, 302)
        citation = Citation.objects.get(key="garcia2020")
        self.assertEqual(citation.authors, "García-López MJ, Ødegård Ø")
        self.assertEqual(citation.doi, "10.3390/nu0000_(x)%1")

    def test_an_edit_summary_is_required(self):
        response = self.preview(RIS, edit_summary="")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Give an edit summary", status_code=400)
        self.assertEqual(Citation.objects.count(), 1)

    def test_nothing_to_import_is_a_clear_400(self):
        response = self.preview("")
        self.assertContains(
            response, "Paste references or choose a file.", status_code=400
        )

    def test_unreadable_input_names_the_line(self):
        cases = {
            "TY  - JOUR\nTI  - x\n": "Record 1, line 1: the record has no 'ER  - ' line",
            "TY  - JOUR\nTI  - x\nER  - \nTI  - stray\n": "Line 4: 'TI' comes before any 'TY  - '",
            "@article{a, title = {x}\n@misc{b, title={y}}": "Record 1, line 1: this entry cannot be read",
            '[{"id": "a"},\n {"id": "b", "author": "Smith"}]': "Record 2, line 2: 'author' must be a list",
            "[{,}]": "not valid JSON",
            "Just some words": "cannot tell the format",
            "PMID- 1\nXX\n": "Record 1, line 2: cannot read 'XX'",
        }
        for text, message in cases.items():
            with self.subTest(text=text):
                response = self.preview(text)
                self.assertEqual(response.status_code, 400)
                self.assertIn(escape(message), response.content.decode())
        self.assertEqual(Citation.objects.count(), 1)

    def test_invalid_values_name_the_record_and_block_the_import(self):
        text = RIS.replace("PY  - 2003", "PY  - 2003").replace(
            "DO  - 10.17226/0000", "DO  - not-a-doi"
        )
        response = self.preview(text)
        self.assertEqual(response.status_code, 400)
        content = page_text(response)
        self.assertIn("Record 2 (line 16): DOI: A DOI looks like", content)
        self.assertNotIn('name="import"', content)
        forced = self.client.post(
            IMPORT,
            {
                "text": text,
                "format": "auto",
                "edit_summary": "x",
                "import": "1",
                "digest": "0",
            },
        )
        self.assertEqual(forced.status_code, 400)
        self.assertEqual(Citation.objects.count(), 1)

    def test_a_year_that_cannot_be_read_names_its_record(self):
        response = self.preview(RIS.replace("PY  - 1997", "PY  - sometime"))
        self.assertContains(
            response, "Record 2, line 16: cannot read a year", status_code=400
        )

    def test_the_same_reference_twice_is_refused(self):
        response = self.preview(RIS + RIS.split("\n\n")[0] + "\n")
        self.assertContains(response, "same reference as record 1", status_code=400)

    def test_a_stale_preview_is_not_imported(self):
        preview = self.preview(MEDLINE)
        self.existing.pages = "1-2"
        self.existing.save()
        response = self.confirm(preview, MEDLINE)
        self.assertContains(response, "changed since this preview", status_code=400)

    def test_non_utf8_upload_is_refused(self):
        upload = SimpleUploadedFile(
            "refs.ris", "TY  - JOUR\nTI  - Zürich\nER  - \n".encode("latin-1")
        )
        response = self.client.post(
            IMPORT,
            {"upload": upload, "format": "auto", "edit_summary": "x", "preview": "1"},
        )
        self.assertContains(response, "is not UTF-8 text", status_code=400)


class ImportRevisionTests(TestCase):
    """An updated citation reaches readers only through a reviewed revision."""

    def test_citing_monographs_get_a_pending_revision(self):
        editor = factories.EditorFactory()
        citation = factories.CitationFactory(
            key="walker2003", authors="Walker AF", pmid="14596323", title="Old title"
        )
        form = factories.MagnesiumFormFactory(summary="See [@walker2003].")
        factories.publish(form)
        published = Revision.objects.latest_for(form.pk)
        self.client.force_login(editor)
        text = RIS.split("\n\n")[0] + "\n"
        preview = self.client.post(
            IMPORT,
            {
                "text": text,
                "format": "ris",
                "edit_summary": "Corrected from PubMed",
                "preview": "1",
            },
        )
        digest = re.search(
            r'name="digest" value="([0-9a-f]+)"', preview.content.decode()
        )
        response = self.client.post(
            IMPORT,
            {
                "text": text,
                "format": "ris",
                "edit_summary": "Corrected from PubMed",
                "import": "1",
                "digest": digest.group(1),
            },
        )
        self.assertEqual(response.status_code, 302)
        latest = Revision.objects.latest_for(form.pk)
        self.assertEqual(latest.number, published.number + 1)
        self.assertIn("Corrected from PubMed", latest.summary)
        citation.refresh_from_db()
        self.assertEqual(citation.title, "Mg citrate found more bioavailable")
        # Readers still see the approved metadata.
        self.assertNotContains(
            self.client.get(form.get_absolute_url()), "Mg citrate found more"
        )


class ParserTests(TestCase):
    def test_every_format_is_recognised(self):
        for text, expected in [
            (RIS, "ris"),
            (BIBTEX, "bibtex"),
            (CSL, "csl-json"),
            (MEDLINE, "medline"),
        ]:
            with self.subTest(format=expected):
                self.assertEqual(references_parse(text)[0], expected)

    def test_medline_reads_every_field(self):
        [record] = references_parse(MEDLINE)[1]
        self.assertEqual(
            record.values,
            {
                "publication_type": "journal-article",
                "authors": "Schuette SA, Lashner BA, Janghorbani M",
                "title": "Bioavailability of magnesium diglycinate vs magnesium oxide "
                "in patients with ileal resection",
                "journal": "JPEN J Parenter Enteral Nutr",
                "year": 1994,
                "volume": "18",
                "issue": "5",
                "pages": "430-435",
                "pmid": "7815675",
                "doi": "10.1177/0148607194018005430",
            },
        )

    def test_nbib_et_al_and_pmc(self):
        text = MEDLINE.replace(
            "PT  - Journal Article", "PT  - Journal Article\nPMC - PMC1234567"
        )
        [record] = references_parse(text)[1]
        self.assertEqual(record.values["pmcid"], "PMC1234567")


class UpdateRulesTests(TestCase):
    def test_a_shorter_author_list_does_not_replace_a_longer_one(self):
        factories.CitationFactory(
            key="schuette1994", authors="Schuette SA, Lashner BA", pmid="7815675"
        )
        text = "TY  - JOUR\nAU  - Schuette, S. A.\nN1  - PMID: 7815675\nER  -\n"
        [item] = import_plan(references_parse(text)[1])
        self.assertEqual(item.action, "unchanged")
        self.assertEqual(item.citation.authors, "Schuette SA, Lashner BA")


class IncompleteCitationTests(TestCase):
    """Records without a title or authors are flagged for editors."""

    @classmethod
    def setUpTestData(cls):
        cls.bare = factories.CitationFactory(
            key="lindberg1990", authors="", title="", pmid="2407766"
        )
        cls.whole = factories.CitationFactory(key="whole2020")

    def setUp(self):
        self.client.force_login(factories.EditorFactory())

    def test_the_list_names_what_is_missing_and_filters_on_it(self):
        response = self.client.get("/admin/monographs/citation/")
        self.assertContains(response, "title, authors")
        filtered = self.client.get("/admin/monographs/citation/?complete=no")
        self.assertContains(filtered, "lindberg1990")
        self.assertNotContains(filtered, "whole2020")

    def test_the_change_page_warns(self):
        response = self.client.get(f"/admin/monographs/citation/{self.bare.pk}/change/")
        self.assertContains(response, "This citation has no title and no authors")
        response = self.client.get(
            f"/admin/monographs/citation/{self.whole.pk}/change/"
        )
        self.assertNotContains(response, "This citation has no")
