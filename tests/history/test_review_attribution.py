"""Readers are told who reviewed a revision, and that no one did when no one did.

The seed, and an import run without a reviewer, publish content that no
person reviewed: nothing public may call it approved by a reviewer. A review
step keeps the name of the person who took it, even once their account goes.
"""

from django.test import TestCase

from monographs.models import ReviewEvent
from tests import factories
from tests.history.helpers import (
    ATOM,
    approve,
    create_monograph,
    edit,
    page_text,
    parse_atom,
)

GLYCINATE = "/forms/magnesium-glycinate"


class UnreviewedPublicationTests(TestCase):
    """Revision 1 published by no person (as the seed is), revision 2 by Rita."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory(
            first_name="Rita", last_name="Reviewer"
        )
        cls.form = create_monograph(
            None, name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        approve(cls.form, None)
        edit(cls.form, cls.editor, "Clarified dosing", dosage_notes="Take with food.")

    def test_history_and_changes_say_no_one_reviewed_it(self):
        for url in (f"{GLYCINATE}/history/", "/changes/"):
            with self.subTest(url=url):
                text = page_text(self.client.get(url))
                self.assertIn("Published without review", text)
                self.assertNotIn("Approved by", text)

    def test_the_permalink_says_no_one_reviewed_it(self):
        text = page_text(self.client.get(f"{GLYCINATE}/revisions/1/"))
        self.assertIn("Published without review by a person on", text)
        self.assertNotIn("Approved by", text)

    def test_the_feeds_say_no_one_reviewed_it(self):
        for url in ("/changes/feed/", f"{GLYCINATE}/history/feed/"):
            with self.subTest(url=url):
                _, entries = parse_atom(self.client.get(url))
                self.assertEqual(
                    entries[0].findtext(f"{ATOM}summary"),
                    "Wrote the monograph — published without review by a person",
                )

    def test_the_monograph_page_says_it_is_not_yet_reviewed(self):
        text = page_text(self.client.get(f"{GLYCINATE}/"))
        self.assertIn("Not yet reviewed.", text)
        self.assertNotIn("Last reviewed", text)

    def test_a_reviewers_approval_is_named_everywhere(self):
        approve(self.form, self.reviewer)
        history = page_text(self.client.get(f"{GLYCINATE}/history/"))
        self.assertIn("Approved by Rita Reviewer", history)
        self.assertIn("Published without review", history)  # revision 1 still
        permalink = page_text(self.client.get(f"{GLYCINATE}/revisions/2/"))
        self.assertIn("Approved by Rita Reviewer on", permalink)
        page = page_text(self.client.get(f"{GLYCINATE}/"))
        self.assertIn("by Rita Reviewer", page)

    def test_a_step_keeps_its_name_once_the_account_is_deleted(self):
        approve(self.form, self.reviewer)
        self.reviewer.delete()
        event = ReviewEvent.objects.get(action="approved", revision__number=2)
        self.assertIsNone(event.user)
        self.assertEqual(event.user_name, "Rita Reviewer")
        self.assertTrue(event.by_person)
        history = page_text(self.client.get(f"{GLYCINATE}/history/"))
        self.assertIn("Approved by Rita Reviewer", history)

    def test_staff_pages_name_no_one_as_the_seed_or_an_import(self):
        event = ReviewEvent.objects.get(action="approved", revision__number=1)
        self.assertEqual(event.user_name, "")
        self.assertFalse(event.by_person)
        self.assertEqual(event.actor, "no one (seed or import)")
