"""Recent changes across the site, and the Atom feeds of published revisions."""

import re
from datetime import datetime, timedelta

from django.test import TestCase

from tests import factories
from tests.history.helpers import (
    ATOM,
    approve,
    create_monograph,
    edit,
    parse_atom,
    revision,
    shows_time,
    text_of,
)

CHANGE_ROW_RE = re.compile(r"<tr>(.*?)</tr>", re.S)
CHANGE_RE = re.compile(
    r'<th scope="row"><a href="/forms/([^/]+)/revisions/(\d+)/">\d+</a></th>'
)


class ChangesFixture:
    """Glycinate: 1 and 2 approved, 3 pending. Citrate: 1 approved. Orotate: never published."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory(
            first_name="Rita", last_name="Reviewer"
        )
        cls.glycinate = create_monograph(
            cls.editor,
            reason="Wrote glycinate",
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
        )
        approve(cls.glycinate, cls.reviewer)
        cls.citrate = create_monograph(
            cls.editor,
            reason="Wrote citrate",
            name="Magnesium citrate",
            slug="magnesium-citrate",
        )
        approve(cls.citrate, cls.reviewer)
        edit(cls.glycinate, cls.editor, "Clarified glycinate dosing", summary="Two.")
        approve(cls.glycinate, cls.reviewer)
        edit(cls.glycinate, cls.editor, "Unreviewed glycinate edit", summary="Three.")
        cls.orotate = create_monograph(
            cls.editor,
            reason="Started orotate",
            name="Magnesium orotate",
            slug="magnesium-orotate",
        )

    def listed(self, response):
        """[(form slug, revision number)] in the order the page lists them."""
        return [
            (slug, int(number))
            for slug, number in CHANGE_RE.findall(response.content.decode())
        ]


class RecentChangesTests(ChangesFixture, TestCase):
    def test_readers_see_published_revisions_of_every_form_newest_first(self):
        response = self.client.get("/changes/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            self.listed(response),
            [
                ("magnesium-glycinate", 2),
                ("magnesium-citrate", 1),
                ("magnesium-glycinate", 1),
            ],
        )
        self.assertNotContains(response, "Unreviewed glycinate edit")
        self.assertNotContains(response, "orotate")

    def test_rows_give_author_summary_and_approval(self):
        response = self.client.get("/changes/")
        text = text_of(response.content.decode())
        self.assertIn("Erin Editor", text)
        self.assertIn("Clarified glycinate dosing", text)
        self.assertIn("Approved by Rita Reviewer", text)
        saved = revision(self.glycinate, 2).created_at
        rows = [
            row
            for row in CHANGE_ROW_RE.findall(response.content.decode())
            if "/revisions/" in row
        ]
        self.assertIn("magnesium-glycinate/revisions/2/", rows[0])
        self.assertTrue(shows_time(rows[0], saved), rows[0])

    def test_staff_see_every_revision(self):
        self.client.force_login(self.editor)
        response = self.client.get("/changes/")
        self.assertEqual(
            self.listed(response),
            [
                ("magnesium-orotate", 1),
                ("magnesium-glycinate", 3),
                ("magnesium-glycinate", 2),
                ("magnesium-citrate", 1),
                ("magnesium-glycinate", 1),
            ],
        )
        self.assertContains(response, "Pending review")

    def test_filter_by_form(self):
        response = self.client.get("/changes/", {"form": "magnesium-glycinate"})
        self.assertEqual(
            self.listed(response),
            [("magnesium-glycinate", 2), ("magnesium-glycinate", 1)],
        )
        self.assertContains(response, "Recent changes to Magnesium glycinate")
        self.assertContains(
            response, '<option value="magnesium-glycinate" selected>', html=False
        )

    def test_filter_by_an_unknown_form_is_404(self):
        response = self.client.get("/changes/", {"form": "no-such-form"})
        self.assertEqual(response.status_code, 404)

    def test_filter_by_a_never_published_form_is_404_for_readers_only(self):
        response = self.client.get("/changes/", {"form": "magnesium-orotate"})
        self.assertEqual(response.status_code, 404)
        self.client.force_login(self.editor)
        response = self.client.get("/changes/", {"form": "magnesium-orotate"})
        self.assertEqual(self.listed(response), [("magnesium-orotate", 1)])

    def test_readers_cannot_pick_a_never_published_form(self):
        response = self.client.get("/changes/")
        self.assertNotContains(response, 'value="magnesium-orotate"')
        self.assertContains(response, 'value="magnesium-citrate"')

    def test_links_to_the_site_feed(self):
        response = self.client.get("/changes/")
        self.assertContains(response, 'type="application/atom+xml"')
        self.assertContains(response, 'href="/changes/feed/"')

    def test_a_bad_page_is_404(self):
        for page in ["2", "0", "x"]:
            with self.subTest(page=page):
                response = self.client.get("/changes/", {"page": page})
                self.assertEqual(response.status_code, 404)

    def test_a_page_number_in_superscript_digits_is_404(self):
        # "²".isdigit() is True, but int("²") raises ValueError.
        response = self.client.get("/changes/", {"page": "²"})
        self.assertEqual(response.status_code, 404)


class FeedTests(ChangesFixture, TestCase):
    def entries(self, url, client=None):
        response = (client or self.client).get(url)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("application/atom+xml"))
        root, entries = parse_atom(response)
        self.assertEqual(root.tag, f"{ATOM}feed")
        for name in ("id", "title", "updated"):
            self.assertIsNotNone(root.find(f"{ATOM}{name}"), name)
        return root, entries

    def test_site_feed_is_atom_listing_published_revisions_only(self):
        _, entries = self.entries("/changes/feed/")
        titles = [entry.findtext(f"{ATOM}title") for entry in entries]
        self.assertEqual(
            titles,
            [
                "Magnesium glycinate, revision 2",
                "Magnesium citrate, revision 1",
                "Magnesium glycinate, revision 1",
            ],
        )

    def test_entries_are_complete_and_link_to_the_permalink(self):
        _, entries = self.entries("/changes/feed/")
        entry = entries[0]
        for name in ("id", "title", "updated"):
            self.assertTrue(entry.findtext(f"{ATOM}{name}"), name)
        link = entry.find(f"{ATOM}link")
        self.assertEqual(
            link.get("href"), "http://testserver/forms/magnesium-glycinate/revisions/2/"
        )
        self.assertEqual(entry.findtext(f"{ATOM}author/{ATOM}name"), "Erin Editor")
        self.assertEqual(
            entry.findtext(f"{ATOM}summary"),
            "Clarified glycinate dosing — approved by Rita Reviewer",
        )
        ids = [entry.findtext(f"{ATOM}id") for entry in entries]
        self.assertEqual(len(set(ids)), len(ids))

    def test_staff_get_the_public_feed_too(self):
        client = self.client_class()
        client.force_login(self.editor)
        _, entries = self.entries("/changes/feed/", client)
        self.assertEqual(len(entries), 3)
        content = client.get("/changes/feed/").content.decode()
        self.assertNotIn("Unreviewed glycinate edit", content)
        self.assertNotIn("orotate", content)

    def test_monograph_feed_lists_its_published_revisions(self):
        root, entries = self.entries("/forms/magnesium-glycinate/history/feed/")
        self.assertEqual(
            root.findtext(f"{ATOM}title"), "mgref: history of Magnesium glycinate"
        )
        titles = [entry.findtext(f"{ATOM}title") for entry in entries]
        self.assertEqual(
            titles,
            ["Magnesium glycinate, revision 2", "Magnesium glycinate, revision 1"],
        )
        content = self.client.get("/forms/magnesium-glycinate/history/feed/").content
        self.assertNotIn(b"Unreviewed glycinate edit", content)

    def test_history_page_links_to_its_feed(self):
        response = self.client.get("/forms/magnesium-glycinate/history/")
        self.assertContains(
            response,
            'type="application/atom+xml" title="History of Magnesium glycinate" '
            'href="/forms/magnesium-glycinate/history/feed/"',
        )

    def test_feed_of_a_never_published_monograph_is_404(self):
        response = self.client.get("/forms/magnesium-orotate/history/feed/")
        self.assertEqual(response.status_code, 404)
        self.client.force_login(self.editor)
        response = self.client.get("/forms/magnesium-orotate/history/feed/")
        self.assertEqual(response.status_code, 404)

    def test_feed_of_an_unknown_monograph_is_404(self):
        response = self.client.get("/forms/no-such-form/history/feed/")
        self.assertEqual(response.status_code, 404)

    def test_feed_updated_is_the_newest_published_revision(self):
        root, _ = self.entries("/changes/feed/")
        newest = revision(self.glycinate, 2).created_at
        updated = datetime.fromisoformat(root.findtext(f"{ATOM}updated"))
        self.assertLess(abs(updated - newest), timedelta(seconds=1))
