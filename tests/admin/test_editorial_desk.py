"""
The editorial desk: the change page's action bar, error summary, sections
and help texts, save and submit in one step, the dashboard on the admin
home per role, and the next review date.
"""

import datetime
import re

from django.core import mail
from django.test import TestCase, override_settings
from django.utils import timezone

from monographs.admin.dashboard import dashboard
from monographs.history import change_context
from monographs.models import MagnesiumForm, ReviewEvent, Revision
from monographs.services import monograph_request_changes, monograph_submit
from tests import factories
from tests.admin.test_monograph_admin import FORM_ID, change_url, open_change_form
from tests.browser_forms import form_data


def edit(form, user, **values):
    with change_context(reason="Edit", user=user):
        for name, value in values.items():
            setattr(form, name, value)
        form.save()


class ChangePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.form = factories.MagnesiumFormFactory(name="Magnesium glycinate")
        factories.DoseFactory(form=cls.form)
        factories.InteractionFactory(form=cls.form)

    def setUp(self):
        self.client.force_login(self.editor)
        self.html = self.client.get(change_url(self.form)).content.decode()

    def test_the_action_bar_holds_the_summary_and_the_buttons_at_the_top(self):
        form_start = self.html.index(f'id="{FORM_ID}"')
        bar = self.html.index('class="action-bar"')
        first_field = self.html.index('name="name"')
        self.assertLess(form_start, bar)
        self.assertLess(bar, first_field)
        bar_html = self.html[bar : self.html.index("</div>\n</div>", bar)]
        self.assertIn('name="edit_summary"', bar_html)
        self.assertIn('name="base_revision"', bar_html)
        self.assertIn('name="_continue"', bar_html)
        self.assertIn('name="_submit_for_review"', bar_html)
        # The preview is of what was saved, in a tab of its own: leaving this
        # page for it would leave what is typed behind.
        self.assertIn(
            f'href="/forms/{self.form.slug}/draft/" target="_blank" '
            'rel="noopener">Preview saved draft<span class="visually-hidden"> '
            "(opens in a new tab)</span></a>",
            bar_html,
        )
        # The summary is asked for once, in the bar.
        self.assertEqual(self.html.count('name="edit_summary"'), 1)

    def test_sections_collapse_and_are_listed_at_the_top(self):
        self.assertIn('<nav class="section-nav"', self.html)
        self.assertGreaterEqual(self.html.count('<details class="section" open>'), 10)
        self.assertIn('href="#doses-heading"', self.html)

    def test_help_text_is_shown_as_written_and_says_whether_it_takes_markdown(self):
        self.assertIn("/forms/&lt;slug&gt;/", self.html)
        self.assertNotIn("/forms/<slug>/", self.html)
        summary_help = re.search(
            r'id="id_summary_helptext">\s*<div>(.*?)</div>', self.html
        )
        self.assertIn("Markdown", summary_help.group(1))
        mechanism_help = re.search(
            r'id="id_interactions-0-mechanism_helptext">\s*<div>(.*?)</div>', self.html
        )
        self.assertIn("Markdown", mechanism_help.group(1))
        name_help = re.search(r'id="id_name_helptext">\s*<div>(.*?)</div>', self.html)
        self.assertNotIn("Markdown", name_help.group(1))

    def test_the_error_summary_links_to_every_field_in_error(self):
        data = open_change_form(self.client, self.form)
        data.update(
            elemental_mg_percent="250",
            edit_summary="",
            **{"doses-0-maximum_mg": ""},
        )
        response = self.client.post(change_url(self.form), data)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        summary = html[
            html.index('id="error-summary"') : html.index(
                "</ul>", html.index('id="error-summary"')
            )
        ]
        self.assertIn('href="#id_edit_summary"', summary)
        self.assertIn('href="#id_elemental_mg_percent"', summary)
        self.assertIn('href="#id_doses-0-maximum_mg"', summary)
        self.assertIn("Give an edit summary", summary)
        self.assertIn(">Edit summary</a>", summary)
        # Above the form's fields.
        self.assertLess(html.index('id="error-summary"'), html.index('name="name"'))


class SaveAndSubmitTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(email="ed@example.com")
        cls.reviewer = factories.ReviewerFactory(email="rev@example.com")
        cls.form = factories.MagnesiumFormFactory(summary="First.")

    def setUp(self):
        self.client.force_login(self.editor)

    def test_save_and_submit_is_one_step(self):
        data = open_change_form(self.client, self.form)
        data.update(summary="Second.", edit_summary="Rewrite", _submit_for_review="1")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(change_url(self.form), data)
        self.assertRedirects(
            response, change_url(self.form), fetch_redirect_response=False
        )
        self.assertEqual(self.form.status, MagnesiumForm.Status.IN_REVIEW)
        submitted = ReviewEvent.objects.get(action=ReviewEvent.Action.SUBMITTED)
        self.assertEqual(submitted.revision, Revision.objects.latest_for(self.form.pk))
        self.assertEqual(submitted.comment, "Rewrite")
        self.assertEqual([m.to for m in mail.outbox], [["rev@example.com"]])
        page = self.client.get(change_url(self.form))
        self.assertContains(page, "was saved and submitted for review")
        self.assertNotContains(page, 'name="_submit_for_review"')

    def test_a_refused_save_submits_nothing(self):
        data = open_change_form(self.client, self.form)
        data.update(summary="Second.", edit_summary="", _submit_for_review="1")
        response = self.client.post(change_url(self.form), data)
        self.assertEqual(response.status_code, 200)
        self.assertFalse(ReviewEvent.objects.exists())

    def test_saving_while_in_review_keeps_the_submission(self):
        monograph_submit(form=self.form, user=self.editor)
        data = open_change_form(self.client, self.form)
        data.update(summary="Third.", edit_summary="More", _submit_for_review="1")
        response = self.client.post(change_url(self.form), data, follow=True)
        self.assertContains(response, "was saved, not submitted")
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Third.")
        self.assertEqual(self.form.status, MagnesiumForm.Status.IN_REVIEW)

    def test_a_new_monograph_can_be_saved_and_submitted(self):
        data = form_data(
            self.client.get("/admin/monographs/magnesiumform/add/"), FORM_ID
        )
        data.update(
            name="Magnesium orotate",
            slug="magnesium-orotate",
            category="organic-salt",
            elemental_mg_percent="6.5",
            edit_summary="New monograph",
            _submit_for_review="1",
        )
        response = self.client.post("/admin/monographs/magnesiumform/add/", data)
        self.assertEqual(response.status_code, 302)
        form = MagnesiumForm.objects.get(slug="magnesium-orotate")
        self.assertEqual(form.status, MagnesiumForm.Status.IN_REVIEW)


class DashboardTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Ed", last_name="Itor")
        cls.other = factories.EditorFactory(first_name="Oth", last_name="Er")
        cls.reviewer = factories.ReviewerFactory(first_name="Rev", last_name="Iewer")
        # Published by the seed (no reviewer): due for review.
        cls.seeded = factories.MagnesiumFormFactory(name="Magnesium oxide")
        factories.publish(cls.seeded)
        # Reviewed by a person just now, edited by the editor since.
        cls.reviewed = factories.MagnesiumFormFactory(name="Magnesium citrate")
        factories.publish(cls.reviewed, user=cls.reviewer)
        edit(cls.reviewed, cls.editor, summary="Editor's draft.")
        # Submitted by the other editor.
        cls.submitted = factories.MagnesiumFormFactory(name="Magnesium malate")
        edit(cls.submitted, cls.other, summary="Other's edit.")
        monograph_submit(form=cls.submitted, user=cls.other, comment="Please check")
        # The editor's edit sent back.
        cls.sent_back = factories.MagnesiumFormFactory(name="Magnesium taurate")
        edit(cls.sent_back, cls.editor, summary="Needs work.")
        monograph_submit(form=cls.sent_back, user=cls.editor)
        monograph_request_changes(
            form=cls.sent_back,
            user=cls.reviewer,
            revision_number=Revision.objects.latest_number(cls.sent_back.pk),
            comment="Cite the trial",
        )

    def names(self, entries):
        return [entry.monograph.name for entry in entries]

    def test_reviewers_see_what_awaits_review_and_unsubmitted_drafts(self):
        desk = dashboard(self.reviewer)
        self.assertEqual(self.names(desk["awaiting_review"]), ["Magnesium malate"])
        self.assertEqual(desk["awaiting_review"][0].note, "Please check")
        self.assertIn("Magnesium citrate", self.names(desk["unsubmitted"]))

    def test_editors_see_changes_requested_on_their_edits_and_their_drafts(self):
        desk = dashboard(self.editor)
        self.assertEqual(desk["awaiting_review"], [])
        self.assertEqual(self.names(desk["changes_requested"]), ["Magnesium taurate"])
        self.assertEqual(desk["changes_requested"][0].note, "Cite the trial")
        self.assertEqual(self.names(desk["my_drafts"]), ["Magnesium citrate"])
        other = dashboard(self.other)
        self.assertEqual(other["changes_requested"], [])
        self.assertEqual(other["my_drafts"], [])

    def test_recently_published_and_due_for_review(self):
        desk = dashboard(self.editor)
        self.assertEqual(
            self.names(desk["recently_published"]),
            ["Magnesium citrate", "Magnesium oxide"],
        )
        self.assertEqual(self.names(desk["review_due"]), ["Magnesium oxide"])
        later = timezone.now() + datetime.timedelta(days=366)
        self.assertEqual(
            self.names(dashboard(self.editor, now=later)["review_due"]),
            ["Magnesium oxide", "Magnesium citrate"],
        )

    @override_settings(MGREF_REVIEW_CYCLE_DAYS=30)
    def test_the_review_cycle_is_a_setting(self):
        later = timezone.now() + datetime.timedelta(days=31)
        self.assertIn(
            "Magnesium citrate",
            self.names(dashboard(self.editor, now=later)["review_due"]),
        )

    def test_the_admin_home_shows_the_desk_per_role(self):
        self.client.force_login(self.reviewer)
        page = self.client.get("/admin/")
        self.assertContains(page, "Awaiting your review")
        self.assertContains(page, "Magnesium malate")
        self.assertContains(
            page, f'href="/admin/monographs/magnesiumform/{self.submitted.pk}/review/"'
        )
        self.client.force_login(self.editor)
        page = self.client.get("/admin/")
        self.assertNotContains(page, "Awaiting your review")
        self.assertContains(page, "Changes requested on your edits")
        self.assertContains(page, "Cite the trial")

    def test_anonymous_visitors_get_the_login_page(self):
        response = self.client.get("/admin/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/admin/login/", response["Location"])

    def test_staff_see_the_next_review_date(self):
        self.client.force_login(self.editor)
        listing = self.client.get("/admin/monographs/magnesiumform/")
        due = (timezone.now() + datetime.timedelta(days=365)).strftime("%-d %b %Y")
        self.assertContains(listing, due)
        self.assertContains(listing, "due now (never reviewed by a person)")
        page = self.client.get(change_url(self.reviewed))
        self.assertContains(page, f"next review due <strong>{due}</strong>")


class ProseFieldTests(TestCase):
    """Every prose field goes through the one renderer: [@key] never reaches
    readers raw, interactions included."""

    def test_citation_markers_in_interactions_are_numbered(self):
        citation = factories.CitationFactory(key="chelation2020")
        form = factories.MagnesiumFormFactory(slug="magnesium-test")
        interaction = factories.InteractionFactory(
            form=form,
            mechanism="Magnesium *chelates* it [@chelation2020].",
            management="Separate the doses by **2 h**.",
        )
        interaction.citations.add(citation)
        factories.publish(form)
        page = self.client.get("/forms/magnesium-test/")
        self.assertNotContains(page, "[@chelation2020]")
        self.assertContains(page, "<em>chelates</em>")
        self.assertContains(page, "<strong>2 h</strong>")
        self.assertContains(page, 'href="#ref-')
        listing = self.client.get("/interactions/")
        self.assertNotContains(listing, "[@")
        self.assertContains(listing, "<strong>2 h</strong>")
