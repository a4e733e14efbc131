"""The history page: who changed a monograph, when, why, by how much, and who approved it."""

import re

from django.test import TestCase

from tests import factories
from tests.history.helpers import (
    approve,
    checked_radio,
    create_monograph,
    edit,
    long_date,
    radio_values,
    request_changes,
    revision,
    revision_rows,
    shows_time,
    text_of,
)


def history_url(form, query=""):
    return f"/forms/{form.slug}/history/{query}"


class HistoryPageTests(TestCase):
    """Four revisions: approved, sent back, approved and published, pending."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.rita = factories.ReviewerFactory(first_name="Rita", last_name="Reviewer")
        cls.omar = factories.ReviewerFactory(first_name="Omar", last_name="Okafor")
        cls.form = create_monograph(
            cls.editor, reason="Wrote the monograph", summary="Short summary."
        )
        cls.first_approval = approve(cls.form, cls.rita)
        edit(
            cls.form,
            cls.editor,
            "Expanded the summary",
            summary="Short summary. With more words.",
        )
        cls.sent_back = request_changes(
            cls.form, cls.omar, "Cite a trial for the new claim."
        )
        edit(cls.form, cls.editor, "Cut the claim", summary="Short summary.")
        cls.second_approval = approve(cls.form, cls.omar)
        edit(cls.form, cls.editor, "Draft tweak", summary="Short summary. Tweak.")

    def staff_rows(self):
        self.client.force_login(self.editor)
        response = self.client.get(history_url(self.form))
        self.assertEqual(response.status_code, 200)
        return {number: text_of(row) for number, row in revision_rows(response).items()}

    def test_staff_see_every_revision_newest_first(self):
        self.assertEqual(list(self.staff_rows()), [4, 3, 2, 1])

    def test_readers_see_only_approved_revisions(self):
        response = self.client.get(history_url(self.form))
        self.assertEqual(response.status_code, 200)
        rows = revision_rows(response)
        self.assertEqual(list(rows), [3, 1])
        content = response.content.decode()
        self.assertNotIn("Draft tweak", content)
        self.assertNotIn("Expanded the summary", content)
        self.assertNotIn("Cite a trial", content)
        self.assertNotIn("Pending review", content)

    def test_each_row_gives_time_author_and_summary(self):
        self.client.force_login(self.editor)
        rows = revision_rows(self.client.get(history_url(self.form)))
        for number, summary in [
            (1, "Wrote the monograph"),
            (2, "Expanded the summary"),
            (3, "Cut the claim"),
            (4, "Draft tweak"),
        ]:
            saved = revision(self.form, number).created_at
            self.assertTrue(shows_time(rows[number], saved), rows[number])
            self.assertIn("Erin Editor", text_of(rows[number]))
            self.assertIn(summary, text_of(rows[number]))

    def test_size_of_each_change_is_shown_with_its_sign(self):
        rows = self.staff_rows()
        first = revision(self.form, 1).size
        self.assertIn(f"{first} chars (+{first})", rows[1])
        self.assertIn(f"{first + 17} chars (+17)", rows[2])
        self.assertIn(f"{first} chars (-17)", rows[3])
        self.assertIn(f"{first + 7} chars (+7)", rows[4])

    def test_readers_see_the_size_change_since_the_previous_published_revision(self):
        rows = revision_rows(self.client.get(history_url(self.form)))
        first = revision(self.form, 1).size
        self.assertIn(f"{first} chars (+0)", text_of(rows[3]))

    def test_approval_state_says_who_approved_and_when(self):
        self.client.force_login(self.editor)
        rows = revision_rows(self.client.get(history_url(self.form)))
        for number, approval, name in [
            (1, self.first_approval, "Rita Reviewer"),
            (3, self.second_approval, "Omar Okafor"),
        ]:
            self.assertIn(f"Approved by {name}", text_of(rows[number]))
            review = rows[number].split("Approved by", 1)[1]
            self.assertTrue(shows_time(review, approval.created_at), review)
        self.assertIn("(published)", text_of(rows[3]))
        self.assertNotIn("(published)", text_of(rows[1]))

    def test_changes_requested_shows_the_reviewer_and_comment(self):
        rows = self.staff_rows()
        self.assertIn(
            "Changes requested by Omar Okafor: “Cite a trial for the new claim.”",
            rows[2],
        )

    def test_unreviewed_revision_is_pending(self):
        rows = self.staff_rows()
        self.assertIn("Pending review", rows[4])
        self.assertNotIn("Approved", rows[4])

    def test_radio_buttons_pick_two_revisions_to_compare(self):
        self.client.force_login(self.editor)
        response = self.client.get(history_url(self.form))
        content = response.content.decode()
        self.assertIn(
            f'<form action="/forms/{self.form.slug}/diff/" method="get">', content
        )
        self.assertEqual(radio_values(response, "from"), [3, 2, 1])
        self.assertEqual(radio_values(response, "to"), [4, 3, 2])
        self.assertEqual(checked_radio(response, "from"), [3])
        self.assertEqual(checked_radio(response, "to"), [4])
        self.assertContains(response, "Compare selected revisions")
        diff = self.client.get(f"/forms/{self.form.slug}/diff/", {"from": 3, "to": 4})
        self.assertEqual(diff.status_code, 200)

    def test_readers_radio_buttons_offer_only_published_revisions(self):
        response = self.client.get(history_url(self.form))
        self.assertEqual(radio_values(response, "from"), [1])
        self.assertEqual(radio_values(response, "to"), [3])
        diff = self.client.get(f"/forms/{self.form.slug}/diff/", {"from": 1, "to": 3})
        self.assertEqual(diff.status_code, 200)

    def test_staff_get_a_link_comparing_the_draft_with_the_published_version(self):
        self.client.force_login(self.editor)
        response = self.client.get(history_url(self.form))
        self.assertContains(
            response,
            f'<a href="/forms/{self.form.slug}/diff/?from=3&amp;to=4">'
            "Compare the draft with the published version</a>",
            html=False,
        )
        anonymous = self.client_class().get(history_url(self.form))
        self.assertNotContains(anonymous, "Compare the draft")

    def test_links_to_each_revision_and_to_the_feed(self):
        response = self.client.get(history_url(self.form))
        self.assertContains(response, f'href="/forms/{self.form.slug}/revisions/3/"')
        self.assertContains(response, f'href="/forms/{self.form.slug}/revisions/1/"')
        self.assertContains(response, f'href="/forms/{self.form.slug}/history/feed/"')

    def test_edit_summaries_are_escaped(self):
        edit(self.form, self.editor, "<script>alert(1)</script>", summary="Escaped.")
        self.client.force_login(self.editor)
        response = self.client.get(history_url(self.form))
        self.assertNotContains(response, "<script>alert(1)</script>")
        self.assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;")


class HistoryAccessTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.never_published = create_monograph(cls.editor, summary="Unseen.")

    def test_history_of_a_never_published_monograph_is_404_for_readers(self):
        response = self.client.get(history_url(self.never_published))
        self.assertEqual(response.status_code, 404)

    def test_staff_see_the_history_of_a_never_published_monograph(self):
        self.client.force_login(self.editor)
        response = self.client.get(history_url(self.never_published))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(list(revision_rows(response)), [1])

    def test_history_of_an_unknown_monograph_is_404(self):
        self.client.force_login(self.editor)
        self.assertEqual(
            self.client.get("/forms/no-such-form/history/").status_code, 404
        )


class AuthorNameTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(
            username="nameless", first_name="", last_name=""
        )
        cls.reviewer = factories.ReviewerFactory(
            first_name="Rita", last_name="Reviewer"
        )
        cls.form = create_monograph(None, reason="Imported")
        edit(cls.form, cls.editor, "Tidied", summary="Tidy.")
        approve(cls.form, cls.reviewer)

    def test_a_login_name_never_stands_in_for_a_missing_full_name(self):
        response = self.client.get(history_url(self.form))
        rows = revision_rows(response)
        self.assertIn("an mgref editor", text_of(rows[2]))
        self.assertNotContains(response, "nameless")
        feed = self.client.get(f"/forms/{self.form.slug}/history/feed/")
        self.assertNotContains(feed, "nameless")

    def test_a_revision_without_an_author_is_credited_to_the_site(self):
        self.client.force_login(self.editor)
        rows = revision_rows(self.client.get(history_url(self.form)))
        self.assertIn("mgref", text_of(rows[1]))


class HistoryPaginationTests(TestCase):
    """60 revisions, each adding one character; all but the last five approved."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.form = create_monograph(cls.editor, summary="x")
        approve(cls.form, cls.reviewer)
        for number in range(2, 61):
            edit(cls.form, cls.editor, f"Edit {number}", summary="x" * number)
            if number <= 55:
                approve(cls.form, cls.reviewer)

    def test_staff_first_page_holds_the_fifty_newest(self):
        self.client.force_login(self.editor)
        response = self.client.get(history_url(self.form))
        self.assertEqual(list(revision_rows(response)), list(range(60, 10, -1)))
        self.assertContains(response, "Page 1 of 2")
        self.assertContains(response, 'href="?page=2" rel="next"')

    def test_staff_second_page_holds_the_rest(self):
        self.client.force_login(self.editor)
        response = self.client.get(history_url(self.form, "?page=2"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(list(revision_rows(response)), list(range(10, 0, -1)))
        self.assertContains(response, "Page 2 of 2")
        self.assertContains(response, 'href="?page=1" rel="prev"')
        # The newest row can still be compared with one on the previous page.
        self.assertEqual(radio_values(response, "from"), list(range(10, 0, -1)))
        self.assertEqual(radio_values(response, "to"), list(range(10, 1, -1)))

    def test_size_change_of_the_last_row_on_a_page_counts_the_next_page(self):
        self.client.force_login(self.editor)
        rows = revision_rows(self.client.get(history_url(self.form)))
        self.assertIn("(+1)", text_of(rows[11]))

    def test_readers_pages_count_only_published_revisions(self):
        first = self.client.get(history_url(self.form))
        self.assertEqual(list(revision_rows(first)), list(range(55, 5, -1)))
        second = self.client.get(history_url(self.form, "?page=2"))
        self.assertEqual(list(revision_rows(second)), [5, 4, 3, 2, 1])
        self.assertNotContains(first, "Edit 56")

    def test_a_page_past_the_end_is_404(self):
        self.assertEqual(
            self.client.get(history_url(self.form, "?page=3")).status_code, 404
        )
        self.client.force_login(self.editor)
        self.assertEqual(
            self.client.get(history_url(self.form, "?page=3")).status_code, 404
        )

    def test_nonsense_page_numbers_are_404(self):
        for page in ["0", "-1", "abc", "1.5", ""]:
            with self.subTest(page=page):
                response = self.client.get(history_url(self.form), {"page": page})
                self.assertEqual(response.status_code, 404)

    def test_a_page_number_in_superscript_digits_is_404(self):
        # "²".isdigit() is True, but int("²") raises ValueError.
        response = self.client.get(history_url(self.form), {"page": "²"})
        self.assertEqual(response.status_code, 404)


class LastReviewedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.rita = factories.ReviewerFactory(first_name="Rita", last_name="Reviewer")
        cls.omar = factories.ReviewerFactory(first_name="Omar", last_name="Okafor")
        cls.form = create_monograph(cls.editor, summary="Reviewed text.")
        cls.approval = approve(cls.form, cls.rita)

    def assertLastReviewed(self, response, approval, name):
        """The page says "Last reviewed on DATE by NAME", linked to the history."""
        match = re.search(
            rf'<a href="/forms/{self.form.slug}/history/">Last reviewed on '
            r'<time datetime="[^"]+">(.*?)</time> by (.*?)</a>',
            response.content.decode(),
        )
        self.assertIsNotNone(match, "no “Last reviewed” link to the history")
        self.assertEqual(match.group(1), long_date(approval.created_at))
        self.assertEqual(match.group(2), name)
        self.assertTrue(shows_time(match.group(0), approval.created_at))

    def test_public_page_says_when_and_by_whom_it_was_last_reviewed(self):
        response = self.client.get(f"/forms/{self.form.slug}/")
        self.assertLastReviewed(response, self.approval, "Rita Reviewer")

    def test_an_unapproved_edit_does_not_change_the_last_review(self):
        edit(self.form, self.editor, "Pending", summary="Pending text.")
        response = self.client.get(f"/forms/{self.form.slug}/")
        self.assertLastReviewed(response, self.approval, "Rita Reviewer")

    def test_the_next_approval_replaces_it(self):
        edit(self.form, self.editor, "Update", summary="Updated text.")
        approval = approve(self.form, self.omar)
        response = self.client.get(f"/forms/{self.form.slug}/")
        self.assertLastReviewed(response, approval, "Omar Okafor")
        self.assertNotContains(response, "Rita Reviewer")

    def test_changes_requested_is_not_a_review_readers_see(self):
        edit(self.form, self.editor, "Update", summary="Updated text.")
        request_changes(self.form, self.omar, "No.")
        response = self.client.get(f"/forms/{self.form.slug}/")
        self.assertLastReviewed(response, self.approval, "Rita Reviewer")
        self.assertNotContains(response, "Omar Okafor")
