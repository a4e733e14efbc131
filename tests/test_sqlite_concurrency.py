"""
Concurrent writes on SQLite wait their turn instead of failing.

SQLite lets one connection write at a time. A transaction that starts by
reading and then writes (Django's default, BEGIN DEFERRED) fails at once
with "database is locked" when another connection wrote meanwhile, and the
request answers 500. mgref opens SQLite transactions IMMEDIATE, with a busy
timeout and WAL (mgref/settings.py), so the second writer waits.

This runs the site as it is deployed on SQLite: gunicorn with production
settings and several worker processes on a file database of its own, and
fires concurrent failed logins (django-axes records each one) and
concurrent admin saves of the same and of different monographs at it.
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

from django.db import connection
from django.test import SimpleTestCase

from tests.browser_forms import form_data

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
SECRET = "sqlite-concurrency-test-key-" + "k7#Qz9!vX2@mR4$wT6%yB8^nC1&pL3*e"
# Both editors of a monograph change its summary: the later save is merged
# with the earlier one, and the summary both changed is shown for a choice.
CONFLICT = "you both changed: Summary"
SETUP = textwrap.dedent(
    """
    from monographs.history import change_context
    from monographs.roles import sync_roles
    from tests import factories

    sync_roles()
    factories.SuperuserFactory(username="admin")
    with change_context(reason="Concurrency test"):
        for number in (1, 2):
            factories.MagnesiumFormFactory(
                name=f"Magnesium concurrate {number}",
                slug=f"magnesium-concurrate-{number}",
            )
    """
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """One client with its own cookies, talking to gunicorn over loopback."""

    def __init__(self, port, address):
        self.port = port
        self.address = address
        self.cookies = {}

    def request(self, method, path, fields=None):
        headers = {
            "Host": "127.0.0.1",
            "X-Forwarded-Proto": "https",
            # One proxy in front (DJANGO_PROXY_COUNT=1): each browser is a client.
            "X-Forwarded-For": self.address,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = "https://127.0.0.1"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, response.read().decode()
        finally:
            conn.close()

    def form(self, path, form_id=None):
        """The fields of the form at ``path``, as the browser would post them."""
        status, page = self.request("GET", path)
        if status != 200:
            raise AssertionError(f"GET {path} answered {status}")
        return form_data(SimpleNamespace(content=page.encode()), form_id)

    def log_in(self, username, password):
        fields = self.form("/admin/login/?next=/admin/")
        fields.update(username=username, password=password)
        return self.request("POST", "/admin/login/?next=/admin/", fields)


@unittest.skipUnless(
    connection.vendor == "sqlite", "SQLite's locking; PostgreSQL has row locks"
)
class SqliteConcurrencyTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = tempfile.mkdtemp(prefix="mgref-sqlite-")
        cls.addClassCleanup(shutil.rmtree, directory, True)
        cls.environment = {
            **{
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("DJANGO_", "GUNICORN_", "REDIS_"))
            },
            "DJANGO_SETTINGS_MODULE": "mgref.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_STATIC_ROOT": f"{directory}/static",
            "DJANGO_MEDIA_ROOT": f"{directory}/media",
            "DJANGO_PROXY_COUNT": "1",
            "DATABASE_URL": f"sqlite:///{directory}/db.sqlite3",
            "WEB_CONCURRENCY": "4",
            "GUNICORN_ACCESS_LOG": "",
        }
        for command in (
            ["migrate", "--no-input", "-v0"],
            ["collectstatic", "--no-input", "-v0"],
            ["shell", "-c", SETUP],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=BASE_DIR,
                env=cls.environment,
                check=True,
                capture_output=True,
                timeout=120,
            )
        cls.port = free_port()
        cls.log = open(f"{directory}/gunicorn.log", "w+")  # noqa: SIM115
        cls.addClassCleanup(cls.log.close)
        cls.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{cls.port}",
            ],
            cwd=BASE_DIR,
            env=cls.environment,
            stdout=cls.log,
            stderr=subprocess.STDOUT,
        )
        cls.addClassCleanup(cls.stop_server)
        deadline = time.monotonic() + 30
        while True:
            try:
                if Browser(cls.port, "192.0.2.1").request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)

    @classmethod
    def stop_server(cls):
        cls.server.terminate()
        cls.server.wait(timeout=30)

    def server_log(self):
        self.log.seek(0)
        return self.log.read()[-4000:]

    def assertNoServerError(self, status, body, what):
        self.assertNotEqual(status, 500, f"{what}: 500\n{self.server_log()}")
        self.assertLess(status, 500, f"{what}: {status}\n{self.server_log()}")
        self.assertNotIn("database is locked", body)

    def test_concurrent_failed_logins_are_all_answered(self):
        browsers = [Browser(self.port, f"198.51.100.{n}") for n in range(1, 13)]
        logins = []
        for number, browser in enumerate(browsers):
            fields = browser.form("/admin/login/?next=/admin/")
            fields.update(username=f"nobody{number % 2}", password="wrong")
            logins.append((browser, fields))

        with ThreadPoolExecutor(len(logins)) as pool:
            results = list(
                pool.map(
                    lambda login: login[0].request(
                        "POST", "/admin/login/?next=/admin/", login[1]
                    ),
                    logins,
                )
            )
        for status, body in results:
            self.assertNoServerError(status, body, "failed login")
            # Refused (200, the form again), or locked out once an account
            # has had its five failures.
            self.assertIn(status, {200, 429})
        self.assertIn(200, {status for status, _ in results})

    def test_concurrent_saves_of_the_same_and_different_monographs(self):
        editors = [Browser(self.port, f"203.0.113.{n}") for n in range(1, 5)]
        for editor in editors:
            status, body = editor.log_in("admin", PASSWORD)
            self.assertEqual(status, 302, body[:500])
        _, listing = editors[0].request("GET", "/admin/monographs/magnesiumform/")
        paths = sorted(
            set(
                re.findall(
                    r'href="(/admin/monographs/magnesiumform/\d+/change/)', listing
                )
            )
        )
        self.assertEqual(len(paths), 2, listing[:2000])

        # Two editors open each monograph, then all four save at once.
        saves = []
        for number, editor in enumerate(editors):
            path = paths[number % 2]
            fields = editor.form(path, "magnesiumform_form")
            fields["summary"] = f"Saved by editor {number}."
            fields["edit_summary"] = f"Concurrent save {number}"
            saves.append((editor, path, fields))
        with ThreadPoolExecutor(len(saves)) as pool:
            results = list(
                pool.map(lambda save: save[0].request("POST", save[1], save[2]), saves)
            )

        outcomes = {path: [] for path in paths}
        for (_, path, _), (status, body) in zip(saves, results, strict=True):
            self.assertNoServerError(status, body, f"save of {path}")
            if status == 302:
                outcomes[path].append("saved")
            else:
                self.assertEqual(status, 200)
                self.assertIn(CONFLICT, body, "a refused save says why")
                outcomes[path].append("conflict")
        # Each monograph: one save lands; the other, made from the older
        # revision, changed the same field: both versions shown, none lost.
        for path, seen in outcomes.items():
            self.assertEqual(sorted(seen), ["conflict", "saved"], path)
