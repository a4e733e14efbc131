from django.test import TestCase

from monographs.history import change_context
from monographs.models import MagnesiumForm
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

        from monographs.caching import PublicCacheMiddleware

        request = HttpRequest()
        request.method = "GET"
        middleware = PublicCacheMiddleware(lambda request: None)
        token_page = HttpResponse("<form><input name=csrfmiddlewaretoken></form>")
        token_page.mgref_last_modified = 0
        get_token(request)
        self.assertIsNone(middleware.storable(request, token_page))
        cookie_page = HttpResponse("page")
        cookie_page.mgref_last_modified = 0
        cookie_page.set_cookie("tracking", "1")
        self.assertIsNone(middleware.storable(HttpRequest(), cookie_page))
        plain_page = HttpResponse("page")
        plain_page.mgref_last_modified = 0
        self.assertIsNotNone(middleware.storable(HttpRequest(), plain_page))
        self.assertFalse(cache.get("never-set"))

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
