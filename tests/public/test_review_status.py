"""Honest review status (issue 15): no review is claimed that no named person
made, no login name reaches readers, notes for editors and empty sections
stay off public pages and the API."""

import json

from django.test import TestCase

from monographs.exporter import monograph_markdown
from monographs.models import MagnesiumForm, Publication
from monographs.selectors import published_monographs
from monographs.services import seed_load
from tests import factories
from tests.public.helpers import forget_cached_pages, graph_nodes, page_tree

GLYCINATE = "/forms/magnesium-glycinate/"
OXIDE = "/forms/magnesium-oxide/"
API = "/api/v1/forms/magnesium-glycinate/"


def status_line(response):
    return " ".join(
        page_tree(response).find("p", class_="review-status").text().split()
    )


def edit_and_approve(reviewer, slug="magnesium-glycinate"):
    """An editor's change of the summary, approved by ``reviewer``."""
    editor = factories.EditorFactory(username="ed_login", first_name="Edna")
    from monographs.history import change_context

    form = MagnesiumForm.objects.get(slug=slug)
    with change_context(reason="Clearer summary", user=editor):
        form.summary = f"{form.summary} Reviewed."
        form.save()
    return factories.publish(form, user=reviewer)


class SeedIsNotYetReviewedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()

    def setUp(self):
        forget_cached_pages()

    def test_seeded_pages_say_not_yet_reviewed(self):
        for url in (GLYCINATE, OXIDE):
            with self.subTest(url=url):
                response = self.client.get(url)
                line = status_line(response)
                self.assertIn("Not yet reviewed.", line)
                self.assertNotIn("Last reviewed", line)
                self.assertNotContains(response, "Last reviewed")

    def test_seeded_pages_claim_no_review_in_json_ld(self):
        (page,) = graph_nodes(self.client.get(GLYCINATE), "MedicalWebPage")
        self.assertNotIn("reviewedBy", page)
        self.assertNotIn("lastReviewed", page)

    def test_the_api_claims_no_review_either(self):
        data = self.client.get(API).json()
        self.assertIsNone(data["last_reviewed"])
        self.assertIsNone(data["reviewed_by"])
        self.assertTrue(data["published_at"])

    def test_a_named_reviewers_approval_is_shown_with_their_name(self):
        reviewer = factories.ReviewerFactory(
            username="ghopper", first_name="Grace", last_name="Hopper"
        )
        edit_and_approve(reviewer)
        response = self.client.get(GLYCINATE)
        self.assertIn("Last reviewed on", status_line(response))
        self.assertIn("by Grace Hopper.", status_line(response))
        (page,) = graph_nodes(response, "MedicalWebPage")
        self.assertEqual(
            page["reviewedBy"], {"@type": "Person", "name": "Grace Hopper"}
        )
        self.assertIn("lastReviewed", page)
        self.assertEqual(self.client.get(API).json()["reviewed_by"], "Grace Hopper")
        # Pages no one has reviewed still say so.
        self.assertIn("Not yet reviewed.", status_line(self.client.get(OXIDE)))


class NoLoginNamesTests(TestCase):
    """A reviewer and an editor without a full name: readers see neither login."""

    @classmethod
    def setUpTestData(cls):
        seed_load()
        reviewer = factories.ReviewerFactory(
            username="rev_login", first_name="", last_name=""
        )
        edit_and_approve(reviewer)

    def setUp(self):
        forget_cached_pages()

    def test_no_login_name_on_public_pages_feeds_or_json_ld(self):
        urls = [
            GLYCINATE,
            "/forms/magnesium-glycinate/history/",
            "/forms/magnesium-glycinate/history/feed/",
            "/changes/",
            "/changes/feed/",
            API,
        ]
        for url in urls:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                for login in ("rev_login", "ed_login"):
                    self.assertNotContains(response, login)

    def test_an_unnamed_reviewer_is_no_person_in_json_ld(self):
        response = self.client.get(GLYCINATE)
        self.assertIn("by an mgref editor", status_line(response))
        (page,) = graph_nodes(response, "MedicalWebPage")
        self.assertNotIn("reviewedBy", page)


class EditorNotesAndEmptySectionsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()
        cls.staff = factories.EditorFactory()

    def setUp(self):
        forget_cached_pages()

    def test_notes_for_editors_never_reach_readers_the_api_or_exports(self):
        notes = MagnesiumForm.objects.get(slug="magnesium-glycinate").editor_notes
        self.assertIn("could not be identified", notes)
        for url in (GLYCINATE, API, "/search/?q=identified"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertNotContains(response, "could not be identified")
                self.assertNotContains(response, "An editor should")
                self.assertNotContains(response, "Not written yet")
        (glycinate,) = [
            m for m in published_monographs() if m.form.slug == "magnesium-glycinate"
        ]
        self.assertNotIn("could not be identified", monograph_markdown(glycinate))

    def test_staff_see_the_notes_on_the_draft_preview(self):
        self.client.force_login(self.staff)
        response = self.client.get("/forms/magnesium-glycinate/draft/")
        self.assertContains(response, "Notes for editors (never shown to readers)")
        self.assertContains(response, "could not be identified")

    def test_empty_sections_are_left_out_and_named(self):
        response = self.client.get(OXIDE)
        tree = page_tree(response)
        for anchor in ("uses", "dosing", "side-effects", "precautions", "how-it-works"):
            with self.subTest(anchor=anchor):
                self.assertIsNone(tree.by_id(anchor))
        self.assertIsNotNone(tree.by_id("interactions"))
        self.assertEqual(
            " ".join(tree.by_id("not-covered").text().split()),
            "This monograph does not yet cover: uses and evidence, dosing, side "
            "effects, precautions, how it works, frequently asked questions.",
        )
        toc = [a.attrs["href"] for a in tree.find("nav", class_="toc").find_all("a")]
        self.assertEqual(toc, ["#about", "#interactions", "#references"])

    def test_the_api_has_no_empty_sections(self):
        data = self.client.get("/api/v1/forms/magnesium-oxide/").json()
        self.assertTrue(data["sections_html"])
        for name, html in data["sections_html"].items():
            with self.subTest(section=name):
                self.assertTrue(html.strip())
        self.assertNotIn("mechanism", data["sections_html"])
        self.assertNotIn("editor_notes", json.dumps(data))

    def test_seed_publications_record_no_reviewer(self):
        for publication in Publication.objects.all():
            self.assertIsNone(publication.approved_by)
            self.assertEqual(publication.approved_by_name, "")
