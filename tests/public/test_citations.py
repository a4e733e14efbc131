import json

from django.test import TestCase

from monographs.models import Citation
from tests import factories
from tests.public.helpers import (
    edit,
    forget_cached_pages,
    page_tree,
    parse_bibtex,
    parse_ris,
)
from tests.public.test_monograph_page import build_glycinate

GLYCINATE_KEYS = ["smith2019", "abbasi2012", "held2002", "tetra2010"]
EXPORTS = {
    "ris": "/citations/export.ris",
    "bibtex": "/citations/export.bib",
    "csl": "/citations/export.json",
}


def ris_ids(response):
    return [record["ID"][0] for record in parse_ris(response.content.decode())]


def bibtex_keys(response):
    return [key for _, key, _ in parse_bibtex(response.content.decode())]


def csl_ids(response):
    return [item["id"] for item in json.loads(response.content)]


KEY_READERS = {"ris": ris_ids, "bibtex": bibtex_keys, "csl": csl_ids}


class CitationFixtureMixin:
    @classmethod
    def setUpTestData(cls):
        cls.form, cls.reviewer, cls.citations = build_glycinate()
        cls.report = factories.CitationFactory(
            key="ods2022",
            authors="",
            group_author="NIH Office of Dietary Supplements",
            title="Magnesium fact sheet for health professionals",
            journal="",
            volume="",
            issue="",
            pages="",
            pmid="",
            doi="",
            url="https://ods.od.nih.gov/factsheets/Magnesium-HealthProfessional/",
            publication_type=Citation.PublicationType.WEB_PAGE,
            year=2022,
        )
        cls.special = factories.CitationFactory(
            key="special2021",
            authors="O'Brien C, García-López M, et al.",
            title="Zinc & magnesium: 50% of {adults} lack_both #1 ~ $5",
        )
        # Cited only by a monograph that was never published.
        cls.hidden = factories.CitationFactory(
            key="hidden2023", title="Cited by a draft monograph only"
        )
        draft = factories.MagnesiumFormFactory(
            name="Magnesium draftate", slug="magnesium-draftate"
        )
        factories.EvidenceFactory(form=draft).citations.add(cls.hidden)
        cls.draft = draft
        # The bibliography lists what published pages cite: another page
        # cites the report and the awkward record.
        citing = factories.MagnesiumFormFactory(
            name="Magnesium citrate",
            slug="magnesium-citrate",
            summary="See [@ods2022] and [@special2021].",
        )
        factories.publish(citing, user=cls.reviewer)


class BibliographyTests(CitationFixtureMixin, TestCase):
    def setUp(self):
        self.response = self.client.get("/citations/")
        self.tree = page_tree(self.response)

    def item(self, citation):
        return self.tree.by_id(f"citation-{citation.pk}")

    def test_lists_every_citation_in_vancouver_style(self):
        self.assertEqual(self.response.status_code, 200)
        self.assertIn(
            "Smith A, Jones B. Magnesium and sleep. Sleep Med. 2019;12(3):100-110.",
            self.item(self.citations["smith"]).text(),
        )
        self.assertIn(
            "NIH Office of Dietary Supplements.",
            self.item(self.report).text(),
        )

    def test_shows_where_each_citation_is_used(self):
        # Attached to an evidence row and to an interaction.
        for name in ["held", "tetra"]:
            with self.subTest(citation=name):
                item = self.item(self.citations[name])
                self.assertIn("Cited on Magnesium glycinate", item.text())
                self.assertIsNotNone(
                    item.find("a", href="/forms/magnesium-glycinate/#references")
                )

    def test_citation_cited_only_in_the_text_is_shown_as_used(self):
        # Both are cited as [@key] in the published text, not attached to a row,
        # and both are numbered in the page's reference list.
        for name in ["smith", "abbasi"]:
            with self.subTest(citation=name):
                item = self.item(self.citations[name])
                self.assertIn("Cited on Magnesium glycinate", item.text())

    def test_unpublished_pages_are_not_shown_as_users(self):
        # Cited only by a draft: not in the bibliography at all.
        self.assertIsNone(self.item(self.hidden))
        self.assertNotContains(self.response, "Magnesium draftate")
        self.assertNotContains(self.response, "/forms/magnesium-draftate/")

    def test_a_draft_citation_is_not_shown_as_used(self):
        editor = factories.EditorFactory()
        evidence = self.form.evidence.get(indication__slug="muscle-cramps")
        with edit(editor):
            evidence.citations.add(self.special)
        forget_cached_pages()
        response = self.client.get("/citations/")
        item = page_tree(response).by_id(f"citation-{self.special.pk}")
        self.assertIn("Cited on Magnesium citrate", item.text())
        self.assertNotIn("Magnesium glycinate", item.text())

    def test_links_the_exports(self):
        for url in EXPORTS.values():
            with self.subTest(url=url):
                self.assertIsNotNone(self.tree.find("a", href=url))

    def test_editor_notes_are_not_shown(self):
        Citation.objects.filter(pk=self.report.pk).update(
            note="EDITOR ONLY: check the year"
        )
        forget_cached_pages()
        for url in ["/citations/", f"/citations/{self.report.pk}/", URL_FORM]:
            with self.subTest(url=url):
                self.assertNotContains(self.client.get(url), "EDITOR ONLY")
        for url in EXPORTS.values():
            with self.subTest(url=url):
                self.assertNotIn(b"EDITOR ONLY", self.client.get(url).content)


URL_FORM = "/forms/magnesium-glycinate/"


class CitationDetailTests(CitationFixtureMixin, TestCase):
    def test_shows_the_citation_and_where_it_is_cited(self):
        held = self.citations["held"]
        response = self.client.get(f"/citations/{held.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Oxide and sleep EEG")
        self.assertContains(response, f"https://doi.org/{held.doi}")
        self.assertContains(response, 'href="/forms/magnesium-glycinate/#references"')

    def test_both_pages_have_a_breadcrumb_trail(self):
        held = self.citations["held"]
        listing = self.client.get("/citations/")
        self.assertContains(listing, 'aria-label="Breadcrumb"')
        self.assertContains(
            listing, '<a href="/citations/" aria-current="page">References</a>'
        )
        page = self.client.get(f"/citations/{held.pk}/")
        self.assertContains(page, '<a href="/citations/">References</a>')
        self.assertContains(
            page,
            f'<a href="/citations/{held.pk}/" aria-current="page">'
            "Oxide and sleep EEG</a>",
        )

    def test_identifier_links(self):
        response = self.client.get(f"/citations/{self.citations['smith'].pk}/")
        self.assertContains(response, "https://pubmed.ncbi.nlm.nih.gov/31000001/")
        self.assertContains(
            response, "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC6000001/"
        )
        self.assertContains(response, "https://doi.org/10.1016/j.sleep.2019.001")

    def test_citation_cited_only_in_the_text_shows_its_page(self):
        response = self.client.get(f"/citations/{self.citations['smith'].pk}/")
        self.assertContains(response, 'href="/forms/magnesium-glycinate/#references"')

    def test_citation_used_only_by_a_draft_has_no_page(self):
        response = self.client.get(f"/citations/{self.hidden.pk}/")
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, "Magnesium draftate", status_code=404)

    def test_unknown_citation_is_a_404(self):
        self.assertEqual(self.client.get("/citations/999999/").status_code, 404)


class RisExportTests(CitationFixtureMixin, TestCase):
    def test_all_citations_parse_as_records(self):
        response = self.client.get("/citations/export.ris")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(
            response["Content-Type"].startswith("application/x-research-info-systems")
        )
        records = parse_ris(response.content.decode())
        self.assertEqual(
            sorted(record["ID"][0] for record in records),
            sorted(
                Citation.objects.exclude(pk=self.hidden.pk).values_list(
                    "key", flat=True
                )
            ),
        )

    def test_record_fields(self):
        records = {
            record["ID"][0]: record
            for record in parse_ris(
                self.client.get("/citations/export.ris").content.decode()
            )
        }
        smith = records["smith2019"]
        self.assertEqual(smith["TY"], ["JOUR"])
        self.assertEqual(smith["AU"], ["Smith, A.", "Jones, B."])
        self.assertEqual(smith["TI"], ["Magnesium and sleep"])
        self.assertEqual(smith["JO"], ["Sleep Med"])
        self.assertEqual(smith["PY"], ["2019"])
        self.assertEqual(smith["VL"], ["12"])
        self.assertEqual(smith["IS"], ["3"])
        self.assertEqual(smith["SP"], ["100"])
        self.assertEqual(smith["EP"], ["110"])
        self.assertEqual(smith["DO"], ["10.1016/j.sleep.2019.001"])
        self.assertEqual(smith["M2"], ["PMID: 31000001", "PMCID: PMC6000001"])
        self.assertEqual(smith["C2"], ["PMC6000001"])
        report = records["ods2022"]
        self.assertEqual(report["TY"], ["ELEC"])
        self.assertEqual(report["AU"], ["NIH Office of Dietary Supplements"])
        self.assertEqual(
            report["UR"],
            ["https://ods.od.nih.gov/factsheets/Magnesium-HealthProfessional/"],
        )
        special = records["special2021"]
        self.assertEqual(special["AU"], ["O'Brien, C.", "García-López, M.", "et al."])

    def test_one_form_in_page_order(self):
        response = self.client.get("/citations/export.ris?form=magnesium-glycinate")
        self.assertEqual(ris_ids(response), GLYCINATE_KEYS)
        self.assertIn("mgref-magnesium-glycinate.ris", response["Content-Disposition"])


class BibtexExportTests(CitationFixtureMixin, TestCase):
    def entries(self, url="/citations/export.bib"):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("application/x-bibtex"))
        return {
            key: (kind, fields)
            for kind, key, fields in parse_bibtex(response.content.decode())
        }

    def test_all_citations_parse_as_entries(self):
        self.assertEqual(
            sorted(self.entries()),
            sorted(
                Citation.objects.exclude(pk=self.hidden.pk).values_list(
                    "key", flat=True
                )
            ),
        )

    def test_entry_fields(self):
        entries = self.entries()
        kind, smith = entries["smith2019"]
        self.assertEqual(kind, "article")
        self.assertEqual(smith["author"], "Smith, A. and Jones, B.")
        self.assertEqual(smith["title"], "Magnesium and sleep")
        self.assertEqual(smith["journal"], "Sleep Med")
        self.assertEqual(smith["year"], "2019")
        self.assertEqual(smith["pages"], "100--110")
        self.assertEqual(smith["doi"], "10.1016/j.sleep.2019.001")
        self.assertEqual(smith["pmid"], "31000001")
        kind, report = entries["ods2022"]
        self.assertEqual(kind, "online")
        self.assertEqual(report["author"], "{NIH Office of Dietary Supplements}")

    def test_special_characters_are_escaped(self):
        _, special = self.entries()["special2021"]
        self.assertEqual(
            special["title"],
            r"Zinc \& magnesium: 50\% of \{adults\} lack\_both \#1 \~{} \$5",
        )
        self.assertEqual(
            special["author"], "O'Brien, C. and García-López, M. and others"
        )

    def test_one_form_in_page_order(self):
        response = self.client.get("/citations/export.bib?form=magnesium-glycinate")
        self.assertEqual(bibtex_keys(response), GLYCINATE_KEYS)


class CslJsonExportTests(CitationFixtureMixin, TestCase):
    def items(self, url="/citations/export.json"):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/json")
        data = json.loads(response.content)
        self.assertIsInstance(data, list)
        return data

    def test_a_list_of_items_with_type_and_id(self):
        items = self.items()
        for item in items:
            with self.subTest(item=item.get("id")):
                self.assertIsInstance(item, dict)
                self.assertTrue(item["id"])
                self.assertIn(item["type"], {"article-journal", "report", "webpage"})
        self.assertEqual(
            sorted(item["id"] for item in items),
            sorted(
                Citation.objects.exclude(pk=self.hidden.pk).values_list(
                    "key", flat=True
                )
            ),
        )

    def test_item_fields(self):
        items = {item["id"]: item for item in self.items()}
        smith = items["smith2019"]
        self.assertEqual(smith["type"], "article-journal")
        self.assertEqual(
            smith["author"],
            [{"family": "Smith", "given": "A."}, {"family": "Jones", "given": "B."}],
        )
        self.assertEqual(smith["title"], "Magnesium and sleep")
        self.assertEqual(smith["container-title"], "Sleep Med")
        self.assertEqual(smith["issued"], {"date-parts": [[2019]]})
        self.assertEqual(smith["DOI"], "10.1016/j.sleep.2019.001")
        self.assertEqual(smith["PMID"], "31000001")
        self.assertEqual(smith["PMCID"], "PMC6000001")
        report = items["ods2022"]
        self.assertEqual(report["type"], "webpage")
        self.assertEqual(
            report["author"], [{"literal": "NIH Office of Dietary Supplements"}]
        )
        self.assertEqual(items["special2021"]["title"], self.special.title)

    def test_one_form_in_page_order(self):
        items = self.items("/citations/export.json?form=magnesium-glycinate")
        self.assertEqual([item["id"] for item in items], GLYCINATE_KEYS)


class ExportFilterTests(CitationFixtureMixin, TestCase):
    def test_unknown_form_is_a_404(self):
        for name, url in EXPORTS.items():
            for slug in ["magnesium-unobtainium", "", "NOT A SLUG", "../../etc"]:
                with self.subTest(export=name, slug=slug):
                    response = self.client.get(url, {"form": slug})
                    self.assertEqual(response.status_code, 404)

    def test_never_published_form_is_a_404(self):
        for name, url in EXPORTS.items():
            with self.subTest(export=name):
                response = self.client.get(url, {"form": "magnesium-draftate"})
                self.assertEqual(response.status_code, 404)
                self.assertNotIn(b"hidden2023", response.content)

    def test_synonym_slug_is_not_a_form(self):
        for name, url in EXPORTS.items():
            with self.subTest(export=name):
                response = self.client.get(url, {"form": "magnesium-bisglycinate"})
                self.assertIn(response.status_code, {301, 302, 404})

    def test_form_export_leaves_out_citations_only_added_in_a_draft(self):
        editor = factories.EditorFactory()
        evidence = self.form.evidence.get(indication__slug="muscle-cramps")
        with edit(editor):
            evidence.citations.add(self.special)
        for name, url in EXPORTS.items():
            with self.subTest(export=name):
                response = self.client.get(url, {"form": "magnesium-glycinate"})
                self.assertEqual(KEY_READERS[name](response), GLYCINATE_KEYS)

    def test_post_is_not_allowed(self):
        for name, url in EXPORTS.items():
            with self.subTest(export=name):
                self.assertEqual(self.client.post(url).status_code, 405)


class StaffOnlyCitationTests(TestCase):
    """A citation only editors' notes cite is no reference of the published
    monograph: readers find it nowhere, though the document keeps it for
    the staff's preview."""

    @classmethod
    def setUpTestData(cls):
        cls.form, cls.reviewer, cls.citations = build_glycinate()
        cls.secret = factories.CitationFactory(
            key="secretref2024", title="Under retraction review"
        )
        with edit(factories.EditorFactory()):
            cls.form.editor_notes = "Do not cite yet: [@secretref2024]."
            cls.form.save()
        factories.publish(cls.form, user=cls.reviewer)
        assert "secretref2024" in {
            citation["key"]
            for citation in cls.form.published_revision.document["citations"].values()
        }

    def test_the_citation_lists_pages_exports_and_sitemap_leave_it_out(self):
        held = self.citations["held"]
        pages = {
            "/citations/": f"/citations/{held.pk}/",
            "/sitemap-citations.xml": f"/citations/{held.pk}/",
            **dict.fromkeys(EXPORTS.values(), held.key),
        }
        for url, expected in pages.items():
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertIn(expected, response.content.decode())
                self.assertNotIn("secretref2024", response.content.decode())
                self.assertNotIn("Under retraction review", response.content.decode())
        response = self.client.get(f"/citations/{self.secret.pk}/")
        self.assertEqual(response.status_code, 404)

    def test_a_correction_of_it_is_not_in_the_public_diff(self):
        editor = factories.EditorFactory()
        with edit(editor):
            self.secret.title = "Retracted"
            self.secret.save()
        with edit(editor):
            self.form.summary = f"{self.form.summary} Revised."
            self.form.save()
        older = self.form.published_revision.number
        factories.publish(self.form, user=self.reviewer)
        newer = self.form.published_revision.number
        response = self.client.get(
            f"/forms/magnesium-glycinate/diff/?from={older}&to={newer}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Revised.")
        self.assertNotContains(response, "secretref2024")
        self.assertNotContains(response, "Retracted")
