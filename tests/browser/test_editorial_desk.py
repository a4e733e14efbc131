"""
The editorial desk in a real browser (issue 14): two editors whose edits
merge, the unsaved-changes warning, previews where text is written, save and
submit in one step with its email, the dashboard for each role, confirm and
undo, and axe-core and the Nu checker clean on the admin's pages.
"""

import io
import re

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import expect

from monographs.models import MagnesiumForm, Revision
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import describe, run_axe
from tests.browser.test_html_validity import nu_errors
from tests.factories import EditorFactory, ReviewerFactory

PASSWORD = "correct horse battery staple"
ADMIN = "/admin/monographs/magnesiumform/"
PREVIEW = "/markdownx/markdownify/"


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()

pytestmark = pytest.mark.django_db(transaction=True)


def glycinate():
    return MagnesiumForm.objects.get(slug="magnesium-glycinate")


def change_url(live_server, form):
    return f"{live_server.url}{ADMIN}{form.pk}/change/"


def logged_in(sessions, live_server, username, **session_options):
    session = sessions(**session_options)
    page = session.new_page()
    log_in(page, live_server, username, PASSWORD)
    return session, page


def save(page, summary, button="button[name=_continue]"):
    page.fill("#id_edit_summary", summary)
    page.click(button)


class ConflictJourneyTests:
    def test_two_editors_never_lose_work(self, seeded, live_server, sessions):
        EditorFactory(username="ada", first_name="Ada", last_name="First")
        EditorFactory(username="bea", first_name="Bea", last_name="Second")
        _, ada = logged_in(sessions, live_server, "ada")
        _, bea = logged_in(sessions, live_server, "bea")
        form = glycinate()
        ada.goto(change_url(live_server, form))
        bea.goto(change_url(live_server, form))

        # 1. Different fields: Bea's save is merged with Ada's.
        ada.fill("#id_summary", "Ada's summary.")
        save(ada, "Rewrite the summary")
        expect(ada.locator(".messagelist")).to_contain_text("was changed successfully")
        bea.fill("#id_usage", "Bea's usage.")
        save(bea, "Rewrite the usage")
        messages = bea.locator(".messagelist")
        expect(messages).to_contain_text("Merged with what was saved while you were")
        expect(messages).to_contain_text("Summary")
        expect(bea.locator("#id_summary")).to_have_value("Ada's summary.")
        expect(bea.locator("#id_usage")).to_have_value("Bea's usage.")
        form.refresh_from_db()
        assert (form.summary, form.usage) == ("Ada's summary.", "Bea's usage.")

        # 2. The same field: Ada sees Bea's version, hers and a diff; hers is
        # kept in the form, and one click saves it.
        ada.fill("#id_usage", "Ada's usage.")
        save(ada, "Ada's usage")
        panel = ada.locator(".merge-panel")
        expect(panel).to_contain_text("both changed")
        expect(panel).to_contain_text("Bea's usage.")
        expect(panel.locator("ins").first).to_be_visible()
        expect(ada.locator("#error-summary")).to_contain_text("you both changed: Usage")
        expect(ada.locator("#id_usage")).to_have_value("Ada's usage.")
        form.refresh_from_db()
        assert form.usage == "Bea's usage."
        ada.click("button[name=_continue]")
        expect(ada.locator(".messagelist")).to_contain_text("was changed successfully")
        form.refresh_from_db()
        assert (form.summary, form.usage) == ("Ada's summary.", "Ada's usage.")
        # Bea's version stays in the history.
        summaries = list(
            Revision.objects.for_form(form.pk).values_list("summary", flat=True)
        )
        assert {"Rewrite the usage", "Ada's usage"} <= set(summaries)

    def test_leaving_a_changed_form_warns_first(self, seeded, live_server, sessions):
        EditorFactory(username="ed")
        session, page = logged_in(sessions, live_server, "ed")
        url = change_url(live_server, glycinate())
        page.goto(url)
        page.fill("#id_summary", "Typed, not saved.")
        page.click(".object-tools >> text=Revisions")
        # The browser asked (the test dismisses it), and the page stayed.
        page.wait_for_timeout(500)
        assert len(session.dialogs) == 1
        assert page.url == url
        expect(page.locator("#id_summary")).to_have_value("Typed, not saved.")
        # Saving is not leaving: no question.
        save(page, "Keep the new summary")
        expect(page.locator(".messagelist")).to_contain_text("changed successfully")
        page.click(".object-tools >> text=Revisions")
        expect(page).to_have_url(f"{live_server.url}{ADMIN}{glycinate().pk}/revisions/")
        assert len(session.dialogs) == 1
        assert not [m for m in session.console_errors if "Content Security" in m]

    def test_a_page_back_from_an_unsaved_post_warns_before_leaving(
        self, seeded, live_server, sessions
    ):
        EditorFactory(username="ed")
        session, page = logged_in(sessions, live_server, "ed")
        url = change_url(live_server, glycinate())
        page.goto(url)
        page.fill("#id_summary", "Typed, not saved.")
        # No edit summary: nothing is saved, and the page holds the typing.
        page.click("button[name=_continue]")
        expect(page.locator("#error-summary")).to_be_visible()
        page.click(".object-tools >> text=Revisions")
        page.wait_for_timeout(500)
        assert len(session.dialogs) == 1
        expect(page.locator("#id_summary")).to_have_value("Typed, not saved.")


class PreviewJourneyTests:
    def test_no_previews_on_load_and_one_in_a_new_row(
        self, seeded, live_server, sessions
    ):
        EditorFactory(username="ed")
        session, page = logged_in(sessions, live_server, "ed")
        previews = []
        page.on("request", lambda r: PREVIEW in r.url and previews.append(r.url))
        page.goto(change_url(live_server, glycinate()))
        page.wait_for_load_state("networkidle")
        assert previews == []

        index = int(page.locator("#id_faqs-TOTAL_FORMS").input_value())
        page.click("#faqs-group .add-row a")
        answer = page.locator(f"#id_faqs-{index}-answer")
        answer.fill("A **new** answer.")
        preview = page.locator(f"#id_faqs-{index}-answer ~ .markdownx-preview")
        expect(preview.locator("strong")).to_have_text("new")
        assert 1 <= len(previews) <= 2
        assert not [m for m in session.console_errors if "Content Security" in m]


class ImageButtonJourneyTests:
    def test_an_image_chosen_with_the_button_lands_at_the_cursor(
        self, seeded, live_server, sessions, settings, tmp_path
    ):
        # Dropping needs a mouse: the file button under each Markdown field
        # is the keyboard's way, in rows added after load too.
        settings.MEDIA_ROOT = tmp_path
        EditorFactory(username="ed")
        session, page = logged_in(sessions, live_server, "ed")
        page.goto(change_url(live_server, glycinate()))
        index = int(page.locator("#id_faqs-TOTAL_FORMS").input_value())
        page.click("#faqs-group .add-row a")
        answer = page.locator(f"#id_faqs-{index}-answer")
        answer.fill("Before. After.")
        answer.evaluate("field => field.setSelectionRange(8, 8)")
        button = page.get_by_label("Insert an image", exact=False).and_(
            page.locator(f"#id_faqs-{index}-answer_image")
        )
        button.set_input_files(
            files=[{"name": "chart.png", "mimeType": "image/png", "buffer": PNG}]
        )
        expect(answer).to_have_value(
            re.compile(r"^Before\. !\[\]\(/media/uploads/[0-9a-f]+\.png\)After\.$")
        )
        expect(answer).to_be_focused()
        status = page.locator(f"#id_faqs-{index}-answer_image_status")
        expect(status).to_have_text("chart.png inserted.")
        preview = page.locator(f"#id_faqs-{index}-answer ~ .markdownx-preview")
        expect(preview.locator("img")).to_have_count(1)
        assert list(tmp_path.rglob("*.png"))

        # A refusal is said where a screen reader hears it, the text unchanged,
        # and the focus stays on the button.
        before = answer.input_value()
        button.focus()
        button.set_input_files(
            files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"text"}]
        )
        expect(status).to_contain_text("notes.png: ")
        expect(status).to_have_attribute("role", "status")
        assert answer.input_value() == before
        expect(button).to_be_focused()
        assert not [m for m in session.console_errors if "Content Security" in m]


class SubmitAndDashboardJourneyTests:
    def test_save_and_submit_email_dashboards_and_review(
        self, seeded, live_server, sessions
    ):
        EditorFactory(username="ed", first_name="Ed", last_name="Itor")
        ReviewerFactory(username="rev", email="rev@example.com")
        mail.outbox.clear()
        _, editor = logged_in(sessions, live_server, "ed")
        form = glycinate()
        editor.goto(change_url(live_server, form))
        editor.fill("#id_dosage_notes", "Take it with the evening meal.")
        save(editor, "Evening meal", button="button[name=_submit_for_review]")
        expect(editor.locator(".messagelist")).to_contain_text(
            "was saved and submitted for review"
        )
        assert form.status == MagnesiumForm.Status.IN_REVIEW
        subjects = [(m.subject, m.to) for m in mail.outbox]
        assert (
            "[mgref] Magnesium glycinate is awaiting review",
            ["rev@example.com"],
        ) in (subjects)

        # The reviewer's home lists it; the review page lists every summary.
        _, reviewer = logged_in(sessions, live_server, "rev")
        awaiting = reviewer.locator("#awaiting-review")
        expect(awaiting).to_contain_text("Magnesium glycinate")
        expect(reviewer.locator("#review-due")).to_contain_text(
            "never reviewed by a person"
        )
        awaiting.locator("a", has_text="Magnesium glycinate").click()
        expect(reviewer.locator(".approving")).to_contain_text("Evening meal")
        reviewer.fill("#id_comment", "Say why the evening.")
        reviewer.click("button[value=request-changes]")
        expect(reviewer.locator(".messagelist")).to_contain_text("Changes requested")

        # The editor's home says so, with the comment.
        editor.goto(f"{live_server.url}/admin/")
        requested = editor.locator("#changes-requested")
        expect(requested).to_contain_text("Magnesium glycinate")
        expect(requested).to_contain_text("Say why the evening.")
        expect(editor.locator("#awaiting-review")).to_have_count(0)
        assert any("Changes requested" in m.subject for m in mail.outbox)


class UndoJourneyTests:
    def test_confirm_and_undo(self, seeded, live_server, sessions):
        EditorFactory(username="ed")
        _, page = logged_in(sessions, live_server, "ed")
        form = glycinate()
        original = form.summary
        page.goto(change_url(live_server, form))
        page.fill("#id_summary", "A summary to undo.")
        save(page, "Summary to undo")
        undo_number = Revision.objects.latest_number(form.pk)
        page.fill("#id_usage", "A later usage.")
        save(page, "Later usage")

        page.click(".object-tools >> text=Revisions")
        page.click(f"text=Undo revision {undo_number}")
        expect(page.locator("#content-main")).to_contain_text("What will change")
        page.fill("#id_reason", "The old summary was right")
        page.click(f"button:has-text('Undo revision {undo_number}')")
        expect(page.locator(".messagelist")).to_contain_text(
            f"The changes of revision {undo_number} are undone"
        )
        form.refresh_from_db()
        assert (form.summary, form.usage) == (original, "A later usage.")
        # Revert asks too, and is not offered for the current content.
        latest = Revision.objects.latest_number(form.pk)
        expect(page.locator(f"text=Revert to revision {latest}")).to_have_count(0)
        page.click(f"text=Revert to revision {undo_number}")
        expect(page.locator("#id_reason")).to_be_visible()
        form.refresh_from_db()
        assert form.summary == original


def admin_pages(form):
    return {
        "dashboard": "/admin/",
        "changelist": ADMIN,
        "change form": f"{ADMIN}{form.pk}/change/",
        "review page": f"{ADMIN}{form.pk}/review/",
    }


class AdminCheckerTests:
    def test_axe_finds_no_violations(self, seeded, live_server, sessions):
        ReviewerFactory(username="rev")
        _, page = logged_in(sessions, live_server, "rev", bypass_csp=True)
        found = {}
        for name, path in admin_pages(glycinate()).items():
            page.goto(f"{live_server.url}{path}")
            violations = run_axe(page)
            if violations:
                found[name] = describe(violations)
        assert found == {}, "\n".join(f"{k}:\n{v}" for k, v in found.items())

    def test_nu_checker_finds_no_errors(self, seeded, live_server, sessions):
        ReviewerFactory(username="rev")
        _, page = logged_in(sessions, live_server, "rev")
        documents = {}
        for name, path in admin_pages(glycinate()).items():
            # The markup as served (the request shares the page's login).
            response = page.request.get(f"{live_server.url}{path}")
            assert response.ok, (path, response.status)
            documents[name] = response.body()
        errors = nu_errors(documents)
        assert errors == [], "\n".join(errors)
