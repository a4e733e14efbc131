"""Each history row links to its diffs: "prev" (what it changed) and "cur"
(what has changed since), as MediaWiki's history does."""

import re

from django.test import TestCase

from tests import factories
from tests.history.helpers import approve, create_monograph, edit, revision_rows

DIFF_LINK_RE = re.compile(
    r'<a href="/forms/magnesium-glycinate/diff/\?from=(\d+)&amp;to=(\d+)"[^>]*>'
    r"(cur|prev)<span[^>]*>[^<]*</span></a>"
)


def diff_links(row):
    return {word: (int(a), int(b)) for a, b, word in DIFF_LINK_RE.findall(row)}


class HistoryDiffLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.form = create_monograph(
            cls.editor, name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        approve(cls.form, cls.reviewer)  # 1
        edit(cls.form, cls.editor, "Second", summary="Two.")
        approve(cls.form, cls.reviewer)  # 2
        edit(cls.form, cls.editor, "Draft only", summary="Unapproved.")  # 3
        edit(cls.form, cls.editor, "Third", summary="Three.")
        approve(cls.form, cls.reviewer)  # 4

    def history(self, client=None):
        return revision_rows(
            (client or self.client).get("/forms/magnesium-glycinate/history/")
        )

    def test_readers_rows_link_prev_and_cur_among_approved_revisions(self):
        rows = self.history()
        self.assertEqual(list(rows), [4, 2, 1])
        self.assertEqual(diff_links(rows[4]), {"prev": (2, 4)})
        self.assertEqual(diff_links(rows[2]), {"prev": (1, 2), "cur": (2, 4)})
        self.assertEqual(diff_links(rows[1]), {"cur": (1, 4)})

    def test_without_a_link_the_words_still_show(self):
        rows = self.history()
        self.assertIn("<span>cur</span>", rows[4])
        self.assertIn("<span>prev</span>", rows[1])

    def test_staff_rows_count_every_revision(self):
        self.client.force_login(self.editor)
        rows = self.history()
        self.assertEqual(list(rows), [4, 3, 2, 1])
        self.assertEqual(diff_links(rows[4]), {"prev": (3, 4)})
        self.assertEqual(diff_links(rows[3]), {"prev": (2, 3), "cur": (3, 4)})

    def test_each_link_opens_a_diff(self):
        rows = self.history()
        for word, (old, new) in diff_links(rows[2]).items():
            with self.subTest(word=word):
                response = self.client.get(
                    "/forms/magnesium-glycinate/diff/", {"from": old, "to": new}
                )
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, f"changes from revision {old} to {new}")

    def test_each_link_names_both_revisions_for_screen_readers(self):
        rows = self.history()
        self.assertIn(
            'prev<span class="visually-hidden">: revision 2 against the one '
            "before, 1</span>",
            rows[2],
        )
        self.assertIn(
            'cur<span class="visually-hidden">: revision 2 against the newest, '
            "4</span>",
            rows[2],
        )

    def test_the_radio_buttons_stay(self):
        response = self.client.get("/forms/magnesium-glycinate/history/")
        self.assertContains(response, 'type="radio" name="from"', count=2)
        self.assertContains(response, 'type="radio" name="to"', count=2)
