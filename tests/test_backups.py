import tempfile
from io import StringIO
from pathlib import Path

from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import TransactionTestCase

from monographs.history import change_context
from monographs.models import MagnesiumForm, Revision
from monographs.roles import sync_roles
from monographs.services import monograph_approve, seed_load
from tests import factories


def every_table():
    """{table: rows} for every model, history tables and auth included."""
    return {
        model._meta.db_table: sorted(
            (tuple(str(value) for value in row) for row in model.objects.values_list()),
        )
        for model in apps.get_models(include_auto_created=True)
    }


class BackupRestoreTests(TransactionTestCase):
    def setUp(self):
        sync_roles()
        seed_load()
        editor = factories.EditorFactory(username="ed")
        form = MagnesiumForm.objects.get(slug="magnesium-citrate")
        with change_context(reason="A reviewed change", user=editor):
            form.summary = "Citrate, as reviewed."
            form.save()
        monograph_approve(
            form=form,
            user=None,
            revision_number=Revision.objects.latest_number(form.pk),
        )
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.path = Path(folder.name) / "mgref.backup"

    def test_round_trip_restores_every_table(self):
        before = every_table()
        self.assertGreater(len(before["monographs_historicalmagnesiumform"]), 0)
        call_command("backup", str(self.path), stdout=StringIO())
        self.assertGreater(self.path.stat().st_size, 0)

        with change_context(reason="Lost later"):
            MagnesiumForm.objects.get(slug="magnesium-oxide").delete()
            factories.MagnesiumFormFactory(name="Magnesium made up")
        self.assertNotEqual(every_table(), before)

        call_command("restore", str(self.path), "--yes", stdout=StringIO())
        self.assertEqual(every_table(), before)

    def test_restore_moves_the_public_pages_version_stamp(self):
        from django.http import HttpRequest
        from django.test import override_settings

        from monographs.caching import site_stamp

        call_command("backup", str(self.path), stdout=StringIO())
        with override_settings(MGREF_SHARED_CACHE=True):
            before = site_stamp(HttpRequest())
            call_command("restore", str(self.path), "--yes", stdout=StringIO())
            self.assertNotEqual(site_stamp(HttpRequest()), before)

    def test_restore_refuses_what_is_not_a_backup(self):
        self.path.write_text("not a backup")
        before = every_table()
        with self.assertRaises(CommandError):
            call_command("restore", str(self.path), "--yes", stdout=StringIO())
        self.assertEqual(every_table(), before)

    def test_restore_asks_before_replacing_everything(self):
        call_command("backup", str(self.path), stdout=StringIO())
        with self.assertRaisesMessage(CommandError, "--yes"):
            call_command("restore", str(self.path), stdout=StringIO())
