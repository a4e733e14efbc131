"""
The Atom feeds and the sitemap, read as clients read them: feedparser for
the feeds, an XML parser for the sitemaps.
"""

import datetime
import xml.etree.ElementTree as ET
from unittest import mock

import feedparser
from django.test import TestCase

from monographs import sitemaps
from monographs.models import Revision
from tests import factories
from tests.public.helpers import edit, set_review_date

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SAVED_AT = datetime.datetime(2024, 1, 2, 8, 0, tzinfo=datetime.UTC)
APPROVED_AT = datetime.datetime(2024, 3, 5, 10, 30, tzinfo=datetime.UTC)


def dated(event, when):
    set_review_date(event, when)


class FeedTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(
            username="ed_login", first_name="Edith", last_name="Pyle"
        )
        cls.reviewer = factories.ReviewerFactory(
            username="rev_login", first_name="Rosa", last_name="Vale"
        )
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium feedate", slug="magnesium-feedate"
        )
        with edit(cls.editor, "Added the sleep evidence"):
            cls.form.summary = "A form with a feed."
            cls.form.save()
        Revision.objects.filter(form_id=cls.form.pk).update(created_at=SAVED_AT)
        dated(factories.publish(cls.form, user=cls.reviewer), APPROVED_AT)
        cls.other = factories.MagnesiumFormFactory(
            name="Magnesium otherate", slug="magnesium-otherate"
        )
        factories.publish(cls.other, user=cls.reviewer)

    def feed(self, url):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        parsed = feedparser.parse(response.content)
        self.assertFalse(parsed.bozo, parsed.get("bozo_exception"))
        self.assertEqual(parsed.version, "atom10")
        return parsed

    def entry(self, parsed, name):
        [entry] = [e for e in parsed.entries if e.title.startswith(name)]
        return entry

    def test_entries_are_dated_by_approval(self):
        for url in ["/changes/feed/", "/forms/magnesium-feedate/history/feed/"]:
            with self.subTest(url=url):
                entry = self.entry(self.feed(url), "Magnesium feedate")
                self.assertEqual(entry.published_parsed[:5], (2024, 3, 5, 10, 30))
                self.assertEqual(entry.updated_parsed[:5], (2024, 3, 5, 10, 30))

    def test_newest_approval_first(self):
        titles = [e.title for e in self.feed("/changes/feed/").entries]
        self.assertTrue(titles[0].startswith("Magnesium otherate"))

    def test_each_feed_has_its_own_subtitle(self):
        site = self.feed("/changes/feed/").feed
        own = self.feed("/forms/magnesium-feedate/history/feed/").feed
        self.assertNotEqual(site.subtitle, own.subtitle)
        self.assertIn("Magnesium feedate", own.subtitle)
        self.assertIn("approved", site.subtitle)

    def test_authors_are_public_names(self):
        parsed = self.feed("/forms/magnesium-feedate/history/feed/")
        authors = {entry.author for entry in parsed.entries}
        self.assertIn("Edith Pyle", authors)
        text = self.client.get("/changes/feed/").content.decode()
        self.assertNotIn("ed_login", text)
        self.assertNotIn("rev_login", text)

    def test_unapproved_revisions_are_not_listed(self):
        with edit(self.editor, "Draft, not reviewed"):
            self.form.summary = "Not yet approved."
            self.form.save()
        for url in ["/changes/feed/", "/forms/magnesium-feedate/history/feed/"]:
            with self.subTest(url=url):
                summaries = [e.summary for e in self.feed(url).entries]
                self.assertNotIn("Draft, not reviewed", summaries)


class ReadOnlyTests(TestCase):
    """Feeds and sitemaps are read: a POST (a signed-in editor's, with its
    CSRF token) is a 405, as on every other public page."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium postate", slug="magnesium-postate"
        )
        factories.publish(cls.form, user=factories.ReviewerFactory())

    def test_a_post_is_refused(self):
        self.client.force_login(self.editor)
        for url in [
            "/changes/feed/",
            "/forms/magnesium-postate/history/feed/",
            "/sitemap.xml",
            "/sitemap-forms.xml",
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)
                self.assertEqual(self.client.head(url).status_code, 200)
                self.assertEqual(self.client.post(url).status_code, 405)


class SitemapTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        reviewer = factories.ReviewerFactory()
        cls.cited = factories.CitationFactory(key="mapped2020")
        cls.hidden = factories.CitationFactory(key="draftonly2020")
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium mapate", slug="magnesium-mapate"
        )
        evidence = factories.EvidenceFactory(form=cls.form)
        evidence.citations.add(cls.cited)
        cls.indication = evidence.indication
        cls.side_effect = factories.FormSideEffectFactory(form=cls.form).side_effect
        dated(factories.publish(cls.form, user=reviewer), APPROVED_AT)
        draft = factories.MagnesiumFormFactory(slug="magnesium-unseen")
        factories.EvidenceFactory(form=draft).citations.add(cls.hidden)

    def urls(self, content):
        root = ET.fromstring(content)
        return {
            url.findtext(f"{SM}loc").removeprefix("http://testserver"): url.findtext(
                f"{SM}lastmod"
            )
            for url in root.iter(f"{SM}url")
        }

    def test_every_indexable_page_is_listed_with_its_approval(self):
        response = self.client.get("/sitemap.xml")
        self.assertEqual(response.status_code, 200)
        urls = self.urls(response.content)
        approved = "2024-03-05"
        expected = {
            "/forms/magnesium-mapate/": approved,
            "/forms/magnesium-mapate/history/": approved,
            f"/citations/{self.cited.pk}/": approved,
            f"/indications/{self.indication.slug}/": approved,
            f"/side-effects/{self.side_effect.slug}/": approved,
            "/changes/": approved,
            "/citations/": approved,
            "/": approved,
            "/api/": approved,
        }
        for url, lastmod in expected.items():
            with self.subTest(url=url):
                self.assertIn(url, urls)
                self.assertTrue(urls[url].startswith(lastmod), urls[url])
        for url in urls:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)

    def test_is_validated_and_cached_like_the_pages(self):
        # A page past the end is a 404, hit or miss (the view reads ?p=).
        for _ in range(2):
            self.assertEqual(self.client.get("/sitemap.xml?p=2").status_code, 404)
        for url in ["/sitemap.xml", "/sitemap-forms.xml", "/sitemap-forms.xml?p=1"]:
            with self.subTest(url=url):
                first = self.client.get(url)
                self.assertEqual(first["X-Cache"], "miss")
                self.assertIn("public", first["Cache-Control"])
                again = self.client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
                self.assertEqual(again.status_code, 304)
        # A deletion moves the stamp: the monograph leaves the sitemap at once.
        from monographs import services

        services.monograph_delete(
            form=self.form, user=factories.ReviewerFactory(), reason="Duplicate"
        )
        fresh = self.client.get("/sitemap.xml")
        self.assertEqual(fresh["X-Cache"], "miss")
        self.assertNotIn("/forms/magnesium-mapate/", self.urls(fresh.content))

    def test_unpublished_pages_are_not_listed(self):
        urls = self.urls(self.client.get("/sitemap.xml").content)
        self.assertNotIn(f"/citations/{self.hidden.pk}/", urls)
        self.assertFalse(any("magnesium-unseen" in url for url in urls))

    def test_past_the_limit_it_becomes_an_index_of_sections(self):
        limit = 3
        with (
            mock.patch.object(sitemaps, "SITEMAP_LIMIT", limit),
            mock.patch.object(sitemaps.PublishedSitemap, "limit", limit),
            mock.patch.object(sitemaps.PageSitemap, "limit", limit),
        ):
            response = self.client.get("/sitemap.xml")
            root = ET.fromstring(response.content)
            self.assertEqual(root.tag, f"{SM}sitemapindex")
            locations = [
                loc.text.removeprefix("http://testserver")
                for loc in root.iter(f"{SM}loc")
            ]
            self.assertIn("/sitemap-pages.xml", locations)
            self.assertIn("/sitemap-pages.xml?p=2", locations)
            listed = set()
            for location in locations:
                part = self.client.get(location)
                self.assertEqual(part.status_code, 200)
                urls = self.urls(part.content)
                self.assertLessEqual(len(urls), limit)
                listed |= set(urls)
            self.assertIn("/forms/magnesium-mapate/history/", listed)
            self.assertIn("/changes/", listed)

    def test_under_the_limit_it_is_one_sitemap(self):
        root = ET.fromstring(self.client.get("/sitemap.xml").content)
        self.assertEqual(root.tag, f"{SM}urlset")
