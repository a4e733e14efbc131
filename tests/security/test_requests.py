"""
Requests that cannot be served fail cleanly: a 4xx that says why, never a 500.
"""

from django.conf import settings
from django.test import Client, TestCase, override_settings

from tests import factories

PASSWORD = "correct horse battery staple"
PRODUCTION = {"DEBUG": False, "ALLOWED_HOSTS": ["mgref.example"]}


@override_settings(**PRODUCTION)
class BadHostTests(TestCase):
    """A Host header outside ALLOWED_HOSTS gets the 400 page."""

    hosts = [
        "evil.example",
        "mgref.example.evil.example",
        "evil.example:8000",
        "mgref.example@evil.example",
        "",
        "a" * 300,
        "évil.example",
        "mgref.example/../admin",
    ]
    urls = [
        "/",
        "/forms/",
        "/forms/magnesium-unknown/",
        "/citations/export.bib",
        "/admin/",
        "/admin/login/",
        "/healthz",
        "/no-such-page/",
    ]

    def test_every_page_answers_400_not_500(self):
        # The default client re-raises any exception a view or handler lets
        # through, so a crash in the 400 page itself fails here.
        for host in self.hosts:
            for url in self.urls:
                with self.subTest(host=host, url=url):
                    response = self.client.get(url, HTTP_HOST=host)
                    self.assertEqual(response.status_code, 400)
                    self.assertContains(response, "Bad request", status_code=400)

    def test_posts_answer_400_too(self):
        for url in ["/admin/login/", "/markdownx/upload/", "/forms/"]:
            with self.subTest(url=url):
                response = self.client.post(
                    url, {"username": "a", "password": "b"}, HTTP_HOST="evil.example"
                )
                self.assertEqual(response.status_code, 400)

    def test_the_400_page_does_not_echo_the_host(self):
        response = self.client.get("/forms/", HTTP_HOST="evil.example")
        self.assertNotContains(response, "evil.example", status_code=400)
        # Its canonical link is the bare path: the host cannot be trusted.
        self.assertContains(
            response, '<link rel="canonical" href="/forms/">', status_code=400
        )

    def test_an_allowed_host_is_served(self):
        response = self.client.get("/healthz", HTTP_HOST="mgref.example")
        self.assertEqual(response.status_code, 200)


class LoginRedirectTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        factories.StaffFactory(username="staff")

    def log_in(self, next_url):
        return self.client.post(
            "/admin/login/",
            {"username": "staff", "password": PASSWORD, "next": next_url},
        )

    def test_an_off_site_next_lands_on_the_admin_index(self):
        for next_url in [
            "https://evil.example/",
            "//evil.example/admin/",
            "javascript:alert(1)",
            "https:///evil.example",
            "\\\\evil.example",
        ]:
            with self.subTest(next=next_url):
                self.client.logout()
                response = self.log_in(next_url)
                self.assertRedirects(response, "/admin/", fetch_redirect_response=False)

    def test_an_off_site_next_in_the_address_lands_on_the_admin_index(self):
        response = self.client.post(
            "/admin/login/?next=https://evil.example/",
            {"username": "staff", "password": PASSWORD},
        )
        self.assertRedirects(response, "/admin/", fetch_redirect_response=False)

    def test_an_on_site_next_is_followed(self):
        response = self.log_in("/admin/monographs/")
        self.assertRedirects(
            response, "/admin/monographs/", fetch_redirect_response=False
        )

    def test_settings_point_at_the_admin(self):
        self.assertEqual(settings.LOGIN_REDIRECT_URL, "admin:index")
        self.assertEqual(settings.LOGIN_URL, "admin:login")


@override_settings(**PRODUCTION)
class RequestTooLargeTests(TestCase):
    """Oversized posts get a 413 that says what the limit is."""

    def setUp(self):
        # As an editor's browser: with a CSRF cookie, whose check reads the
        # form before any view does.
        self.client = Client(enforce_csrf_checks=True, HTTP_HOST="mgref.example")
        self.client.get("/admin/login/")
        self.assertIn(settings.CSRF_COOKIE_NAME, self.client.cookies)

    def test_the_limits_are_ten_megabytes_and_ten_thousand_fields(self):
        self.assertEqual(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 10 * 1024 * 1024)
        self.assertEqual(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS, 10_000)

    def test_a_body_over_the_limit_is_a_413(self):
        body = "summary=" + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        for url in ["/admin/login/", "/admin/monographs/magnesiumform/1/change/"]:
            with self.subTest(url=url):
                response = self.client.post(
                    url, body, content_type="application/x-www-form-urlencoded"
                )
                self.assertEqual(response.status_code, 413)
                self.assertTrue(response["Content-Type"].startswith("text/html"))
                self.assertContains(response, "Request too large", status_code=413)
                self.assertContains(response, "larger than 10.0", status_code=413)
                self.assertContains(response, "Nothing was saved", status_code=413)

    def test_a_body_within_the_limit_is_read(self):
        body = "username=a&password=" + "x" * (1024 * 1024)
        response = self.client.post(
            "/admin/login/", body, content_type="application/x-www-form-urlencoded"
        )
        # Read, and refused for its missing CSRF token, not for its size.
        self.assertEqual(response.status_code, 403)

    @override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
    def test_too_many_fields_is_a_413(self):
        body = "&".join(f"field{number}=x" for number in range(11))
        response = self.client.post(
            "/admin/login/", body, content_type="application/x-www-form-urlencoded"
        )
        self.assertEqual(response.status_code, 413)
        self.assertContains(response, "more than 10 fields", status_code=413)

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
    def test_the_413_page_is_plain_and_not_cached(self):
        response = self.client.post(
            "/admin/login/",
            "x=" + "y" * 200,
            content_type="application/x-www-form-urlencoded",
        )
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response["Cache-Control"], "no-store")
        self.assertContains(response, "larger than 100", status_code=413)
        self.assertNotIn(b"<script", response.content)

    def test_other_bad_requests_keep_the_400_page(self):
        response = self.client.get("/forms/", HTTP_HOST="evil.example")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Bad request", status_code=400)
