"""The editorial journey, end to end, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from monographs.models import MagnesiumForm
from tests.browser.conftest import log_in
from tests.factories import EditorFactory, ReviewerFactory

PASSWORD = "correct horse battery staple"
NEW_TEXT = "Take it with the evening meal for the fewest stomach upsets."

pytestmark = pytest.mark.django_db(transaction=True)


def open_monograph(page, live_server):
    form = MagnesiumForm.objects.get(slug="magnesium-glycinate")
    page.goto(f"{live_server.url}/admin/monographs/magnesiumform/{form.pk}/change/")
    return form


class EditorialJourneyTests:
    def test_edit_review_publish_and_read(self, seeded, live_server, sessions):
        EditorFactory(username="ed")
        ReviewerFactory(username="rev")

        # 1-2. The editor changes the dosage text and watches the preview.
        editor_session = sessions()
        editor = editor_session.new_page()
        log_in(editor, live_server, "ed", PASSWORD)
        form = open_monograph(editor, live_server)
        dosage = editor.locator("#id_dosage_notes")
        dosage.fill(f"**{NEW_TEXT}**")
        preview = editor.locator("#id_dosage_notes ~ .markdownx-preview")
        expect(preview.locator("strong")).to_have_text(NEW_TEXT)

        # 3. Saves with an edit summary, then submits for review.
        editor.fill("#id_edit_summary", "Advise taking it with the evening meal")
        editor.click("input[name=_continue]")
        expect(editor.locator(".messagelist")).to_contain_text(
            "was changed successfully"
        )
        editor.click("text=Submit for review")
        expect(editor.locator(".messagelist")).to_contain_text("submitted for review")

        # 4. The reviewer sees the pending diff in the queue and approves.
        reviewer = sessions().new_page()
        log_in(reviewer, live_server, "rev", PASSWORD)
        reviewer.goto(f"{live_server.url}/admin/monographs/magnesiumform/review-queue/")
        expect(reviewer.locator("ins", has_text="evening").first).to_be_visible()
        reviewer.click("text=Review and decide")
        reviewer.fill("#id_comment", "Fine as written.")
        reviewer.click("button[value=approve]")
        expect(reviewer.locator(".messagelist")).to_contain_text("is published")

        # 5. A reader sees it, finds the revision in the history, opens the diff.
        reader = sessions().new_page()
        reader.goto(f"{live_server.url}{form.get_absolute_url()}")
        expect(reader.locator("#dosing")).to_contain_text(NEW_TEXT)
        reader.click("text=History")
        row = reader.locator("table.history tbody tr").first
        expect(row).to_contain_text("Advise taking it with the evening meal")
        expect(row).to_contain_text("Approved by")
        reader.click("text=Compare selected revisions")
        expect(reader).to_have_url(re.compile(r"/diff/\?"))
        assert {"from=1", "to=2"} <= set(reader.url.split("?")[1].split("&"))
        expect(reader.locator("ins", has_text="evening").first).to_be_visible()
        # All of it under the site's Content-Security-Policy, which blocked nothing.
        assert not [m for m in editor_session.console_errors if "Content Security" in m]

    def test_a_stale_copy_is_merged_not_refused(self, seeded, live_server, sessions):
        EditorFactory(username="first")
        EditorFactory(username="second")
        first = sessions().new_page()
        second = sessions().new_page()
        log_in(first, live_server, "first", PASSWORD)
        log_in(second, live_server, "second", PASSWORD)
        open_monograph(first, live_server)
        open_monograph(second, live_server)

        first.fill("#id_summary", "The first editor's summary.")
        first.fill("#id_edit_summary", "Rewrite the summary")
        first.click("input[name=_continue]")
        expect(first.locator(".messagelist")).to_contain_text(
            "was changed successfully"
        )

        # The same field: both versions are shown and the second editor's is
        # kept in the form (tests/browser/test_editorial_desk.py goes further).
        second.fill("#id_summary", "The second editor's summary.")
        second.fill("#id_edit_summary", "Another rewrite")
        second.click("input[name=_continue]")
        expect(second.locator(".merge-panel")).to_contain_text(
            "The first editor's summary."
        )
        expect(second.locator("body")).to_contain_text("Rewrite the summary")
        expect(second.locator("#id_summary")).to_have_value(
            "The second editor's summary."
        )
