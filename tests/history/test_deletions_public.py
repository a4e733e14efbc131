"""Deletions as readers meet them: in the feeds, the history and diffs."""

from django.test import TestCase

from monographs import services
from tests import factories
from tests.history.helpers import (
    ATOM,
    approve,
    create_monograph,
    fresh,
    parse_atom,
)


class DeletionsInPublicTests(TestCase):
    """Malate: published, deleted, recovered and published, deleted again."""

    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory(first_name="Rita", last_name="R")
        cls.form = create_monograph(
            cls.reviewer, name="Magnesium malate", slug="magnesium-malate"
        )
        approve(cls.form, cls.reviewer)
        services.monograph_delete(
            form=fresh(cls.form), user=cls.reviewer, reason="Duplicate"
        )
        services.monograph_recover(form_id=cls.form.pk, user=cls.reviewer)
        approve(fresh(cls.form), cls.reviewer)
        services.monograph_delete(
            form=fresh(cls.form), user=cls.reviewer, reason="Duplicate again"
        )

    def test_each_deletion_is_its_own_feed_entry(self):
        for url in ("/changes/feed/", "/forms/magnesium-malate/history/feed/"):
            with self.subTest(url=url):
                _, entries = parse_atom(self.client.get(url))
                ids = [entry.findtext(f"{ATOM}id") for entry in entries]
                deletions = [i for i in ids if "#revision-" in i]
                self.assertEqual(len(deletions), 2, ids)
                self.assertEqual(len(set(ids)), len(ids), ids)

    def test_a_deletions_feed_link_leads_to_its_row_in_the_history(self):
        _, entries = parse_atom(self.client.get("/changes/feed/"))
        link = entries[0].find(f"{ATOM}link").get("href")
        self.assertEqual(
            link, "http://testserver/forms/magnesium-malate/history/#revision-4"
        )
        history = self.client.get("/forms/magnesium-malate/history/")
        self.assertContains(history, '<tr id="revision-4">')

    def test_a_diff_to_a_deletion_links_to_no_page_of_it(self):
        response = self.client.get("/forms/magnesium-malate/diff/?from=3&to=4")
        self.assertEqual(response.status_code, 404)  # nothing to show after it
        response = self.client.get("/forms/magnesium-malate/diff/?from=2&to=3")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "revision 2 (the deletion)")
        self.assertNotContains(response, "/forms/magnesium-malate/revisions/2/")
