from django.test import TestCase

from monographs.history import change_context
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
                self.assertNotEqual(after["ETag"], before[url]["ETag"])
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
