"""Two gunicorn app servers on one PostgreSQL and one Redis behave as one site."""

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import TransactionTestCase

from monographs.history import change_context
from monographs.roles import sync_roles
from tests import factories

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
REDIS_URL = "redis://127.0.0.1:6379/7"
SECRET = "scale-out-test-key-" + "k7#Qz9!vX2@mR4$wT6%yB8^nC1&pL3*e"


def redis_available():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """One gunicorn with production settings, spoken to over plain HTTP on loopback.

    Requests claim HTTPS through X-Forwarded-Proto, as the reverse proxy would,
    so that secure cookies and CSRF work as in production.
    """

    def __init__(self, environment):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
            ],
            cwd=BASE_DIR,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.cookies = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "Host": "127.0.0.1",
            "X-Forwarded-Proto": "https",
            **(headers or {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = "https://127.0.0.1"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        content = response.read().decode()
        conn.close()
        return response.status, content

    def post_form(self, path, fields):
        from urllib.parse import urlencode

        _, page = self.request("GET", path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request(
            "POST", path, urlencode({**fields, "csrfmiddlewaretoken": token})
        )

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@unittest.skipUnless(
    os.environ.get("DATABASE_URL", "").startswith("postgres") and redis_available(),
    "needs PostgreSQL (DATABASE_URL) and Redis on 127.0.0.1:6379",
)
class ScaleOutTests(TransactionTestCase):
    def setUp(self):
        sync_roles()
        self.reviewer = factories.ReviewerFactory(username="rev")
        editor = factories.EditorFactory(username="ed")
        self.form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate", summary="Old summary."
        )
        factories.publish(self.form)
        with change_context(reason="Better summary", user=editor):
            self.form.summary = "New summary, approved on one server."
            self.form.save()

        # The servers' cache holds pages of earlier runs on other databases
        # of the same name: this site starts with none of them.
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()

        settings = connection.settings_dict
        static_root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, static_root, True)
        environment = {
            **os.environ,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_STATIC_ROOT": static_root,
            "DATABASE_URL": (
                f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
                f"{settings['PORT'] or 5432}/{settings['NAME']}"
            ),
            "REDIS_URL": REDIS_URL,
            "GUNICORN_ACCESS_LOG": "",
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=BASE_DIR,
            env=environment,
            check=True,
        )
        self.first = AppServer(environment)
        self.addCleanup(self.first.stop)
        self.second = AppServer(environment)
        self.addCleanup(self.second.stop)

    def test_an_approval_on_one_server_is_read_at_once_from_the_other(self):
        # Readers of the second server have the old page cached.
        status, page = self.second.request("GET", "/forms/magnesium-citrate/")
        self.assertEqual(status, 200)
        self.assertIn("Old summary.", page)

        status, _ = self.first.post_form(
            "/admin/login/?next=/admin/", {"username": "rev", "password": PASSWORD}
        )
        self.assertEqual(status, 302)
        status, _ = self.first.post_form(
            f"/admin/monographs/magnesiumform/{self.form.pk}/review/",
            {"decision": "approve", "revision": "2", "comment": ""},
        )
        self.assertEqual(status, 302)

        status, page = self.second.request("GET", "/forms/magnesium-citrate/")
        self.assertEqual(status, 200)
        self.assertIn("New summary, approved on one server.", page)
        self.assertNotIn("Old summary.", page)

    def test_a_session_started_on_one_server_holds_on_the_other(self):
        self.first.post_form(
            "/admin/login/?next=/admin/", {"username": "rev", "password": PASSWORD}
        )
        self.second.cookies = dict(self.first.cookies)
        status, page = self.second.request("GET", "/admin/")
        self.assertEqual(status, 200)
        self.assertIn("Log out", page)
        self.assertTrue(get_user_model().objects.get(username="rev").last_login)

    def test_a_worker_killed_mid_request_loses_nothing_committed(self):
        import signal
        import threading

        from monographs.models import MagnesiumForm, Revision

        self.first.post_form(
            "/admin/login/?next=/admin/", {"username": "rev", "password": PASSWORD}
        )
        status, _ = self.first.post_form(
            f"/admin/monographs/magnesiumform/{self.form.pk}/review/",
            {"decision": "approve", "revision": "2", "comment": "Committed."},
        )
        self.assertEqual(status, 302)

        # A save in flight while every worker of its server is killed.
        path = f"/admin/monographs/magnesiumform/{self.form.pk}/change/"
        _, page = self.first.request("GET", path)
        self.assertIn("base_revision", page)
        thread = threading.Thread(
            target=lambda: self._save_ignoring_errors(path, page), daemon=True
        )
        thread.start()
        for pid in self.first.worker_pids():
            os.kill(pid, signal.SIGKILL)
        thread.join(timeout=30)

        # What was committed before is all there, readable from both servers.
        for server in (self.first, self.second):
            status, body = self._get_when_ready(server, "/forms/magnesium-citrate/")
            self.assertEqual(status, 200)
            self.assertIn("New summary, approved on one server.", body)
        form = MagnesiumForm.objects.get(pk=self.form.pk)
        self.assertEqual(form.published_revision.number, 2)
        # The interrupted save either committed whole or left nothing behind.
        for revision in Revision.objects.filter(form=form):
            self.assertTrue(
                MagnesiumForm.history.filter(revision=revision).exists(),
                f"revision {revision.number} has no rows",
            )

    def _save_ignoring_errors(self, path, page):
        from urllib.parse import urlencode

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        base = re.search(r'name="base_revision" value="(\d+)"', page).group(1)
        fields = {
            "csrfmiddlewaretoken": token,
            "name": "Magnesium citrate",
            "slug": "magnesium-citrate",
            "category": "organic-salt",
            "elemental_mg_percent": "14.10",
            "summary": "Interrupted edit.",
            "edit_summary": "Interrupted",
            "base_revision": base,
        }
        # The connection may die with the worker: that is the point.
        with contextlib.suppress(OSError, http.client.HTTPException):
            self.first.request("POST", path, urlencode(fields))

    def _get_when_ready(self, server, path):
        deadline = time.monotonic() + 20
        while True:
            try:
                return server.request("GET", path)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
