"""
Roles and the review workflow, through the admin and the public pages:
draft → in review → published, or → changes requested.
"""

import re

from django.test import Client, TestCase
from django.utils import timezone

from monographs.models import MagnesiumForm, ReviewEvent, Revision
from tests import factories
from tests.admin.test_monograph_admin import (
    FORM_ID,
    MONOGRAPH_ADMIN,
    add_inline_row,
    change_url,
    find_form,
    open_change_form,
)
from tests.browser_forms import form_data

PUBLIC_URL = "/forms/magnesium-glycinate/"
DRAFT_URL = "/forms/magnesium-glycinate/draft/"


def review_url(form):
    return f"{MONOGRAPH_ADMIN}{form.pk}/review/"


def submit_url(form):
    return f"{MONOGRAPH_ADMIN}{form.pk}/submit/"


def edit(client, form, reason="Edited", **changes):
    """Open the monograph's change page, change fields, save with an edit summary."""
    data = open_change_form(client, form)
    data.update(changes)
    data["edit_summary"] = reason
    response = client.post(change_url(form), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def submit(client, form, comment=""):
    """Press "Submit for review" on the change page."""
    page = client.get(change_url(form))
    action, data = find_form(page, f'action="{submit_url(form)}"')
    data["comment"] = comment
    return client.post(action, data, follow=True)


def decide(client, form, decision, comment=""):
    """Open the review page and press Approve or Request changes."""
    page = client.get(review_url(form))
    assert page.status_code == 200, page.status_code
    action, data = find_form(page, 'class="review-decision"')
    data.update(decision=decision, comment=comment)
    return client.post(action, data, follow=True)


def latest_number(form):
    return Revision.objects.latest_number(form.pk)


class MonographSetup:
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory(
            first_name="Rita", last_name="Reviewer"
        )
        cls.superuser = factories.SuperuserFactory()
        cls.citation = factories.CitationFactory(key="schuette1994")
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            summary="Gentle on the gut.",
        )
        factories.DoseFactory(form=cls.form)
        evidence = factories.EvidenceFactory(
            form=cls.form, summary="Sleep trials [@schuette1994]."
        )
        evidence.citations.add(cls.citation)

    def setUp(self):
        self.editor_client = Client()
        self.editor_client.force_login(self.editor)
        self.reviewer_client = Client()
        self.reviewer_client.force_login(self.reviewer)

    def status(self):
        self.form.refresh_from_db()
        return self.form.status


class EditorRoleTests(MonographSetup, TestCase):
    def test_editor_can_edit_a_monograph(self):
        edit(self.editor_client, self.form, reason="Clarify", usage="With food.")
        self.form.refresh_from_db()
        self.assertEqual(self.form.usage, "With food.")

    def test_editor_can_add_a_monograph(self):
        page = self.editor_client.get(f"{MONOGRAPH_ADMIN}add/")
        self.assertEqual(page.status_code, 200)
        data = form_data(page, FORM_ID)
        data.update(
            name="Magnesium malate",
            slug="magnesium-malate",
            category=MagnesiumForm.Category.ORGANIC_SALT,
            elemental_mg_percent="15.5",
            summary="Malic acid salt.",
            edit_summary="New monograph",
        )
        response = self.editor_client.post(f"{MONOGRAPH_ADMIN}add/", data)
        self.assertEqual(response.status_code, 302)
        malate = MagnesiumForm.objects.get(slug="magnesium-malate")
        self.assertEqual(malate.status, MagnesiumForm.Status.DRAFT)
        revision = Revision.objects.get(form=malate)
        self.assertEqual((revision.number, revision.summary), (1, "New monograph"))
        self.assertEqual(revision.user, self.editor)
        # Readers don't see it.
        self.assertEqual(Client().get("/forms/magnesium-malate/").status_code, 404)

    def test_editor_can_add_every_kind_of_content(self):
        for model_name in [
            "magnesiumform",
            "citation",
            "indication",
            "sideeffect",
            "synonym",
            "evidence",
            "formsideeffect",
            "dose",
            "interaction",
            "precaution",
            "faq",
        ]:
            with self.subTest(model=model_name):
                response = self.editor_client.get(
                    f"/admin/monographs/{model_name}/add/"
                )
                self.assertEqual(response.status_code, 200)

    def test_editor_cannot_approve(self):
        number = latest_number(self.form)
        response = self.editor_client.post(
            review_url(self.form),
            {"decision": "approve", "revision": number, "comment": "Looks fine"},
        )
        self.assertEqual(response.status_code, 403)
        self.form.refresh_from_db()
        self.assertIsNone(self.form.published_revision)
        self.assertEqual(self.form.status, MagnesiumForm.Status.DRAFT)
        self.assertFalse(ReviewEvent.objects.exists())
        self.assertEqual(Client().get(PUBLIC_URL).status_code, 404)

    def test_editor_cannot_request_changes(self):
        response = self.editor_client.post(
            review_url(self.form),
            {
                "decision": "request-changes",
                "revision": latest_number(self.form),
                "comment": "Redo it",
            },
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.status(), MagnesiumForm.Status.DRAFT)
        self.assertFalse(ReviewEvent.objects.exists())

    def test_editor_is_offered_no_approval(self):
        review = self.editor_client.get(review_url(self.form))
        self.assertEqual(review.status_code, 200)
        self.assertContains(review, "Only reviewers can approve or request changes.")
        self.assertNotContains(review, "Approve and publish")
        page = self.editor_client.get(change_url(self.form))
        self.assertNotContains(page, "Review changes")

    def test_editor_cannot_delete_a_monograph(self):
        delete_url = f"{MONOGRAPH_ADMIN}{self.form.pk}/delete/"
        self.assertEqual(self.editor_client.get(delete_url).status_code, 403)
        response = self.editor_client.post(
            delete_url, {"post": "yes", "edit_summary": "Duplicate"}
        )
        self.assertEqual(response.status_code, 403)
        self.assertTrue(MagnesiumForm.objects.filter(pk=self.form.pk).exists())
        self.assertNotContains(
            self.editor_client.get(change_url(self.form)), 'class="deletelink"'
        )

    def test_editor_cannot_delete_shared_content(self):
        indication = factories.IndicationFactory()
        side_effect = factories.SideEffectFactory()
        for url in [
            f"/admin/monographs/citation/{self.citation.pk}/delete/",
            f"/admin/monographs/indication/{indication.pk}/delete/",
            f"/admin/monographs/sideeffect/{side_effect.pk}/delete/",
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.editor_client.get(url).status_code, 403)

    def test_editor_can_remove_rows_of_a_monograph(self):
        page = self.editor_client.get(change_url(self.form))
        self.assertContains(page, 'name="doses-0-DELETE"')
        self.assertContains(page, 'name="evidence-0-DELETE"')

    def test_editor_cannot_manage_accounts_or_history_records(self):
        for url in [
            "/admin/auth/user/",
            "/admin/auth/group/",
            "/admin/monographs/revision/add/",
            "/admin/monographs/reviewevent/add/",
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.editor_client.get(url).status_code, 403)


class ReviewerRoleTests(MonographSetup, TestCase):
    def test_reviewer_can_edit_like_an_editor(self):
        edit(self.reviewer_client, self.form, reason="Tidy", usage="At night.")
        self.form.refresh_from_db()
        self.assertEqual(self.form.usage, "At night.")

    def test_reviewer_can_approve(self):
        response = decide(self.reviewer_client, self.form, "approve")
        self.assertContains(response, "is published")
        self.assertEqual(self.status(), MagnesiumForm.Status.PUBLISHED)

    def test_reviewer_can_request_changes(self):
        response = decide(
            self.reviewer_client, self.form, "request-changes", "Cite the trial."
        )
        self.assertContains(response, "Changes requested for Magnesium glycinate")
        self.assertEqual(self.status(), MagnesiumForm.Status.CHANGES_REQUESTED)

    def test_reviewer_cannot_manage_accounts(self):
        self.assertEqual(self.reviewer_client.get("/admin/auth/user/").status_code, 403)


class SuperuserRoleTests(MonographSetup, TestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.superuser)

    def test_superuser_can_edit_approve_and_delete(self):
        edit(self.client, self.form, reason="Tidy", usage="At night.")
        response = decide(self.client, self.form, "approve", "Fine")
        self.assertContains(response, "is published")
        self.assertEqual(self.status(), MagnesiumForm.Status.PUBLISHED)

        delete_url = f"{MONOGRAPH_ADMIN}{self.form.pk}/delete/"
        self.assertEqual(self.client.get(delete_url).status_code, 200)
        response = self.client.post(
            delete_url, {"post": "yes", "edit_summary": "Merged into another form"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertFalse(MagnesiumForm.objects.filter(pk=self.form.pk).exists())

    def test_superuser_manages_accounts(self):
        self.assertEqual(self.client.get("/admin/auth/user/").status_code, 200)


class WorkflowTests(MonographSetup, TestCase):
    def test_a_new_monograph_is_hidden_from_readers(self):
        anonymous = Client()
        number = latest_number(self.form)
        for url in [PUBLIC_URL, DRAFT_URL, f"{PUBLIC_URL}revisions/{number}/"]:
            with self.subTest(url=url):
                self.assertEqual(anonymous.get(url).status_code, 404)
        # Listed nowhere either.
        self.assertNotContains(anonymous.get("/forms/"), "Magnesium glycinate")

    def test_staff_preview_a_never_published_draft_under_a_banner(self):
        response = self.editor_client.get(DRAFT_URL)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Draft preview, not visible to readers.")
        self.assertContains(response, "Never published: readers get a 404.")
        self.assertContains(response, "Gentle on the gut.")

    def test_draft_url_is_a_404_for_anonymous_readers_of_a_published_monograph(self):
        factories.publish(self.form, user=self.reviewer)
        anonymous = Client()
        self.assertEqual(anonymous.get(PUBLIC_URL).status_code, 200)
        response = anonymous.get(DRAFT_URL)
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, "Gentle on the gut.", status_code=404)

    def test_submit_approve_publish(self):
        page = self.editor_client.get(change_url(self.form))
        self.assertContains(page, "Status: Draft.")
        self.assertContains(page, "never published, readers get a 404")

        response = submit(self.editor_client, self.form, "Ready for review")
        self.assertContains(response, "Magnesium glycinate is submitted for review.")
        self.assertEqual(self.status(), MagnesiumForm.Status.IN_REVIEW)
        submitted = ReviewEvent.objects.get(action=ReviewEvent.Action.SUBMITTED)
        self.assertEqual(submitted.user, self.editor)
        self.assertEqual(submitted.comment, "Ready for review")

        queue = self.reviewer_client.get(f"{MONOGRAPH_ADMIN}review-queue/")
        self.assertContains(queue, "Magnesium glycinate")
        self.assertContains(queue, "Ready for review")

        number = latest_number(self.form)
        before = timezone.now()
        response = decide(
            self.reviewer_client, self.form, "approve", "Checked the sources"
        )
        after = timezone.now()
        self.assertContains(
            response, f"Revision {number} of Magnesium glycinate is published."
        )
        self.assertEqual(self.status(), MagnesiumForm.Status.PUBLISHED)

        approval = ReviewEvent.objects.get(action=ReviewEvent.Action.APPROVED)
        self.assertEqual(approval.user, self.reviewer)
        self.assertEqual(approval.comment, "Checked the sources")
        self.assertEqual(approval.revision.number, number)
        self.assertEqual(approval.revision, self.form.published_revision)
        self.assertTrue(before <= approval.created_at <= after)

        public = Client().get(PUBLIC_URL)
        self.assertEqual(public.status_code, 200)
        self.assertContains(public, "Gentle on the gut.")
        self.assertContains(public, "by Rita Reviewer")
        self.assertContains(public, f"Revision {number}.")

        # The queue is empty again.
        queue = self.reviewer_client.get(f"{MONOGRAPH_ADMIN}review-queue/")
        self.assertContains(queue, "Nothing is awaiting review.")

    def test_the_approval_is_shown_in_the_revision_list(self):
        submit(self.editor_client, self.form)
        decide(self.reviewer_client, self.form, "approve", "Fine")
        page = self.editor_client.get(f"{MONOGRAPH_ADMIN}{self.form.pk}/revisions/")
        self.assertContains(page, "Approved by Rita Reviewer")
        self.assertContains(page, "(published)")

    def test_request_changes_with_a_comment(self):
        submit(self.editor_client, self.form)
        number = latest_number(self.form)
        response = decide(
            self.reviewer_client,
            self.form,
            "request-changes",
            "Add the dose for children.",
        )
        self.assertContains(response, "Changes requested for Magnesium glycinate.")
        self.assertEqual(self.status(), MagnesiumForm.Status.CHANGES_REQUESTED)
        event = ReviewEvent.objects.get(action=ReviewEvent.Action.CHANGES_REQUESTED)
        self.assertEqual(event.user, self.reviewer)
        self.assertEqual(event.comment, "Add the dose for children.")
        self.assertEqual(event.revision.number, number)
        self.assertIsNone(self.form.published_revision)

        # The editor sees why on the monograph's page, and can resubmit.
        page = self.editor_client.get(change_url(self.form))
        self.assertContains(page, "Status: Changes requested.")
        self.assertContains(page, "Add the dose for children.")
        # The comment ends its own sentence: no second stop after the quote.
        self.assertContains(page, "“Add the dose for children.”</p>")
        self.assertContains(page, "Submit for review")
        self.assertEqual(Client().get(PUBLIC_URL).status_code, 404)

    def test_a_decision_posted_without_its_revision_or_choice_is_a_400(self):
        submit(self.editor_client, self.form)
        page = self.reviewer_client.get(review_url(self.form))
        action, data = find_form(page, 'class="review-decision"')
        for changes, message in [
            ({"decision": "approve", "revision": ""}, "did not say which revision"),
            ({"decision": "approve", "revision": "x"}, "did not say which revision"),
            ({"decision": "publish-now"}, "Choose to approve or to request changes."),
            ({"decision": ""}, "Choose to approve or to request changes."),
        ]:
            with self.subTest(changes=changes):
                response = self.reviewer_client.post(
                    action, {**data, "comment": "Kept as typed.", **changes}
                )
                self.assertContains(response, message, status_code=400)
                # The page again, the comment as typed.
                self.assertContains(response, "Kept as typed.", status_code=400)
                self.assertEqual(self.status(), MagnesiumForm.Status.IN_REVIEW)
        self.assertIsNone(self.form.published_revision)

    def test_request_changes_without_a_comment_is_refused(self):
        submit(self.editor_client, self.form)
        for comment in ["", "   "]:
            with self.subTest(comment=comment):
                response = decide(
                    self.reviewer_client, self.form, "request-changes", comment
                )
                self.assertContains(
                    response,
                    "Say what needs to change: the comment is required.",
                    status_code=400,
                )
                self.assertEqual(self.status(), MagnesiumForm.Status.IN_REVIEW)
                self.assertFalse(
                    ReviewEvent.objects.filter(
                        action=ReviewEvent.Action.CHANGES_REQUESTED
                    ).exists()
                )

    def test_later_edits_stay_invisible_until_approved(self):
        factories.publish(self.form, user=self.reviewer)
        published_number = latest_number(self.form)

        data = open_change_form(self.editor_client, self.form)
        data.update(summary="Gentle on the stomach.", edit_summary="Reword summary")
        self.assertEqual(
            self.editor_client.post(change_url(self.form), data).status_code, 302
        )
        new_number = latest_number(self.form)
        self.assertEqual(self.status(), MagnesiumForm.Status.PUBLISHED_WITH_CHANGES)

        anonymous = Client()
        public = anonymous.get(PUBLIC_URL)
        self.assertContains(public, "Gentle on the gut.")
        self.assertNotContains(public, "Gentle on the stomach.")
        self.assertEqual(
            anonymous.get(f"{PUBLIC_URL}revisions/{new_number}/").status_code, 404
        )
        self.assertEqual(
            anonymous.get(f"{PUBLIC_URL}revisions/{published_number}/").status_code,
            200,
        )

        draft = self.editor_client.get(DRAFT_URL)
        self.assertContains(draft, "Draft preview, not visible to readers.")
        self.assertContains(draft, "Gentle on the stomach.")
        self.assertContains(draft, "Reword summary")
        self.assertContains(draft, f"(revision {published_number})")
        staff_public = self.editor_client.get(PUBLIC_URL)
        self.assertContains(staff_public, "Gentle on the gut.")
        self.assertContains(staff_public, "This monograph has changes awaiting review")

        submit(self.editor_client, self.form)
        decide(self.reviewer_client, self.form, "approve")
        public = anonymous.get(PUBLIC_URL)
        self.assertContains(public, "Gentle on the stomach.")
        self.assertNotContains(public, "Gentle on the gut.")

    def test_later_inline_edits_stay_invisible_until_approved(self):
        factories.publish(self.form, user=self.reviewer)
        data = open_change_form(self.editor_client, self.form)
        add_inline_row(
            data,
            "faqs",
            question="Does it help cramps?",
            answer="The evidence is weak.",
        )
        data["edit_summary"] = "Add a FAQ"
        self.assertEqual(
            self.editor_client.post(change_url(self.form), data).status_code, 302
        )
        self.assertNotContains(Client().get(PUBLIC_URL), "Does it help cramps?")
        self.assertContains(self.editor_client.get(DRAFT_URL), "Does it help cramps?")

    def test_approving_a_stale_revision_is_refused(self):
        factories.publish(self.form, user=self.reviewer)
        data = open_change_form(self.editor_client, self.form)
        data.update(summary="Gentle on the stomach.", edit_summary="Reword")
        self.editor_client.post(change_url(self.form), data)
        submit(self.editor_client, self.form)
        reviewed = latest_number(self.form)
        self.form.refresh_from_db()
        published = self.form.published_revision
        self.assertIsNotNone(published)

        # The reviewer opens the review page…
        page = self.reviewer_client.get(review_url(self.form))
        action, decision = find_form(page, 'class="review-decision"')
        self.assertEqual(decision["revision"], str(reviewed))
        # …meanwhile the editor saves again…
        data = open_change_form(self.editor_client, self.form)
        data.update(summary="Unreviewed words.", edit_summary="More")
        self.editor_client.post(change_url(self.form), data)
        # …and the reviewer approves what they saw.
        decision.update(decision="approve", comment="Checked every dose.")
        response = self.reviewer_client.post(action, decision)

        # The review page again, with the newer changes, the comment as typed
        # and a decision on the newer revision to take.
        self.assertContains(
            response,
            f"Revision {reviewed + 1} was saved after the revision {reviewed} you "
            "reviewed. Look at the latest changes first.",
            status_code=409,
        )
        self.assertContains(response, "Unreviewed", status_code=409)
        # First, what was saved since the revision the reviewer decided on.
        html = response.content.decode()
        since = html[html.index('id="since-reviewed"') :]
        self.assertIn(f"revision {reviewed} to {reviewed + 1}", since)
        since = since[: since.index("Changes against")]
        self.assertRegex(since, r"<del>(?:(?!</del>).)*Gentle")
        self.assertRegex(since, r"<ins>(?:(?!</ins>).)*Unreviewed")
        _, again = find_form(response, 'class="review-decision"')
        self.assertEqual(again["comment"], "Checked every dose.")
        self.assertEqual(again["revision"], str(reviewed + 1))
        self.form.refresh_from_db()
        self.assertEqual(self.form.published_revision, published)
        self.assertFalse(
            ReviewEvent.objects.filter(
                action=ReviewEvent.Action.APPROVED, revision__number__gt=reviewed - 1
            ).exists()
        )
        public = Client().get(PUBLIC_URL)
        self.assertContains(public, "Gentle on the gut.")
        self.assertNotContains(public, "Unreviewed words.")

    def test_requesting_changes_on_a_stale_revision_is_refused(self):
        submit(self.editor_client, self.form)
        page = self.reviewer_client.get(review_url(self.form))
        action, decision = find_form(page, 'class="review-decision"')
        edit(self.editor_client, self.form, reason="More", usage="New usage.")
        decision.update(decision="request-changes", comment="Fix the doses table.")
        response = self.reviewer_client.post(action, decision)
        self.assertContains(
            response,
            "you reviewed. Look at the latest changes first.",
            status_code=409,
        )
        _, again = find_form(response, 'class="review-decision"')
        self.assertEqual(again["comment"], "Fix the doses table.")
        self.assertEqual(self.status(), MagnesiumForm.Status.IN_REVIEW)

    def test_nothing_to_submit_when_the_latest_revision_is_published(self):
        factories.publish(self.form, user=self.reviewer)
        page = self.editor_client.get(change_url(self.form))
        self.assertContains(page, "Status: Published.")
        self.assertNotContains(page, "Submit for review")
        # A stale page's button pressed anyway:
        response = self.editor_client.post(submit_url(self.form), follow=True)
        self.assertContains(response, "has no unpublished changes to review.")
        self.assertEqual(self.status(), MagnesiumForm.Status.PUBLISHED)

    def test_submitting_twice_is_refused(self):
        submit(self.editor_client, self.form)
        response = self.editor_client.post(submit_url(self.form), follow=True)
        self.assertContains(response, "is already awaiting review.")
        self.assertEqual(
            ReviewEvent.objects.filter(action=ReviewEvent.Action.SUBMITTED).count(), 1
        )

    def test_a_published_revision_offers_no_decision(self):
        factories.publish(self.form, user=self.reviewer)
        page = self.reviewer_client.get(review_url(self.form))
        self.assertNotContains(page, "Approve and publish")
        self.assertContains(page, "No differences.")


class ReviewQueueTests(TestCase):
    queue_url = f"{MONOGRAPH_ADMIN}review-queue/"

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.glycinate = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            summary="Gentle on the gut for most people.",
        )
        factories.DoseFactory(form=cls.glycinate)
        factories.publish(cls.glycinate)
        cls.oxide = factories.MagnesiumFormFactory(name="Magnesium oxide")
        factories.publish(cls.oxide)
        cls.citrate = factories.MagnesiumFormFactory(name="Magnesium citrate")
        cls.malate = factories.MagnesiumFormFactory(name="Magnesium malate")

    def setUp(self):
        self.client.force_login(self.reviewer)
        self.editor_client = Client()
        self.editor_client.force_login(self.editor)

    def queue(self):
        response = self.client.get(self.queue_url)
        self.assertEqual(response.status_code, 200)
        return response

    def test_lists_monographs_awaiting_review_only(self):
        # glycinate: edited and submitted; oxide: published; citrate: a draft;
        # malate: sent back with changes requested.
        edit(self.editor_client, self.glycinate, reason="Reword", usage="Daily.")
        submit(self.editor_client, self.glycinate)
        submit(self.editor_client, self.malate)
        decide(self.client, self.malate, "request-changes", "Needs sources")

        html = self.queue().content.decode()
        headings = re.findall(r"<h2><a [^>]*>([^<]+)</a>", html)
        self.assertEqual(headings, ["Magnesium glycinate"])

    def test_shows_the_changed_words_against_the_published_revision(self):
        data = open_change_form(self.editor_client, self.glycinate)
        data["summary"] = "Gentle on the stomach for most people."
        data["doses-0-maximum_mg"] = "250"
        data["edit_summary"] = "Reword and lower the dose"
        self.editor_client.post(change_url(self.glycinate), data)
        submit(self.editor_client, self.glycinate, "Please check the dose")

        response = self.queue()
        self.glycinate.refresh_from_db()
        html = response.content.decode()
        self.assertRegex(html, r"<del>(?:(?!</del>).)*\bgut\b(?:(?!</del>).)*</del>")
        self.assertRegex(
            html, r"<ins>(?:(?!</ins>).)*\bstomach\b(?:(?!</ins>).)*</ins>"
        )
        self.assertRegex(html, r"<del>(?:(?!</del>).)*\b300\b(?:(?!</del>).)*</del>")
        self.assertRegex(html, r"<ins>(?:(?!</ins>).)*\b250\b(?:(?!</ins>).)*</ins>")
        # Unchanged words are not marked.
        self.assertNotRegex(html, r"<(ins|del)>(?:(?!</\1>).)*\bpeople\b")
        self.assertContains(response, "Please check the dose")
        self.assertContains(
            response,
            f"revision {Revision.objects.latest_number(self.glycinate.pk)}</h2>",
        )
        self.assertContains(
            response,
            "Changes against the published revision "
            f"{self.glycinate.published_revision.number}.",
        )

    def test_a_never_published_monograph_is_compared_with_nothing(self):
        submit(self.editor_client, self.citrate)
        response = self.queue()
        self.assertContains(
            response, "Changes against an empty monograph (never published)."
        )
        self.assertRegex(
            response.content.decode(),
            r"<ins>(?:(?!</ins>).)*Magnesium citrate(?:(?!</ins>).)*</ins>",
        )

    def test_warns_about_doses_above_the_upper_level(self):
        data = open_change_form(self.editor_client, self.glycinate)
        add_inline_row(
            data,
            "doses",
            population="Adults with migraine",
            purpose="Prevention",
            minimum_mg="400",
            maximum_mg="600",
            exceeds_ul_acknowledged="on",
        )
        data["edit_summary"] = "Add the migraine dose"
        self.editor_client.post(change_url(self.glycinate), data)
        submit(self.editor_client, self.glycinate)

        response = self.queue()
        self.assertContains(
            response, "Above the 350 mg/day Tolerable Upper Intake Level"
        )
        self.assertContains(
            response, "Adults with migraine, Prevention (400–600 mg/day)"
        )

    def test_row_sections_are_named_as_in_the_admin(self):
        data = open_change_form(self.editor_client, self.glycinate)
        add_inline_row(data, "faqs", question="With food?", answer="Yes.")
        data["edit_summary"] = "Add a FAQ"
        self.editor_client.post(change_url(self.glycinate), data)
        submit(self.editor_client, self.glycinate)
        queue = self.queue()
        self.assertContains(
            queue, '<h3 class="diff-section-heading">FAQs</h3>', html=False
        )
        self.assertContains(
            queue, "<strong>FAQs, added:</strong> With food?", html=False
        )


class PostedTextTests(MonographSetup, TestCase):
    """Reasons and comments read straight from the POST: a NUL character,
    which PostgreSQL cannot store, is a 400 that writes nothing, and a
    row id that is no ASCII number is no row."""

    nul = "Looks fine\x00"

    def setUp(self):
        super().setUp()
        edit(self.editor_client, self.form, summary="Changed once.")
        self.events = ReviewEvent.objects.count()
        self.revisions = Revision.objects.count()

    def assertRefused(self, response):
        self.assertEqual(response.status_code, 400)
        self.assertEqual(ReviewEvent.objects.count(), self.events)
        self.assertEqual(Revision.objects.count(), self.revisions)
        self.assertTrue(MagnesiumForm.objects.filter(pk=self.form.pk).exists())

    def posts(self, text):
        number = latest_number(self.form)
        return [
            (
                self.reviewer_client,
                review_url(self.form),
                {"decision": "approve", "revision": number, "comment": text},
            ),
            (self.editor_client, submit_url(self.form), {"comment": text}),
            (
                self.editor_client,
                f"{MONOGRAPH_ADMIN}{self.form.pk}/revisions/1/revert/",
                {"reason": text},
            ),
            (
                self.editor_client,
                f"{MONOGRAPH_ADMIN}{self.form.pk}/revisions/{number}/undo/",
                {"reason": text},
            ),
            (
                self.reviewer_client,
                f"{MONOGRAPH_ADMIN}{self.form.pk}/delete/",
                {"post": "yes", "edit_summary": text},
            ),
        ]

    def test_review_submit_revert_undo_and_delete_refuse_a_nul(self):
        for client, url, data in self.posts(self.nul):
            with self.subTest(url=url):
                response = client.post(url, data)
                self.assertRefused(response)
                self.assertContains(response, "Bad request", status_code=400)

    def test_they_refuse_a_character_that_reorders_the_text(self):
        for client, url, data in self.posts("Fixed \u202edesoD"):
            with self.subTest(url=url):
                response = client.post(url, data)
                self.assertRefused(response)
                self.assertContains(response, "U+202E", status_code=400)

    def test_they_refuse_more_than_the_field_takes(self):
        for client, url, data in self.posts("x" * 5001):
            with self.subTest(url=url):
                response = client.post(url, data)
                self.assertRefused(response)
                self.assertContains(response, "at most", status_code=400)

    def test_a_reason_of_invisible_characters_is_no_reason(self):
        blank = "\u200b\u200b \u2060"
        revert = self.editor_client.post(
            f"{MONOGRAPH_ADMIN}{self.form.pk}/revisions/1/revert/", {"reason": blank}
        )
        self.assertContains(revert, "Give a reason", status_code=400)
        request_changes = self.reviewer_client.post(
            review_url(self.form),
            {
                "decision": "request-changes",
                "revision": latest_number(self.form),
                "comment": blank,
            },
        )
        self.assertContains(request_changes, "comment is required", status_code=400)
        data = open_change_form(self.editor_client, self.form)
        data["edit_summary"] = blank
        data["summary"] = "Changed again."
        save = self.editor_client.post(change_url(self.form), data)
        self.assertContains(save, "Give an edit summary")
        self.assertEqual(ReviewEvent.objects.count(), self.events)
        self.assertEqual(Revision.objects.count(), self.revisions)

    def test_a_row_id_of_other_digits_is_no_row(self):
        response = self.editor_client.post(
            change_url(self.form),
            {
                "base_revision": str(latest_number(self.form)),
                "merge_take_theirs": "form:summary",
                "synonyms-TOTAL_FORMS": "1",
                "synonyms-0-id": "\u00b2",
                "edit_summary": "A forged row id",
            },
        )
        self.assertLess(response.status_code, 500)
