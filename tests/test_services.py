from django.test import TestCase

from monographs.history import change_context
from monographs.models import MagnesiumForm
from tests import factories


class MonographSaveTests(TestCase):
    def test_a_copy_loaded_before_approval_does_not_undo_it(self):
        editor = factories.EditorFactory()
        form = factories.MagnesiumFormFactory(summary="First.")
        stale = MagnesiumForm.objects.get(pk=form.pk)
        factories.publish(form)
        with change_context(reason="Later edit", user=editor):
            stale.summary = "Second."
            stale.save()
        form.refresh_from_db()
        self.assertIsNotNone(form.published_revision)
        self.assertEqual(form.published_revision.number, 1)
        self.assertEqual(form.status, MagnesiumForm.Status.PUBLISHED_WITH_CHANGES)
        self.assertContains(self.client.get(form.get_absolute_url()), "First.")
