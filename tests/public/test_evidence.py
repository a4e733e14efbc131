"""The seed's evidence as readers see it: studies, computed summaries, GRADE
words, mgref's own rating, and indirect evidence kept apart (issue 15)."""

from django.test import TestCase

from monographs.models import MagnesiumForm
from monographs.services import seed_load
from tests import factories
from tests.public.helpers import forget_cached_pages, page_tree

GLYCINATE = "/forms/magnesium-glycinate/"


def words(node):
    return " ".join(node.text().split())


class SeedEvidencePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()

    def setUp(self):
        forget_cached_pages()
        self.tree = page_tree(self.client.get(GLYCINATE))

    def use(self, slug):
        node = self.tree.by_id(f"evidence-{slug}")
        self.assertIsNotNone(node, slug)
        return node

    def test_each_use_is_worded_as_grade_says_for_its_level(self):
        self.assertIn(
            "Magnesium glycinate may improve sleep quality. Certainty: low",
            words(self.use("sleep-quality")),
        )
        self.assertIn(
            "The evidence is very uncertain about the effect of Magnesium glycinate "
            "on fractional absorption of magnesium. Certainty: very low",
            words(self.use("hypomagnesemia")),
        )
        self.assertNotIn("Improves", words(self.tree.by_id("uses")))

    def test_the_page_says_the_rating_is_mgrefs_own_and_shows_its_work(self):
        uses = words(self.tree.by_id("uses"))
        self.assertIn("mgref’s own rating", uses)
        sleep = words(self.use("sleep-quality"))
        self.assertIn("Not yet attributed to a named rater.", sleep)
        self.assertIn("Risk of bias (1 level):", sleep)
        self.assertIn("Indirectness (1 level): No study used glycinate.", sleep)

    def test_sleep_findings_are_computed_from_its_studies(self):
        table = self.use("sleep-quality").find("table")
        rows = {
            words(row.find("th")): [words(cell) for cell in row.find_all("td")]
            for row in table.find("tbody").find_all("tr")
        }
        self.assertEqual(
            rows["Self-reported sleep quality"][0],
            "5 of 8 studies found an improvement",
        )
        latency = rows["Sleep onset latency"]
        self.assertEqual(latency[1], "151")
        self.assertEqual(
            latency[2], "-17.36 minutes (mean difference) (-27.27 to -7.44), Mah 2021"
        )
        self.assertEqual(
            latency[3], "Studies of other salts or of magnesium in general"
        )

    def test_hypomagnesemia_is_about_absorption_in_a_trial_of_this_form(self):
        use = words(self.use("hypomagnesemia"))
        self.assertIn("Fractional absorption of magnesium", use)
        self.assertIn("Studies of this form", use)
        self.assertIn("0 of 1 study found an improvement", use)
        self.assertIn("did not measure the correction of deficiency", use)
        self.assertNotIn("Improves", use)

    def test_each_study_says_whether_it_tested_this_form(self):
        studies = self.tree.find_all("li", class_="study")
        tags = {words(study.find("p")).split(":")[0]: words(study) for study in studies}
        self.assertIn("this form", tags["Schuette 1994"])
        self.assertIn("indirect evidence", tags["Mah 2021"])
        self.assertIn("indirect evidence", tags["Rawji 2024"])

    def test_study_citations_are_numbered_references(self):
        references = words(self.tree.by_id("references"))
        self.assertIn("Mah J, Pitre T.", references)
        self.assertIn("33865376", references)


class IndicationCreditTests(TestCase):
    """An indirect study is never credited to a form on the use's page."""

    @classmethod
    def setUpTestData(cls):
        seed_load()
        # Oxide gains its own study of sleep: direct evidence for oxide, and
        # still indirect for glycinate.
        oxide = MagnesiumForm.objects.get(slug="magnesium-oxide")
        sleep = MagnesiumForm.objects.get(slug="magnesium-glycinate").evidence.get(
            indication__slug="sleep-quality"
        )
        reviewer = factories.ReviewerFactory(first_name="Grace", last_name="Hopper")
        use = factories.EvidenceFactory(form=oxide, indication=sleep.indication)
        factories.StudyFactory(
            evidence=use, name="Oxide trial", salt="oxide", participants=30
        )
        factories.publish(oxide, user=reviewer)

    def setUp(self):
        forget_cached_pages()
        self.tree = page_tree(self.client.get("/indications/sleep-quality/"))

    def rows(self, table):
        return {
            words(row.find("th")): [words(cell) for cell in row.find_all("td")]
            for row in table.find("tbody").find_all("tr")
        }

    def test_each_form_is_credited_only_with_its_own_salts_studies(self):
        rows = self.rows(self.tree.find("table", class_="indication-evidence"))
        self.assertEqual(rows["Magnesium glycinate"][2], "None: indirect evidence only")
        self.assertEqual(
            rows["Magnesium oxide"][2],
            "Sleep quality: 1 of 1 study found an improvement, 30 participants",
        )

    def test_indirect_evidence_is_listed_apart_and_labelled(self):
        section = self.tree.by_id("indirect-evidence")
        self.assertIn("not counted for the forms that cite them", words(section))
        rows = [
            [words(cell) for cell in row.children if not isinstance(cell, str)]
            for row in section.find("tbody").find_all("tr")
        ]
        self.assertEqual(
            [(row[0].split("Systematic")[0], row[1].split(" (")[0]) for row in rows],
            [
                ("Mah 2021", "Oral magnesium, salt not stated"),
                ("Mah 2021", "Oral magnesium, salt not stated"),
                ("Rawji 2024", "Several salts"),
            ],
        )
        for row in rows:
            self.assertEqual(row[3], "Magnesium glycinate")
        self.assertNotIn("Oxide trial", words(section))
