from unittest import mock

from django.db import OperationalError
from django.test import TestCase, override_settings

from tests import factories

PASSWORD = "correct horse battery staple"


class SecurityHeaderTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        factories.publish(factories.MagnesiumFormFactory(slug="magnesium-citrate"))

    def test_public_pages_carry_a_strict_content_security_policy(self):
        for url in [
            "/",
            "/forms/magnesium-citrate/",
            "/search/?q=citrate",
            "/admin/login/",
        ]:
            with self.subTest(url=url):
                policy = self.client.get(url)["Content-Security-Policy"]
                self.assertIn("default-src 'self'", policy)
                self.assertIn("script-src 'self'", policy)
                self.assertIn("frame-ancestors 'none'", policy)
                self.assertIn("object-src 'none'", policy)
                self.assertNotIn("unsafe-inline", policy)
                self.assertNotIn("unsafe-eval", policy)

    def test_responses_refuse_sniffing_framing_and_leaking_referrers(self):
        response = self.client.get("/forms/magnesium-citrate/")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["Referrer-Policy"], "same-origin")

    def test_session_and_csrf_cookies_are_http_only(self):
        factories.StaffFactory(username="staff")
        self.client.post("/admin/login/", {"username": "staff", "password": PASSWORD})
        self.assertTrue(self.client.cookies["sessionid"]["httponly"])
        self.assertTrue(self.client.cookies["csrftoken"]["httponly"])


class LoginThrottlingTests(TestCase):
    def setUp(self):
        self.user = factories.StaffFactory(username="target")

    def attempt(self, password, address="203.0.113.7"):
        return self.client.post(
            "/admin/login/?next=/admin/",
            {"username": "target", "password": password},
            REMOTE_ADDR=address,
        )

    def test_repeated_failures_lock_the_account(self):
        for _ in range(4):
            self.assertEqual(self.attempt("wrong").status_code, 200)
        locked = self.attempt("wrong")
        self.assertEqual(locked.status_code, 429)
        self.assertContains(locked, "Too many failed logins", status_code=429)
        # Even the right password is refused while the lock holds.
        self.assertEqual(self.attempt(PASSWORD).status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_the_lock_holds_for_the_account_from_another_address(self):
        # Accounts and addresses are locked separately (tests/security/
        # test_throttling.py): a locked account is locked everywhere.
        for _ in range(5):
            self.attempt("wrong")
        self.assertEqual(
            self.attempt(PASSWORD, address="198.51.100.9").status_code, 429
        )

    def test_another_account_from_the_same_address_can_still_log_in(self):
        factories.StaffFactory(username="colleague")
        for _ in range(5):
            self.attempt("wrong")
        response = self.client.post(
            "/admin/login/?next=/admin/",
            {"username": "colleague", "password": PASSWORD},
            REMOTE_ADDR="203.0.113.7",
        )
        self.assertRedirects(response, "/admin/", fetch_redirect_response=False)

    @override_settings(AXES_COOLOFF_TIME=None)
    def test_a_success_before_the_limit_resets_the_count(self):
        for _ in range(4):
            self.attempt("wrong")
        self.assertEqual(self.attempt(PASSWORD).status_code, 302)
        self.client.logout()
        for _ in range(4):
            self.assertEqual(self.attempt("wrong").status_code, 200)


class DatabaseUnavailableTests(TestCase):
    def broken_database(self):
        from django.db import connection

        # The connection itself, not its class: once a SimpleTestCase has run
        # in this process, Django has left the connection its own `cursor`
        # attribute (restoring it after blocking queries), which a patch of
        # the class would miss.
        return mock.patch.object(
            connection,
            "cursor",
            side_effect=OperationalError(
                "could not connect to server: Connection refused"
            ),
        )

    def test_pages_answer_503_with_retry_after_and_no_traceback(self):
        with self.broken_database():
            response = self.client.get("/forms/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "30")
        self.assertContains(response, "temporarily unavailable", status_code=503)
        self.assertNotContains(response, "Traceback", status_code=503)
        self.assertNotContains(response, "Connection refused", status_code=503)

    def test_healthz_reports_the_database(self):
        self.assertEqual(self.client.get("/healthz").json()["database"], "ok")
        with self.broken_database():
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(
            response.json(), {"status": "unavailable", "database": "unreachable"}
        )
        self.assertIn("Retry-After", response)


class ClientAddressTests(TestCase):
    def address(self, **meta):
        from django.test import RequestFactory

        from monographs.security import client_ip_address

        return client_ip_address(RequestFactory().get("/", **meta))

    def test_without_proxies_the_peer_is_the_client(self):
        self.assertEqual(
            self.address(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.5"),
            "192.0.2.1",
        )

    @override_settings(MGREF_PROXY_COUNT=1)
    def test_behind_one_proxy_a_forged_header_entry_is_ignored(self):
        self.assertEqual(
            self.address(
                REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
            ),
            "203.0.113.5",
        )
