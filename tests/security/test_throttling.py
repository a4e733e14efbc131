"""
Login throttling by account and by address, behind proxies too.

Two policies (mgref/settings.py, monographs.security.LoginThrottleHandler):
five failures for one account lock that account, from every address; twenty
failures from one address lock that address, for every account. Behind
DJANGO_PROXY_COUNT proxies the address is the client's, read from
X-Forwarded-For past the proxies.
"""

from django.conf import settings
from django.core.checks import Warning
from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings

from monographs.checks import proxy_count_check
from monographs.security import ProxyHeaderMiddleware
from tests import factories

PASSWORD = "correct horse battery staple"
LOGIN = "/admin/login/?next=/admin/"


# A fast hasher: these tests log in over a hundred times.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ThrottleTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        factories.StaffFactory(username="target")
        factories.StaffFactory(username="colleague")

    def attempt(self, username, password="wrong", address="203.0.113.7", **meta):
        response = self.client.post(
            LOGIN,
            {"username": username, "password": password},
            REMOTE_ADDR=address,
            **meta,
        )
        if response.status_code == 302:
            self.client.logout()
        return response.status_code


class AccountLockTests(ThrottleTestCase):
    def test_the_defaults_are_five_per_account_and_twenty_per_address(self):
        self.assertEqual(settings.AXES_FAILURE_LIMIT, 5)
        self.assertEqual(settings.MGREF_ADDRESS_FAILURE_LIMIT, 20)
        self.assertEqual(settings.AXES_LOCKOUT_PARAMETERS, ["username", "ip_address"])

    def test_five_failures_from_five_addresses_lock_the_account(self):
        for number in range(1, 5):
            self.assertEqual(self.attempt("target", address=f"192.0.2.{number}"), 200)
        self.assertEqual(self.attempt("target", address="192.0.2.5"), 429)
        # From anywhere, even with the right password.
        self.assertEqual(self.attempt("target", PASSWORD, address="198.51.100.1"), 429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_a_locked_account_leaves_other_accounts_alone(self):
        for _ in range(5):
            self.attempt("target")
        self.assertEqual(self.attempt("colleague", PASSWORD), 302)

    def test_a_success_clears_the_accounts_failures(self):
        for _ in range(4):
            self.attempt("target", address="192.0.2.1")
        self.assertEqual(self.attempt("target", PASSWORD, address="192.0.2.2"), 302)
        for _ in range(4):
            self.assertEqual(self.attempt("target", address="192.0.2.3"), 200)


class AddressLockTests(ThrottleTestCase):
    def test_twenty_failures_from_one_address_lock_the_address(self):
        for number in range(19):
            self.assertEqual(self.attempt(f"guess{number}"), 200)
        self.assertEqual(self.attempt("guess19"), 429)
        # Every account, from that address; others are not affected.
        self.assertEqual(self.attempt("colleague", PASSWORD), 429)
        self.assertEqual(self.attempt("colleague", PASSWORD, address="192.0.2.9"), 302)

    def test_a_success_does_not_clear_the_addresss_failures(self):
        # Otherwise anyone with an account could reset the count between
        # guesses at other accounts.
        for number in range(15):
            self.attempt(f"guess{number}")
        for _ in range(4):
            self.attempt("target")
        self.assertEqual(self.attempt("target", PASSWORD), 302)
        # target's own four failures are forgiven; the fifteen others stay.
        for number in range(4):
            self.assertEqual(self.attempt(f"other{number}"), 200)
        self.assertEqual(self.attempt("other4"), 429)

    @override_settings(MGREF_ADDRESS_FAILURE_LIMIT=8, AXES_FAILURE_LIMIT=3)
    def test_both_limits_are_settings(self):
        for number in range(7):
            self.assertEqual(self.attempt(f"guess{number}"), 200)
        self.assertEqual(self.attempt("guess7"), 429)
        for number in range(2):
            self.attempt("target", address=f"192.0.2.{number}")
        self.assertEqual(self.attempt("target", address="192.0.2.9"), 429)


@override_settings(MGREF_PROXY_COUNT=1)
class BehindProxyTests(ThrottleTestCase):
    PROXY = "10.0.0.2"

    def through_proxy(self, username, client, password="wrong", forwarded=None):
        return self.attempt(
            username,
            password,
            address=self.PROXY,
            HTTP_X_FORWARDED_FOR=forwarded or client,
        )

    def test_one_client_behind_the_proxy_cannot_lock_out_another(self):
        for number in range(20):
            self.through_proxy(f"guess{number}", "203.0.113.7")
        self.assertEqual(self.through_proxy("colleague", "203.0.113.7", PASSWORD), 429)
        self.assertEqual(self.through_proxy("colleague", "198.51.100.9", PASSWORD), 302)

    def test_a_client_cannot_escape_its_lock_by_forging_the_header(self):
        for number in range(20):
            self.through_proxy(f"guess{number}", "203.0.113.7")
        forged = "198.51.100.9, 203.0.113.7"
        self.assertEqual(
            self.through_proxy("colleague", None, PASSWORD, forwarded=forged), 429
        )


class ProxyWarningTests(SimpleTestCase):
    def setUp(self):
        ProxyHeaderMiddleware.warned.clear()
        self.addCleanup(ProxyHeaderMiddleware.warned.clear)
        self.middleware = ProxyHeaderMiddleware(lambda request: "response")

    def request(self, **meta):
        return self.middleware(
            RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **meta)
        )

    @override_settings(MGREF_PROXY_COUNT=0)
    def test_a_forwarded_request_without_a_proxy_count_is_logged_once(self):
        with self.assertLogs("mgref.security", "WARNING") as logs:
            self.assertEqual(
                self.request(HTTP_X_FORWARDED_FOR="203.0.113.7"), "response"
            )
        [message] = logs.output
        self.assertIn("DJANGO_PROXY_COUNT is 0", message)
        self.assertIn("10.0.0.2", message)
        with self.assertNoLogs("mgref.security"):
            self.request(HTTP_X_FORWARDED_FOR="203.0.113.8")

    @override_settings(MGREF_PROXY_COUNT=0)
    def test_direct_requests_are_not_logged(self):
        with self.assertNoLogs("mgref.security"):
            self.request()

    @override_settings(MGREF_PROXY_COUNT=1)
    def test_a_matching_proxy_count_is_not_logged(self):
        with self.assertNoLogs("mgref.security"):
            self.request(HTTP_X_FORWARDED_FOR="203.0.113.7")

    @override_settings(MGREF_PROXY_COUNT=2)
    def test_a_proxy_count_higher_than_the_header_is_logged(self):
        with self.assertLogs("mgref.security", "WARNING") as logs:
            self.request(HTTP_X_FORWARDED_FOR="203.0.113.7")
        self.assertIn("too high", logs.output[0])

    def test_the_middleware_is_installed(self):
        self.assertIn("monographs.security.ProxyHeaderMiddleware", settings.MIDDLEWARE)


class ProxyCountCheckTests(SimpleTestCase):
    HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    @override_settings(SECURE_PROXY_SSL_HEADER=HEADER, MGREF_PROXY_COUNT=0)
    def test_warns_behind_a_proxy_without_a_proxy_count(self):
        [warning] = proxy_count_check(None)
        self.assertIsInstance(warning, Warning)
        self.assertEqual(warning.id, "mgref.W001")
        self.assertIn("DJANGO_PROXY_COUNT", warning.hint)

    @override_settings(SECURE_PROXY_SSL_HEADER=HEADER, MGREF_PROXY_COUNT=1)
    def test_silent_with_a_proxy_count(self):
        self.assertEqual(proxy_count_check(None), [])

    @override_settings(SECURE_PROXY_SSL_HEADER=None, MGREF_PROXY_COUNT=0)
    def test_silent_without_a_proxy(self):
        self.assertEqual(proxy_count_check(None), [])
