from pathlib import Path
from tempfile import TemporaryDirectory
from unittest import mock

from django.test import SimpleTestCase, TestCase, override_settings

from monographs.history import change_context
from monographs.models import MagnesiumForm, Publication
from tests import factories


class PublicPageCacheTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate", summary="First text."
        )
        factories.publish(cls.form)

    def edit_and_publish(self, summary):
        with change_context(reason="Rewrite", user=self.editor):
            self.form.summary = summary
            self.form.save()
        factories.publish(self.form)

    def test_readers_get_validators_and_a_cached_copy(self):
        first = self.client.get("/forms/magnesium-citrate/")
        self.assertEqual(first["X-Cache"], "miss")
        self.assertTrue(first["ETag"])
        self.assertIn("Last-Modified", first)
        self.assertIn("public", first["Cache-Control"])
        self.assertIn("Cookie", first["Vary"])
        # A hit costs one indexed query, whatever the monograph holds.
        with self.assertNumQueries(1):
            second = self.client.get("/forms/magnesium-citrate/")
        self.assertEqual(second["X-Cache"], "hit")
        self.assertEqual(second.content, first.content)
        self.assertEqual(second["ETag"], first["ETag"])

    def test_shared_pages_are_last_modified_at_the_latest_approval(self):
        from django.utils.http import http_date

        from monographs.models import Publication

        approved = Publication.objects.get(form=self.form).approved_at
        for url in ["/", "/forms/"]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(
                    response["Last-Modified"], http_date(approved.timestamp())
                )

    def test_conditional_requests_get_304(self):
        first = self.client.get("/forms/magnesium-citrate/")
        by_etag = self.client.get(
            "/forms/magnesium-citrate/", HTTP_IF_NONE_MATCH=first["ETag"]
        )
        self.assertEqual(by_etag.status_code, 304)
        self.assertEqual(by_etag.content, b"")
        by_date = self.client.get(
            "/forms/magnesium-citrate/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
        )
        self.assertEqual(by_date.status_code, 304)
        stale = self.client.get(
            "/forms/magnesium-citrate/", HTTP_IF_NONE_MATCH='"stale"'
        )
        self.assertEqual(stale.status_code, 200)

    def test_conditional_requests_for_missing_pages_are_404(self):
        future = "Fri, 01 Jan 2100 00:00:00 GMT"
        for url in [
            "/forms/magnesium-citrate/revisions/999/",
            "/indications/no-such-use/",
            "/citations/999999/",
        ]:
            with self.subTest(url=url):
                response = self.client.get(url, HTTP_IF_MODIFIED_SINCE=future)
                self.assertEqual(response.status_code, 404)

    def test_unknown_query_parameters_make_no_cache_entries(self):
        from django.core.cache import cache

        first = self.client.get("/forms/")
        keys = set(cache._cache) if hasattr(cache, "_cache") else None
        for n in range(20):
            response = self.client.get(f"/forms/?x={n}")
            self.assertEqual(response["X-Cache"], "hit")
            self.assertEqual(response.content, first.content)
        if keys is not None:
            self.assertEqual(set(cache._cache), keys)
        # A parameter the view reads is part of the key.
        self.assertEqual(self.client.get("/search/?q=citrate")["X-Cache"], "miss")
        self.assertEqual(
            self.client.get("/search/?q=citrate&utm_source=x")["X-Cache"], "hit"
        )
        self.assertEqual(self.client.get("/search/?q=other")["X-Cache"], "miss")

    def test_an_approval_shows_at_once_on_every_cached_page(self):
        pages = [
            "/forms/magnesium-citrate/",
            "/forms/",
            "/api/v1/forms/magnesium-citrate/",
        ]
        before = {url: self.client.get(url) for url in pages}
        self.edit_and_publish("Second text.")
        for url in pages:
            with self.subTest(url=url):
                after = self.client.get(url)
                self.assertEqual(after["X-Cache"], "miss")
                # The ETag names the content: it moves where the content did.
                self.assertEqual(
                    after["ETag"] == before[url]["ETag"],
                    after.content == before[url].content,
                )
        self.assertNotEqual(self.client.get(pages[0])["ETag"], before[pages[0]]["ETag"])
        self.assertContains(
            self.client.get("/forms/magnesium-citrate/"), "Second text."
        )

    def test_a_new_release_misses_pages_the_old_one_stored(self):
        self.client.get("/forms/magnesium-citrate/")
        self.assertEqual(self.client.get("/forms/magnesium-citrate/")["X-Cache"], "hit")
        with mock.patch("monographs.caching.RELEASE", "next-release"):
            self.assertEqual(
                self.client.get("/forms/magnesium-citrate/")["X-Cache"], "miss"
            )
            self.assertEqual(
                self.client.get("/forms/magnesium-citrate/")["X-Cache"], "hit"
            )

    def test_an_unapproved_edit_keeps_the_cached_published_page(self):
        self.client.get("/forms/magnesium-citrate/")
        with change_context(reason="Draft", user=self.editor):
            self.form.summary = "Unapproved text."
            self.form.save()
        response = self.client.get("/forms/magnesium-citrate/")
        self.assertNotContains(response, "Unapproved text.")

    def test_staff_are_never_served_from_the_cache(self):
        reader_page = self.client.get("/forms/magnesium-citrate/")
        with change_context(reason="Draft", user=self.editor):
            self.form.summary = "Unapproved text."
            self.form.save()
        self.client.force_login(self.editor)
        response = self.client.get("/forms/magnesium-citrate/")
        self.assertNotIn("X-Cache", response)
        self.assertIn("private", response["Cache-Control"])
        self.assertContains(response, "Preview the draft")
        self.assertNotEqual(response.content, reader_page.content)

    def test_readers_never_get_a_page_rendered_for_staff(self):
        self.client.force_login(self.editor)
        self.client.get("/forms/magnesium-citrate/")
        self.client.logout()
        response = self.client.get("/forms/magnesium-citrate/")
        self.assertEqual(response["X-Cache"], "miss")
        self.assertNotContains(response, 'href="/admin/"')


def without_date(response):
    return {
        name: value
        for name, value in response.items()
        if name not in ("Date", "X-Cache")
    }


class FrontCacheTests(TestCase):
    """Hits are answered before the stack, exactly as the stack answered."""

    url = "/forms/magnesium-citrate/"

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate", summary="First text."
        )
        factories.publish(cls.form)

    def test_a_hit_has_the_headers_and_bytes_of_the_miss(self):
        for url in [self.url, "/forms/", "/api/v1/forms/", "/citations/export.ris"]:
            with self.subTest(url=url):
                miss = self.client.get(url)
                hit = self.client.get(url)
                self.assertEqual((miss["X-Cache"], hit["X-Cache"]), ("miss", "hit"))
                self.assertEqual(without_date(hit), without_date(miss))
                self.assertEqual(hit.content, miss.content)
        hit = self.client.get(self.url)
        for header in [
            "Content-Security-Policy",
            "Referrer-Policy",
            "X-Content-Type-Options",
            "X-Frame-Options",
            "ETag",
            "Last-Modified",
            "Cache-Control",
            "Content-Length",
        ]:
            self.assertIn(header, hit)
        self.assertEqual(hit["Vary"], "Cookie, Accept-Encoding")

    def test_a_hit_runs_nothing_of_the_stack(self):
        self.client.get(self.url)
        # One query, for the stamp: no session, no axes, no history, no view.
        with self.assertNumQueries(1):
            hit = self.client.get(self.url)
        self.assertNotIn("request", hit.wsgi_request.__dict__.get("_messages", {}))
        self.assertFalse(hasattr(hit.wsgi_request, "user"))
        self.assertFalse(hasattr(hit.wsgi_request, "session"))

    def test_compressed_once_and_served_by_accept_encoding(self):
        import gzip

        import brotli

        plain = self.client.get(self.url)
        zipped = self.client.get(self.url, HTTP_ACCEPT_ENCODING="gzip, deflate")
        self.assertEqual(zipped["Content-Encoding"], "gzip")
        self.assertEqual(gzip.decompress(zipped.content), plain.content)
        self.assertEqual(int(zipped["Content-Length"]), len(zipped.content))
        squeezed = self.client.get(self.url, HTTP_ACCEPT_ENCODING="gzip, br")
        self.assertEqual(squeezed["Content-Encoding"], "br")
        self.assertEqual(brotli.decompress(squeezed.content), plain.content)
        self.assertLess(len(squeezed.content), len(plain.content) / 3)
        refused = self.client.get(self.url, HTTP_ACCEPT_ENCODING="br;q=0, gzip;q=0")
        self.assertNotIn("Content-Encoding", refused)
        # Each encoding is its own representation, with its own validator.
        etags = {plain["ETag"], zipped["ETag"], squeezed["ETag"]}
        self.assertEqual(len(etags), 3)
        again = self.client.get(
            self.url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"]
        )
        self.assertEqual(again.status_code, 304)

    def test_conditional_requests_on_a_hit(self):
        first = self.client.get(self.url)
        self.assertEqual(self.client.get(self.url)["X-Cache"], "hit")
        with self.assertNumQueries(1):
            by_etag = self.client.get(self.url, HTTP_IF_NONE_MATCH=first["ETag"])
        self.assertEqual(by_etag.status_code, 304)
        self.assertEqual(by_etag["ETag"], first["ETag"])
        by_date = self.client.get(
            self.url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
        )
        self.assertEqual(by_date.status_code, 304)

    def test_head_is_answered_like_get_without_a_body(self):
        get = self.client.get(self.url)
        for _ in range(2):
            head = self.client.head(self.url)
            self.assertEqual(head.status_code, 200)
            self.assertEqual(head.content, b"")
            self.assertEqual(head["Content-Length"], get["Content-Length"])
            self.assertEqual(head["ETag"], get["ETag"])

    def test_a_session_cookie_always_goes_through_the_stack(self):
        self.client.get(self.url)
        self.client.cookies["sessionid"] = "not-a-real-session"
        response = self.client.get(self.url)
        self.assertNotIn("X-Cache", response)
        self.assertIn("private", response["Cache-Control"])
        self.client.force_login(self.editor)
        response = self.client.get(self.url)
        self.assertNotIn("X-Cache", response)

    def test_a_response_with_a_csrf_token_or_cookie_is_never_stored(self):
        from django.core.cache import cache
        from django.http import HttpRequest, HttpResponse
        from django.middleware.csrf import get_token

        from monographs.caching import PageCache

        request = HttpRequest()
        request.method = "GET"
        pages = PageCache()

        def storable(request, response):
            return pages.store(request, response, key="mgref:test:", stamp="s")

        token_page = HttpResponse("<form><input name=csrfmiddlewaretoken></form>")
        token_page.mgref_last_modified = 0
        get_token(request)
        self.assertIsNone(storable(request, token_page))
        cookie_page = HttpResponse("page")
        cookie_page.mgref_last_modified = 0
        cookie_page.set_cookie("tracking", "1")
        self.assertIsNone(storable(HttpRequest(), cookie_page))
        entries = [f"mgref:test:{encoding}" for encoding in ("", "gzip", "br")]
        self.assertEqual(cache.get_many(entries), {})
        plain_page = HttpResponse("page")
        plain_page.mgref_last_modified = 0
        self.assertIsNotNone(storable(HttpRequest(), plain_page))
        self.assertEqual(len(cache.get_many(entries)), 3)

    def test_staff_pages_are_never_stored(self):
        self.client.force_login(self.editor)
        self.client.get(self.url)
        self.client.logout()
        self.assertEqual(self.client.get(self.url)["X-Cache"], "miss")


class VersionStampTests(TestCase):
    """With a shared cache, the stamp lives there and moves on each public write."""

    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        cls.form = factories.MagnesiumFormFactory(summary="First text.")
        factories.publish(cls.form)

    def stamp_after(self, write):
        from django.http import HttpRequest

        from monographs.caching import site_stamp

        before = site_stamp(HttpRequest())
        with self.captureOnCommitCallbacks(execute=True):
            write()
        return before, site_stamp(HttpRequest())

    def test_each_kind_of_public_write_moves_it(self):
        from django.test import override_settings

        from monographs import services

        def approve():
            with change_context(reason="Rewrite", user=self.reviewer):
                self.form.summary = "Second text."
                self.form.save()
            factories.publish(self.form, user=self.reviewer)

        def delete():
            services.monograph_delete(
                form=self.form, user=self.reviewer, reason="Duplicate"
            )

        def recover():
            # A recovered monograph is a draft: readers get it on approval.
            services.monograph_recover(form_id=self.form.pk, user=self.reviewer)
            factories.publish(
                MagnesiumForm.objects.get(pk=self.form.pk), user=self.reviewer
            )

        with override_settings(MGREF_SHARED_CACHE=True):
            for name, write in [
                ("approval", approve),
                ("deletion", delete),
                ("recovery", recover),
            ]:
                with self.subTest(write=name):
                    before, after = self.stamp_after(write)
                    self.assertNotEqual(before, after)

    def test_an_unapproved_edit_leaves_it(self):
        from django.test import override_settings

        def edit():
            with change_context(reason="Draft", user=self.reviewer):
                self.form.summary = "Draft text."
                self.form.save()

        with override_settings(MGREF_SHARED_CACHE=True):
            before, after = self.stamp_after(edit)
        self.assertEqual(before, after)

    def test_a_hit_reads_no_database_with_a_shared_cache(self):
        from django.test import override_settings

        with override_settings(MGREF_SHARED_CACHE=True):
            self.client.get(self.form.get_absolute_url())
            with self.assertNumQueries(0):
                hit = self.client.get(self.form.get_absolute_url())
        self.assertEqual(hit["X-Cache"], "hit")


class PerProcessStampTests(TestCase):
    """Without a shared cache, the stamp is read from the publications."""

    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory()
        cls.first = factories.MagnesiumFormFactory(summary="First form.")
        cls.second = factories.MagnesiumFormFactory(summary="Second form.")
        factories.publish(cls.first, user=cls.reviewer)
        factories.publish(cls.second, user=cls.reviewer)

    def stamp(self):
        from django.http import HttpRequest

        from monographs.caching import site_stamp

        return site_stamp(HttpRequest())

    def test_an_approval_committed_after_a_later_dated_one_moves_it(self):
        """Approval A dates itself, B (of another monograph) dates itself
        later and commits; A commits last. Pages cached after B's commit
        must not outlive A's."""
        from django.utils import timezone

        started = timezone.now()
        with change_context(reason="Later", user=self.reviewer):
            self.second.summary = "Approved second."
            self.second.save()
        factories.publish(self.second, user=self.reviewer)
        between = self.stamp()
        with change_context(reason="Earlier", user=self.reviewer):
            self.first.summary = "Approved first, committed last."
            self.first.save()
        factories.publish(self.first, user=self.reviewer)
        # As A's transaction dated it: before B's approval.
        Publication.objects.filter(form_id=self.first.pk).update(approved_at=started)
        self.assertNotEqual(self.stamp(), between)

    def test_an_unapproved_edit_leaves_it(self):
        before = self.stamp()
        with change_context(reason="Draft", user=self.reviewer):
            self.first.summary = "Draft text."
            self.first.save()
        self.assertEqual(self.stamp(), before)

    def test_a_deletion_moves_it(self):
        from monographs import services

        before = self.stamp()
        services.monograph_delete(form=self.first, user=self.reviewer, reason="Gone")
        self.assertNotEqual(self.stamp(), before)


def wsgi_get(application, path, **headers):
    """Call a WSGI application as a server would: (status, headers, body)."""
    import io
    import sys

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    environ = {
        "REQUEST_METHOD": headers.pop("method", "GET"),
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started.update(status=status, headers=response_headers)

    # As Django's test client does: closing connections would end the test's
    # transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], dict(started["headers"]), body


class CachedWSGIHandlerTests(TestCase):
    """gunicorn's application answers hits before Django's request cycle."""

    url = "/forms/magnesium-citrate/"

    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate", summary="First text."
        )
        factories.publish(cls.form)

    def setUp(self):
        from mgref.wsgi import application

        self.application = application

    def test_a_hit_is_the_middlewares_answer_without_the_request_cycle(self):
        from django.core.signals import request_finished, request_started

        miss = wsgi_get(self.application, self.url, host="testserver")
        signals = []

        def heard(sender, **kwargs):
            signals.append(sender)

        request_started.connect(heard)
        request_finished.connect(heard)
        try:
            with self.assertNumQueries(1):  # The stamp, from the database here.
                hit = wsgi_get(self.application, self.url, host="testserver")
        finally:
            request_started.disconnect(heard)
            request_finished.disconnect(heard)
        self.assertEqual(signals, [])
        self.assertEqual((miss[1]["X-Cache"], hit[1]["X-Cache"]), ("miss", "hit"))
        self.assertEqual(hit[0], "200 OK")
        self.assertEqual(hit[2], miss[2])
        del miss[1]["X-Cache"], hit[1]["X-Cache"]
        self.assertEqual(hit[1], miss[1])
        client = self.client.get(self.url)
        self.assertEqual(client.content, hit[2])
        self.assertEqual(client["ETag"], hit[1]["ETag"])

    def test_conditional_head_and_encoded_hits(self):
        _, first, _ = wsgi_get(self.application, self.url, host="testserver")
        status, headers, body = wsgi_get(
            self.application, self.url, host="testserver", if_none_match=first["ETag"]
        )
        self.assertEqual((status, body), ("304 Not Modified", b""))
        self.assertEqual(headers["ETag"], first["ETag"])
        status, headers, body = wsgi_get(
            self.application, self.url, host="testserver", method="HEAD"
        )
        self.assertEqual((status, body), ("200 OK", b""))
        self.assertEqual(headers["Content-Length"], first["Content-Length"])
        _, headers, body = wsgi_get(
            self.application, self.url, host="testserver", accept_encoding="gzip"
        )
        self.assertEqual(headers["Content-Encoding"], "gzip")
        self.assertEqual(int(headers["Content-Length"]), len(body))

    def test_sessions_misses_and_bad_hosts_go_through_django(self):
        wsgi_get(self.application, self.url, host="testserver")
        _, headers, _ = wsgi_get(
            self.application, self.url, host="testserver", cookie="sessionid=x"
        )
        self.assertNotIn("X-Cache", headers)
        self.assertIn("private", headers["Cache-Control"])
        status, _, _ = wsgi_get(self.application, self.url, host="evil.example")
        self.assertEqual(status, "400 Bad Request")
        status, headers, _ = wsgi_get(self.application, "/nowhere/", host="testserver")
        self.assertEqual(status, "404 Not Found")
        self.assertNotIn("X-Cache", headers)

    def test_a_path_with_non_ascii_characters_is_a_404_not_a_500(self):
        # Servers pass the path's UTF-8 bytes as latin-1 text, as PEP 3333 says.
        for path in ["/–", "/forms/magnesium-citrate\u200b/", "/forms/маг/", "/💊"]:
            with self.subTest(path=path):
                wsgi_path = path.encode().decode("latin-1")
                for method in ("GET", "HEAD"):
                    status, _, _ = wsgi_get(
                        self.application, wsgi_path, host="testserver", method=method
                    )
                    self.assertEqual(status, "404 Not Found")


class ReleaseTests(SimpleTestCase):
    def test_the_release_follows_the_code_and_the_static_manifest(self):
        from monographs.caching import _release

        with TemporaryDirectory() as static_root:
            with override_settings(STATIC_ROOT=static_root):
                before = _release()
                self.assertEqual(_release(), before)
                Path(static_root, "staticfiles.json").write_text('{"paths": {}}')
                after = _release()
            self.assertNotEqual(after, before)
        with (
            mock.patch.dict("os.environ", {"DJANGO_RELEASE": "2026.11.30"}),
            override_settings(STATIC_ROOT=static_root),
        ):
            self.assertNotEqual(_release(), before)


class UndeclaredParameterTests(TestCase):
    """A cached page is keyed by the query parameters its view reads, so it
    must show nothing of any other: that would reach every reader of it."""

    PROBE = "utm_source=probe7731"

    @classmethod
    def setUpTestData(cls):
        from tests.public.test_monograph_page import build_glycinate

        cls.form, cls.reviewer, _ = build_glycinate()
        oxide = factories.MagnesiumFormFactory(
            name="Magnesium oxide", slug="magnesium-oxide"
        )
        factories.publish(oxide, user=cls.reviewer)
        with change_context(reason="Second revision", user=cls.reviewer):
            form = MagnesiumForm.objects.get(pk=cls.form.pk)
            form.usage = "Changed for a second revision."
            form.save()
        factories.publish(form, user=cls.reviewer)

    def test_no_public_page_repeats_a_parameter_it_does_not_read(self):
        from monographs.models import Revision
        from tests.public.test_drafts import public_urls

        glycinate = "/forms/magnesium-glycinate"
        latest = Revision.objects.latest_number(self.form.pk)
        urls = [
            *public_urls(),
            f"{glycinate}/history/",
            f"{glycinate}/history/feed/",
            f"{glycinate}/revisions/{latest}/",
            f"{glycinate}/diff/?from={latest - 1}&to={latest}",
            "/forms/compare/?forms=magnesium-glycinate&forms=magnesium-oxide",
            "/changes/",
            "/changes/feed/",
        ]
        for url in urls:
            probed = f"{url}{'&' if '?' in url else '?'}{self.PROBE}"
            with self.subTest(url=probed):
                response = self.client.get(probed)
                self.assertEqual(response.status_code, 200)
                self.assertNotIn(b"probe7731", response.content)


# A Redis no one listens on: connecting fails at once.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}


class UnreachableCacheTests(TestCase):
    """A cache that cannot be reached costs readers their cache, not the site."""

    url = "/forms/magnesium-citrate/"

    @classmethod
    def setUpTestData(cls):
        cls.reviewer = factories.ReviewerFactory(first_name="Rita", last_name="R")
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate", summary="First text."
        )
        factories.publish(cls.form)

    def test_readers_get_pages_rendered_when_redis_is_down(self):
        from mgref.wsgi import application

        with (
            override_settings(CACHES=UNREACHABLE_REDIS, MGREF_SHARED_CACHE=True),
            self.assertLogs("monographs.caching", "WARNING") as logs,
        ):
            status, headers, body = wsgi_get(application, self.url, host="testserver")
            response = self.client.get(self.url)
        self.assertEqual(status, "200 OK")
        self.assertIn(b"First text.", body)
        self.assertNotIn("X-Cache", headers)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Page cache unreachable", logs.output[0])

    def test_an_approval_commits_and_says_so_when_the_stamp_cannot_move(self):
        with (
            override_settings(CACHES=UNREACHABLE_REDIS, MGREF_SHARED_CACHE=True),
            mock.patch("monographs.caching.STAMP_TRIES", (0, 0)),
            self.assertLogs("monographs.caching", "ERROR") as logs,
            self.captureOnCommitCallbacks(execute=True),
        ):
            with change_context(reason="Rewrite", user=self.reviewer):
                self.form.summary = "Second text."
                self.form.save()
            factories.publish(self.form, user=self.reviewer)
        self.assertIn("manage.py expire_pages", logs.output[-1])
        self.assertContains(self.client.get(self.url), "Second text.")

    def test_expire_pages_moves_the_stamp_or_says_why_not(self):
        from django.core.management import CommandError, call_command
        from django.http import HttpRequest

        from monographs.caching import site_stamp

        with override_settings(MGREF_SHARED_CACHE=True):
            before = site_stamp(HttpRequest())
            call_command("expire_pages", verbosity=0)
            self.assertNotEqual(site_stamp(HttpRequest()), before)
        with (
            override_settings(CACHES=UNREACHABLE_REDIS, MGREF_SHARED_CACHE=True),
            self.assertRaisesMessage(CommandError, "The cache cannot be reached"),
        ):
            call_command("expire_pages", verbosity=0)


class PreconditionTests(TestCase):
    url = "/forms/magnesium-citrate/"

    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate"
        )
        factories.publish(cls.form)

    def test_a_failed_precondition_is_a_bare_412_nothing_caches(self):
        self.client.get(self.url)  # stored
        for headers in (
            {"HTTP_IF_MATCH": '"nope"'},
            {"HTTP_IF_UNMODIFIED_SINCE": "Sun, 06 Nov 1994 08:49:37 GMT"},
        ):
            for encoding in ("br", ""):
                with self.subTest(headers=headers, encoding=encoding):
                    response = self.client.get(
                        self.url, HTTP_ACCEPT_ENCODING=encoding, **headers
                    )
                    self.assertEqual(response.status_code, 412)
                    for name in ("ETag", "Content-Encoding", "Last-Modified"):
                        self.assertFalse(response.has_header(name), name)
                    self.assertNotIn("public", response.get("Cache-Control", ""))

    def test_a_304_still_carries_the_pages_headers(self):
        etag = self.client.get(self.url)["ETag"]
        response = self.client.get(self.url, HTTP_IF_NONE_MATCH=etag)
        self.assertEqual(response.status_code, 304)
        self.assertEqual(response["ETag"], etag)
        self.assertIn("public", response["Cache-Control"])


class AcceptEncodingTests(SimpleTestCase):
    def test_the_clients_weights_choose_the_encoding(self):
        from django.test import RequestFactory

        from monographs.caching import accepted_encoding

        for header, expected in [
            ("gzip, deflate, br, zstd", "br"),
            ("gzip", "gzip"),
            ("gzip;q=1, br;q=0.001", "gzip"),
            ("br;Q=0, gzip;Q=0", ""),
            ("br;q=0, *", "gzip"),
            ("identity", ""),
            ("*;q=0", ""),
            ("br;q=abc, gzip", "gzip"),
            ("", ""),
        ]:
            with self.subTest(header=header):
                request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=header)
                self.assertEqual(accepted_encoding(request), expected)
