from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings


class CreateDemoAccountsTests(TestCase):
    @override_settings(DEBUG=True)
    def test_creates_an_editor_a_reviewer_and_an_admin_and_prints_passwords_once(self):
        out = StringIO()
        call_command("create_demo_accounts", stdout=out)
        User = get_user_model()
        editor = User.objects.get(username="editor")
        reviewer = User.objects.get(username="reviewer")
        admin = User.objects.get(username="admin")
        self.assertEqual(
            list(editor.groups.values_list("name", flat=True)), ["Editors"]
        )
        self.assertEqual(
            list(reviewer.groups.values_list("name", flat=True)), ["Reviewers"]
        )
        self.assertTrue(admin.is_superuser)
        self.assertTrue(editor.is_staff and reviewer.is_staff)
        password = next(
            line.split()[1]
            for line in out.getvalue().splitlines()
            if line.strip().startswith("editor")
        )
        self.assertTrue(editor.check_password(password))

        again = StringIO()
        call_command("create_demo_accounts", stdout=again)
        self.assertNotIn(password, again.getvalue())
        self.assertIn("already exist", again.getvalue())

    @override_settings(DEBUG=False)
    def test_refuses_outside_debug(self):
        with self.assertRaisesMessage(CommandError, "DJANGO_DEBUG is off"):
            call_command("create_demo_accounts", stdout=StringIO())
        self.assertFalse(get_user_model().objects.exists())


class RoleTests(TestCase):
    def test_editors_cannot_publish_and_reviewers_can(self):
        from tests.factories import EditorFactory, ReviewerFactory

        editor = EditorFactory()
        reviewer = ReviewerFactory()
        self.assertTrue(editor.has_perm("monographs.change_magnesiumform"))
        self.assertFalse(editor.has_perm("monographs.publish_magnesiumform"))
        self.assertFalse(editor.has_perm("monographs.delete_magnesiumform"))
        self.assertTrue(editor.has_perm("monographs.delete_dose"))
        self.assertTrue(reviewer.has_perm("monographs.publish_magnesiumform"))
        self.assertTrue(reviewer.has_perm("monographs.delete_magnesiumform"))


class RoleDefinitionTests(TestCase):
    def test_migrated_groups_match_the_role_definitions(self):
        from django.contrib.auth.models import Group

        from monographs.roles import (
            EDITOR_PERMISSIONS,
            EDITORS,
            REVIEWER_PERMISSIONS,
            REVIEWERS,
        )

        for name, expected in [
            (EDITORS, EDITOR_PERMISSIONS),
            (REVIEWERS, REVIEWER_PERMISSIONS),
        ]:
            with self.subTest(group=name):
                group = Group.objects.get(name=name)
                self.assertEqual(
                    set(group.permissions.values_list("codename", flat=True)),
                    set(expected),
                )


class AdminSiteNameTests(TestCase):
    def test_the_login_page_names_mgref_not_django(self):
        page = self.client.get("/admin/login/")
        self.assertContains(page, "mgref editorial desk")
        self.assertNotContains(page, "Django administration")
        self.assertNotContains(page, "Django site admin")
