"""Cite this page: the revision's permanent address and date, as text, RIS and
BibTeX; and the printed page says what was printed."""

import html
import re

import bibtexparser
import rispy
from django.test import TestCase

from monographs.history import change_context
from monographs.models import Revision
from tests import factories
from tests.public.helpers import page_tree, set_review_date

PERMALINK = "http://testserver/forms/magnesium-glycinate/revisions/{}/"


def cite_block(response):
    return page_tree(response).find("section", class_="cite-page")


PRE_RE = re.compile(r'<pre data-copy="([^"]+)">(.*?)</pre>', re.S)


def formats(response):
    """{"RIS citation": text, "BibTeX citation": text} of the cite block."""
    return {
        name: html.unescape(text)
        for name, text in PRE_RE.findall(response.content.decode())
    }


class CiteThisPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory(first_name="Rita", last_name="Review")
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        cls.first = factories.publish(cls.form, user=cls.reviewer)
        set_review_date(cls.first)
        with change_context(reason="Second", user=cls.reviewer):
            cls.form.summary = "Changed {and} 100% & more."
            cls.form.name = "Magnesium glycinate {chelate} & co_1"
            cls.form.save()
        cls.second = factories.publish(cls.form, user=cls.reviewer)

    def setUp(self):
        self.first_page = self.client.get("/forms/magnesium-glycinate/revisions/1/")

    def test_text_names_the_revision_its_permanent_address_and_date(self):
        block = cite_block(self.first_page)
        self.assertIsNotNone(block)
        self.assertEqual(block.find("h2").text(), "Cite this page")
        # Approved: cited by its approval's date, as the published page that
        # linked here cited it.
        self.assertEqual(
            block.find("p", class_="cite-text").text(),
            "mgref. Magnesium glycinate [Internet]. mgref; 2024 "
            "[revision 1, published 2024 Mar 5]. "
            f"Available from: {PERMALINK.format(1)}",
        )

    def test_a_permalink_cites_as_the_published_page_citing_it_did(self):
        set_review_date(self.second)
        published = cite_block(self.client.get("/forms/magnesium-glycinate/"))
        permalink = cite_block(
            self.client.get("/forms/magnesium-glycinate/revisions/2/")
        )
        self.assertEqual(
            published.find("p", class_="cite-text").text(),
            permalink.find("p", class_="cite-text").text(),
        )

    def test_staff_see_an_approved_revision_cited_as_readers_do(self):
        self.client.force_login(self.reviewer)
        block = cite_block(self.client.get("/forms/magnesium-glycinate/revisions/1/"))
        self.assertIn(
            "[revision 1, published 2024 Mar 5]",
            block.find("p", class_="cite-text").text(),
        )

    def test_a_draft_is_cited_by_the_date_it_was_saved(self):
        with change_context(reason="Third", user=self.reviewer):
            self.form.summary = "Not approved yet."
            self.form.save()
        self.client.force_login(self.reviewer)
        block = cite_block(self.client.get("/forms/magnesium-glycinate/revisions/3/"))
        saved = Revision.objects.get(form_id=self.form.pk, number=3).created_at
        self.assertIn(
            f"[revision 3, saved {saved.year} {saved:%b} {saved.day}]",
            block.find("p", class_="cite-text").text(),
        )

    def test_the_published_page_cites_its_published_revision_and_approval(self):
        set_review_date(self.second)
        response = self.client.get("/forms/magnesium-glycinate/")
        text = cite_block(response).find("p", class_="cite-text").text()
        self.assertIn("2024 [revision 2, published 2024 Mar 5]", text)
        self.assertIn(PERMALINK.format(2), text)
        self.assertNotIn(
            "Available from: http://testserver/forms/magnesium-glycinate/.", text
        )

    def test_ris_reads_back_with_rispy(self):
        response = self.client.get("/forms/magnesium-glycinate/")
        (entry,) = rispy.loads(formats(response)["RIS citation"])
        self.assertEqual(entry["type_of_reference"], "ELEC")
        self.assertEqual(entry["title"], "Magnesium glycinate {chelate} & co_1")
        self.assertEqual(entry["urls"], [PERMALINK.format(2)])
        self.assertEqual(entry["edition"], "Revision 2")
        self.assertEqual(entry["publisher"], "mgref")

    def test_bibtex_reads_back_with_bibtexparser(self):
        response = self.client.get("/forms/magnesium-glycinate/")
        library = bibtexparser.parse_string(formats(response)["BibTeX citation"])
        self.assertEqual(library.failed_blocks, [])
        (entry,) = library.entries
        self.assertEqual(entry.entry_type, "online")
        self.assertEqual(entry["url"], PERMALINK.format(2))
        self.assertEqual(entry["version"], "2")
        # TeX's special characters are escaped, braces balanced.
        self.assertEqual(entry["title"], r"Magnesium glycinate \{chelate\} \& co\_1")

    def test_the_older_revisions_citation_keeps_its_own_address(self):
        (entry,) = rispy.loads(formats(self.first_page)["RIS citation"])
        self.assertEqual(entry["date"], "2024/03/05")
        self.assertEqual(entry["urls"], [PERMALINK.format(1)])

    def test_export_formats_need_no_script(self):
        block = cite_block(self.first_page)
        self.assertEqual(
            [summary.text() for summary in block.find_all("summary")],
            ["RIS (Zotero, EndNote, Mendeley)", "BibTeX (biblatex)"],
        )
        self.assertNotIn("style=", self.first_page.content.decode())

    def test_the_printed_page_says_what_was_printed(self):
        source = page_tree(self.first_page).find("div", class_="print-source")
        self.assertIn("print-only", source.attrs["class"])
        self.assertIn(PERMALINK.format(1), source.text())
        self.assertIn("revision 1", source.text())
        self.assertIn("published 5 March 2024", source.text())

    def test_the_print_stylesheet_is_linked_for_print_only(self):
        self.assertContains(
            self.first_page,
            '<link rel="stylesheet" href="/static/css/print.css" media="print">',
        )
