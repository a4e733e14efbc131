"""Email notifications of the review workflow, with Django's locmem backend."""

import logging
from unittest import mock

from django.core import mail
from django.test import TestCase, override_settings

from monographs import services
from monographs.history import change_context
from monographs.models import Revision
from monographs.services import notifications
from tests import factories


class NotificationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(username="ed", email="ed@example.com")
        cls.other_editor = factories.EditorFactory(username="ed2", email="")
        cls.reviewer = factories.ReviewerFactory(
            username="rev", email="rev@example.com"
        )
        cls.inactive = factories.ReviewerFactory(
            username="gone", email="gone@example.com", is_active=False
        )
        cls.form = factories.MagnesiumFormFactory(name="Magnesium glycinate")
        with change_context(reason="Edit", user=cls.editor):
            cls.form.summary = "Edited."
            cls.form.save()

    def latest(self):
        return Revision.objects.latest_number(self.form.pk)

    def submit(self):
        with self.captureOnCommitCallbacks(execute=True):
            services.monograph_submit(form=self.form, user=self.editor, comment="Ready")

    def test_reviewers_are_told_of_a_submission(self):
        self.submit()
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["rev@example.com"])
        self.assertIn("Magnesium glycinate is awaiting review", message.subject)
        self.assertIn("Ready", message.body)
        self.assertIn(
            f"/admin/monographs/magnesiumform/{self.form.pk}/review/", message.body
        )

    def test_the_author_is_told_of_an_approval(self):
        self.submit()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.monograph_approve(
                form=self.form,
                user=self.reviewer,
                revision_number=self.latest(),
                comment="Good.",
            )
        self.assertEqual([m.to for m in mail.outbox], [["ed@example.com"]])
        self.assertIn("is published", mail.outbox[0].subject)
        self.assertIn("Good.", mail.outbox[0].body)

    def test_the_author_is_told_of_a_request_for_changes(self):
        self.submit()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.monograph_request_changes(
                form=self.form,
                user=self.reviewer,
                revision_number=self.latest(),
                comment="Cite the trial.",
            )
        self.assertEqual([m.to for m in mail.outbox], [["ed@example.com"]])
        self.assertIn(
            "Changes requested for Magnesium glycinate", mail.outbox[0].subject
        )
        self.assertIn("Cite the trial.", mail.outbox[0].body)
        self.assertIn(
            f"/admin/monographs/magnesiumform/{self.form.pk}/change/",
            mail.outbox[0].body,
        )

    def test_nothing_is_sent_when_the_step_rolls_back(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            services.monograph_submit(form=self.form, user=self.editor)
        self.assertEqual(len(callbacks), 1)
        self.assertEqual(mail.outbox, [])

    @override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    def test_a_failure_to_send_is_logged_and_never_fails_the_step(self):
        with (
            mock.patch(
                "django.core.mail.backends.smtp.EmailBackend.send_messages",
                side_effect=OSError("mail server down"),
            ),
            self.assertLogs(notifications.logger, logging.ERROR) as logs,
        ):
            self.submit()
        self.assertIn("Could not send", logs.output[0])
        self.assertEqual(self.form.status, "in-review")

    def test_the_submission_page_sends_the_email(self):
        self.client.force_login(self.editor)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                f"/admin/monographs/magnesiumform/{self.form.pk}/submit/",
                {"comment": "Please look"},
            )
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("Please look", mail.outbox[0].body)
