import os
import subprocess
import sys
from pathlib import Path

from django.test import SimpleTestCase

BASE_DIR = Path(__file__).resolve().parent.parent
REAL_KEY = "k8$w!q2@z7#x9^v4&b1*n6(m3)p0_r5+t8=y2-u7~i4h1g9f6d3s0a"
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": REAL_KEY,
    "DJANGO_ALLOWED_HOSTS": "mgref.example",
}


def manage(*args, env):
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "mgref.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


class ProductionSettingsTests(SimpleTestCase):
    def test_refuses_to_start_without_a_secret_key(self):
        result = manage(
            "check",
            env={"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "mgref.example"},
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DJANGO_SECRET_KEY must be set", result.stderr)

    def test_refuses_a_weak_or_development_key(self):
        for key in ["short", "django-insecure-" + "x" * 60, "a" * 60]:
            with self.subTest(key=key):
                result = manage(
                    "check",
                    env={
                        "DJANGO_DEBUG": "false",
                        "DJANGO_SECRET_KEY": key,
                        "DJANGO_ALLOWED_HOSTS": "mgref.example",
                    },
                )
                self.assertNotEqual(result.returncode, 0)
                self.assertIn("DJANGO_SECRET_KEY must be set", result.stderr)

    def test_refuses_to_start_without_allowed_hosts(self):
        result = manage(
            "check", env={"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": REAL_KEY}
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DJANGO_ALLOWED_HOSTS must list", result.stderr)

    def test_deploy_check_is_clean_with_real_settings(self):
        result = manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            env={**PRODUCTION, "DJANGO_PROXY_COUNT": "1"},
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("no issues", result.stdout)

    def test_deploy_check_warns_when_the_proxy_count_is_not_set(self):
        # Production settings trust X-Forwarded-Proto from a proxy: the proxy
        # count for login throttling must be set too.
        result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("mgref.W001", result.stderr)
        self.assertIn("DJANGO_PROXY_COUNT", result.stderr)

    def test_rejects_a_debug_value_it_cannot_read(self):
        result = manage("check", env={"DJANGO_DEBUG": "maybe"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DJANGO_DEBUG must be true or false", result.stderr)


class DevelopmentSettingsTests(SimpleTestCase):
    def test_runs_in_debug_on_sqlite_with_nothing_set(self):
        result = manage(
            "shell",
            "-c",
            "from django.conf import settings; "
            "print(settings.DEBUG, settings.DATABASES['default']['ENGINE'])",
            env={},
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("True django.db.backends.sqlite3", result.stdout)


class DatabaseSettingsTests(SimpleTestCase):
    def database_options(self, database_url):
        result = manage(
            "shell",
            "-c",
            "from django.conf import settings; "
            "print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))",
            env={"DATABASE_URL": database_url} if database_url else {},
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_sqlite_takes_the_write_lock_up_front_and_waits_for_it(self):
        options = self.database_options("")
        self.assertIn("('transaction_mode', 'IMMEDIATE')", options)
        self.assertIn("('timeout', 20)", options)
        self.assertIn("PRAGMA journal_mode=WAL", options)

    def test_postgresql_gets_no_sqlite_options(self):
        options = self.database_options("postgres://u@127.0.0.1:5432/mgref")
        self.assertNotIn("transaction_mode", options)
        self.assertNotIn("PRAGMA", options)
