from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.test import TestCase, TransactionTestCase

from monographs.history import change_context
from monographs.models import FAQ, MagnesiumForm, Revision
from monographs.roles import sync_roles
from monographs.services import seed_load
from tests import factories
from tests.browser_forms import form_data


class PartialSaveTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.form = factories.MagnesiumFormFactory(summary="Before.")
        factories.FAQFactory(form=cls.form, question="Kept?", answer="Yes.")

    def test_a_save_that_fails_half_way_leaves_nothing(self):
        self.client.force_login(self.editor)
        url = f"/admin/monographs/magnesiumform/{self.form.pk}/change/"
        data = form_data(self.client.get(url), "magnesiumform_form")
        data["summary"] = "After."
        data["faqs-0-answer"] = "Changed too."
        data["edit_summary"] = "Two changes"
        revisions = Revision.objects.count()
        history = MagnesiumForm.history.count() + FAQ.history.count()
        # The form row is written, then saving the inline rows fails.
        with (
            mock.patch(
                "monographs.admin.monographs.MagnesiumFormAdmin.save_related",
                side_effect=RuntimeError("disk full"),
            ),
            self.assertRaises(RuntimeError),
        ):
            self.client.post(url, data)
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Before.")
        self.assertEqual(FAQ.objects.get(form=self.form).answer, "Yes.")
        self.assertEqual(Revision.objects.count(), revisions)
        self.assertEqual(MagnesiumForm.history.count() + FAQ.history.count(), history)


class MigrationTests(TransactionTestCase):
    def test_migrating_a_populated_database_keeps_all_history(self):
        sync_roles()
        seed_load()
        with change_context(reason="An edit"):
            form = MagnesiumForm.objects.get(slug="magnesium-oxide")
            form.summary = "Edited."
            form.save()
        counts = {
            "revisions": Revision.objects.count(),
            "forms": MagnesiumForm.history.count(),
            "faqs": FAQ.history.count(),
        }
        call_command("migrate", "monographs", "0001", verbosity=0, stdout=StringIO())
        call_command("migrate", verbosity=0, stdout=StringIO())
        self.assertEqual(
            counts,
            {
                "revisions": Revision.objects.count(),
                "forms": MagnesiumForm.history.count(),
                "faqs": FAQ.history.count(),
            },
        )
        self.assertEqual(
            MagnesiumForm.history.filter(id=form.pk).first().summary, "Edited."
        )
