"""A page that shows what it lacks: no empty sections, one line naming what
the monograph does not cover yet, and never "no side effects" beside a note
that the form upsets the gut."""

import re

from django.test import TestCase

from tests import factories
from tests.public.helpers import page_tree

NONE_RECORDED = re.compile(r"no side effects|none recorded|no known side", re.I)


class SparseMonographTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.oxide = factories.MagnesiumFormFactory(
            name="Magnesium oxide",
            slug="magnesium-oxide",
            tolerability_notes="Commonly linked to diarrhea.",
        )
        cls.citrate = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate"
        )
        factories.FormSideEffectFactory(form=cls.citrate)
        for form in (cls.oxide, cls.citrate):
            factories.publish(form)

    def test_no_page_says_none_recorded_beside_a_gut_warning(self):
        for path in (
            "/forms/magnesium-oxide/",
            "/forms/",
            "/forms/compare/?forms=magnesium-oxide&forms=magnesium-citrate",
        ):
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, "Commonly linked to diarrhea")
                self.assertIsNone(
                    NONE_RECORDED.search(page_tree(response).text()),
                    "the page claims no side effects are recorded",
                )

    def test_one_line_names_what_is_not_covered_and_no_section_is_empty(self):
        tree = page_tree(self.client.get("/forms/magnesium-oxide/"))
        line = tree.find("p", class_="not-covered")
        self.assertIsNotNone(line)
        self.assertIn("side effects", line.text())
        headings = [h.text() for h in tree.find("article").find_all("h2")]
        self.assertNotIn("Side effects", headings)
        self.assertNotIn("Dosing", headings)

    def test_compare_says_not_yet_covered(self):
        response = self.client.get(
            "/forms/compare/?forms=magnesium-oxide&forms=magnesium-citrate"
        )
        table = page_tree(response).find("table", class_="compare")
        row = next(
            row
            for row in table.find("tbody").find_all("tr")
            if row.find("th").text() == "Common side effects"
        )
        self.assertEqual(row.find_all("td")[0].text(), "Not yet covered")
