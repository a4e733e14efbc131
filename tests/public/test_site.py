import json
import xml.etree.ElementTree as ET

from django.test import TestCase

from monographs.models import Citation, Revision
from tests import factories
from tests.public.helpers import (
    edit,
    graph_nodes,
    head_facts,
    json_ld,
    page_tree,
    published_form,
)
from tests.public.test_monograph_page import build_glycinate

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


class SiteFixtureMixin:
    @classmethod
    def setUpTestData(cls):
        cls.form, cls.reviewer, cls.citations = build_glycinate()
        cls.oxide = published_form(name="Magnesium oxide", slug="magnesium-oxide")
        cls.hidden = factories.MagnesiumFormFactory(
            name="Magnesium secretate", slug="magnesium-secretate"
        )
        factories.SynonymFactory(
            form=cls.hidden, name="Magnesium hush", slug="magnesium-hush"
        )


class HeadTagsTests(SiteFixtureMixin, TestCase):
    def public_pages(self):
        citation = self.citations["smith"]
        return [
            ("/", "/"),
            ("/forms/", "/forms/"),
            ("/forms/magnesium-glycinate/", "/forms/magnesium-glycinate/"),
            (
                "/forms/compare/?forms=magnesium-glycinate,magnesium-oxide",
                "/forms/compare/",
            ),
            ("/indications/", "/indications/"),
            ("/indications/sleep-quality/", "/indications/sleep-quality/"),
            ("/side-effects/", "/side-effects/"),
            ("/side-effects/diarrhoea/", "/side-effects/diarrhoea/"),
            ("/interactions/", "/interactions/"),
            ("/citations/", "/citations/"),
            (f"/citations/{citation.pk}/", f"/citations/{citation.pk}/"),
            ("/search/", "/search/"),
            ("/search/?q=sleep", "/search/"),
        ]

    def test_every_public_page_has_title_description_and_canonical(self):
        for url, path in self.public_pages():
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                title, description, canonical = head_facts(response)
                self.assertTrue(title and title.endswith("· mgref"), title)
                self.assertGreater(len(title), len("· mgref") + 2)
                self.assertTrue(description and description.strip(), description)
                self.assertEqual(canonical, f"http://testserver{path}")

    def test_error_pages_have_head_tags_too(self):
        for url, status in [
            ("/no-such-page/", 404),
            ("/forms/compare/?forms=x", 400),
            ("/search/?q=" + "x" * 201, 400),
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, status)
                title, description, canonical = head_facts(response)
                self.assertTrue(title and description and canonical)

    def test_monograph_title_and_description_come_from_the_form(self):
        title, description, _ = head_facts(
            self.client.get("/forms/magnesium-glycinate/")
        )
        self.assertEqual(title, "Magnesium glycinate · mgref")
        self.assertEqual(description, "A chelate that is gentle on the gut.")

    def test_canonical_link_drops_tracking_parameters(self):
        response = self.client.get("/forms/magnesium-glycinate/?utm_source=mail")
        self.assertEqual(
            head_facts(response)[2], "http://testserver/forms/magnesium-glycinate/"
        )

    def test_description_keeps_quotes_in_the_summary(self):
        published_form(
            name="Magnesium chloride",
            slug="magnesium-chloride",
            summary='Sold as "magnesium oil" & flakes.',
        )
        _, description, _ = head_facts(self.client.get("/forms/magnesium-chloride/"))
        self.assertEqual(description, 'Sold as "magnesium oil" & flakes.')

    def test_pages_are_titled_after_their_subject(self):
        for url, title in [
            ("/indications/sleep-quality/", "Sleep quality · mgref"),
            ("/side-effects/diarrhoea/", "Diarrhoea · mgref"),
            ("/forms/", "Forms of magnesium · mgref"),
            ("/search/?q=sleep", "Search: sleep · mgref"),
        ]:
            with self.subTest(url=url):
                self.assertEqual(head_facts(self.client.get(url))[0], title)

    def test_search_and_compare_pages_are_not_indexed(self):
        for url in [
            "/search/?q=sleep",
            "/forms/compare/?forms=magnesium-glycinate,magnesium-oxide",
        ]:
            with self.subTest(url=url):
                robots = page_tree(self.client.get(url)).find("meta", name="robots")
                self.assertEqual(robots.attrs["content"], "noindex")


class JsonLdTests(SiteFixtureMixin, TestCase):
    def setUp(self):
        self.response = self.client.get("/forms/magnesium-glycinate/")

    def test_one_block_that_parses(self):
        blocks = json_ld(self.response)
        self.assertEqual(len(blocks), 1)
        self.assertEqual(blocks[0]["@context"], "https://schema.org")
        types = [node["@type"] for node in blocks[0]["@graph"]]
        self.assertEqual(
            sorted(types),
            ["BreadcrumbList", "DietarySupplement", "FAQPage", "MedicalWebPage"],
        )

    def test_medical_web_page_with_review(self):
        (page,) = graph_nodes(self.response, "MedicalWebPage")
        self.assertEqual(page["url"], "http://testserver/forms/magnesium-glycinate/")
        self.assertEqual(page["name"], "Magnesium glycinate")
        self.assertEqual(page["lastReviewed"], "2024-03-05")
        self.assertEqual(
            page["reviewedBy"], {"@type": "Person", "name": "Ada Lovelace"}
        )
        self.assertEqual(page["description"], "A chelate that is gentle on the gut.")
        self.assertEqual(len(page["citation"]), 4)
        self.assertEqual(
            page["citation"][0]["sameAs"], "https://doi.org/10.1016/j.sleep.2019.001"
        )

    def test_dietary_supplement(self):
        (supplement,) = graph_nodes(self.response, "DietarySupplement")
        self.assertEqual(supplement["name"], "Magnesium glycinate")
        self.assertEqual(supplement["alternateName"], ["Magnesium bisglycinate"])
        (page,) = graph_nodes(self.response, "MedicalWebPage")
        self.assertEqual(page["about"]["@id"], supplement["@id"])

    def test_faq_page_has_the_questions_and_answers(self):
        (faq,) = graph_nodes(self.response, "FAQPage")
        self.assertEqual(
            [(q["@type"], q["name"]) for q in faq["mainEntity"]],
            [
                ("Question", "Can I take it with food?"),
                ("Question", "Is it better than oxide?"),
            ],
        )
        answer = faq["mainEntity"][0]["acceptedAnswer"]
        self.assertEqual(answer["@type"], "Answer")
        self.assertEqual(answer["text"], "Yes, food can reduce loose stools.")

    def test_breadcrumb_list(self):
        (crumbs,) = graph_nodes(self.response, "BreadcrumbList")
        self.assertEqual(
            [
                (item["position"], item["name"], item["item"])
                for item in crumbs["itemListElement"]
            ],
            [
                (1, "Home", "http://testserver/"),
                (2, "Forms", "http://testserver/forms/"),
                (
                    3,
                    "Magnesium glycinate",
                    "http://testserver/forms/magnesium-glycinate/",
                ),
            ],
        )
        nav = page_tree(self.response).find("nav", class_="breadcrumbs")
        self.assertEqual(nav.text(), "HomeFormsMagnesium glycinate")

    def test_no_faq_page_without_faqs(self):
        response = self.client.get("/forms/magnesium-oxide/")
        self.assertEqual(graph_nodes(response, "FAQPage"), [])
        self.assertEqual(len(graph_nodes(response, "MedicalWebPage")), 1)

    def test_content_cannot_break_out_of_the_script(self):
        published_form(
            name="Magnesium breakout",
            slug="magnesium-breakout",
            summary="Ends early </script><script>alert(1)</script> & more",
        )
        response = self.client.get("/forms/magnesium-breakout/")
        self.assertNotContains(response, "<script>alert(1)")
        (page,) = graph_nodes(response, "MedicalWebPage")
        self.assertIn("alert(1)", page["description"])


class SitemapTests(SiteFixtureMixin, TestCase):
    def locations(self, response=None):
        response = response or self.client.get("/sitemap.xml")
        self.assertEqual(response.status_code, 200)
        root = ET.fromstring(response.content)
        return {
            url.find("sm:loc", SITEMAP_NS).text: url
            for url in root.findall("sm:url", SITEMAP_NS)
        }

    def test_is_xml(self):
        response = self.client.get("/sitemap.xml")
        self.assertEqual(response["Content-Type"], "application/xml")

    def test_lists_published_forms_with_their_review_date(self):
        urls = self.locations()
        glycinate = urls["http://testserver/forms/magnesium-glycinate/"]
        self.assertEqual(glycinate.find("sm:lastmod", SITEMAP_NS).text, "2024-03-05")
        self.assertIn("http://testserver/forms/magnesium-oxide/", urls)

    def test_leaves_out_unpublished_forms(self):
        urls = self.locations()
        self.assertNotIn("http://testserver/forms/magnesium-secretate/", urls)
        self.assertFalse([url for url in urls if "secretate" in url or "hush" in url])

    def test_lists_the_browse_pages(self):
        urls = self.locations()
        for path in [
            "/",
            "/forms/",
            "/indications/",
            "/side-effects/",
            "/interactions/",
            "/citations/",
        ]:
            with self.subTest(path=path):
                self.assertIn(f"http://testserver{path}", urls)
        self.assertIn("http://testserver/indications/sleep-quality/", urls)

    def test_every_listed_page_is_found(self):
        for url in self.locations():
            with self.subTest(url=url):
                response = self.client.get(url.removeprefix("http://testserver"))
                self.assertEqual(response.status_code, 200)

    def test_bad_sitemap_page_is_a_404(self):
        for page in ["2", "abc", "0"]:
            with self.subTest(page=page):
                self.assertEqual(
                    self.client.get("/sitemap.xml", {"p": page}).status_code, 404
                )


class RobotsTxtTests(TestCase):
    def test_points_at_the_sitemap_and_keeps_out_of_admin(self):
        response = self.client.get("/robots.txt")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/plain"))
        lines = response.content.decode().splitlines()
        self.assertIn("User-agent: *", lines)
        self.assertIn("Disallow: /admin/", lines)
        self.assertIn("Sitemap: http://testserver/sitemap.xml", lines)


class HealthzTests(TestCase):
    def test_reports_ok(self):
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(json.loads(response.content)["status"], "ok")


class NotFoundPageTests(SiteFixtureMixin, TestCase):
    def test_unknown_url_gets_the_templated_404(self):
        for url in [
            "/no-such-page/",
            "/forms/magnesium-unobtainium/",
            "/indications/x/",
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 404)
                self.assertContains(
                    response, "<h1>Page not found</h1>", status_code=404, html=True
                )
                self.assertContains(response, 'class="site-header"', status_code=404)
                self.assertContains(response, 'href="/search/"', status_code=404)

    def test_404_page_escapes_the_path(self):
        response = self.client.get("/<script>alert(1)</script>/")
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, "<script>alert(1)", status_code=404)


class RedirectTests(SiteFixtureMixin, TestCase):
    def test_synonym_redirects_permanently_to_the_canonical_page(self):
        response = self.client.get("/forms/magnesium-bisglycinate/")
        self.assertRedirects(response, "/forms/magnesium-glycinate/", status_code=301)

    def test_redirect_keeps_the_query_string(self):
        response = self.client.get("/forms/magnesium-bisglycinate/?utm_source=x")
        self.assertEqual(response.status_code, 301)
        self.assertEqual(
            response["Location"], "/forms/magnesium-glycinate/?utm_source=x"
        )

    def test_synonym_of_an_unpublished_form_is_a_404(self):
        self.assertEqual(self.client.get("/forms/magnesium-hush/").status_code, 404)

    def test_missing_trailing_slash_redirects(self):
        response = self.client.get("/forms/magnesium-glycinate")
        self.assertRedirects(response, "/forms/magnesium-glycinate/", status_code=301)

    def test_published_synonym_keeps_redirecting_while_its_removal_awaits_review(self):
        editor = factories.EditorFactory()
        with edit(editor, "Drop the synonym"):
            self.form.synonyms.get().delete()
        page = self.client.get("/forms/magnesium-glycinate/")
        self.assertContains(page, "Also called Magnesium bisglycinate.")
        response = self.client.get("/forms/magnesium-bisglycinate/")
        self.assertRedirects(response, "/forms/magnesium-glycinate/", status_code=301)


class BadInputTests(SiteFixtureMixin, TestCase):
    def nasty_urls(self):
        """(url, acceptable statuses): a 400 or 404, or for odd search words a
        page that finds nothing."""
        citation = Citation.objects.first()
        latest = Revision.objects.latest_number(self.form.pk)
        error = {400, 404}
        searched = {200, 400}
        return [
            ("/citations/999999/", error),
            ("/citations/0/", error),
            ("/citations/abc/", error),
            ("/citations/-1/", error),
            ("/citations/99999999999999999999/", error),
            (f"/citations/{citation.pk}abc/", error),
            ("/forms/%00/", error),
            ("/forms/magnesium-unobtainium/", error),
            ("/forms/..%2F..%2Fetc%2Fpasswd/", error),
            ("/forms/%E2%80%8Bmagnesium-glycinate/", error),
            ("/forms/magnesium-glycinate/revisions/0/", error),
            (f"/forms/magnesium-glycinate/revisions/{latest + 1}/", error),
            ("/forms/magnesium-glycinate/revisions/abc/", error),
            ("/forms/magnesium-glycinate/revisions/99999999999999999999/", error),
            # Past a 32-bit column, within 64 bits: PostgreSQL's integer range.
            ("/forms/magnesium-glycinate/revisions/2147483648/", error),
            ("/forms/magnesium-secretate/revisions/1/", error),
            ("/forms/magnesium-glycinate/draft/", error),
            ("/indications/%00/", error),
            ("/indications/no-such-use/", error),
            ("/side-effects/no-such-effect/", error),
            ("/search/?q=%00", searched),
            ("/search/?q=glycinate%00", searched),
            ("/search/?q=%02%03", searched),
            ("/search/?q=%FF%FE", searched),
            ("/search/?q=glycinate&page=abc", error),
            ("/search/?q=glycinate&page=0", error),
            ("/search/?q=glycinate&page=-1", error),
            ("/search/?q=glycinate&page=%C2%B2", error),
            ("/search/?q=" + "x" * 201, {400}),
            ("/search/?q=a&q=b&page=1&page=x", error),
            ("/api/v1/forms/?page=-1", {400}),
            ("/api/v1/forms/?page=%00", {400}),
            ("/api/v1/forms/?page=%C2%B2", error),
            ("/api/v1/forms/?page=99999", {404}),
            ("/api/v1/forms/%00/", {404}),
            ("/api/v1/forms/no-such-form/", {404}),
            ("/api/v1/forms/magnesium-secretate/", {404}),
            ("/forms/compare/?forms=", {400}),
            ("/forms/compare/?forms=,,,,", {400}),
            ("/forms/compare/?forms=%00,%00", {400}),
            ("/forms/compare/?forms=magnesium-glycinate,%00", {400}),
            ("/forms/compare/?forms=" + ",".join(["x"] * 1000), {400}),
            ("/citations/export.ris?form=%00", {404}),
            ("/citations/export.bib?form=no-such-form", {404}),
            ("/citations/export.json?form=magnesium-secretate", {404}),
            ("/citations/export.ris?form=" + "x" * 5000, {404}),
            ("/sitemap.xml?p=abc", {404}),
            ("/sitemap.xml?p=99", {404}),
            ("/no-such-page/", {404}),
        ]

    def test_bad_input_is_a_400_or_404_never_a_500(self):
        self.client.raise_request_exception = False
        for url, allowed in self.nasty_urls():
            with self.subTest(url=url[:100]):
                self.assertIn(self.client.get(url).status_code, allowed)

    def test_html_bad_input_pages_are_templated(self):
        self.client.raise_request_exception = False
        for url in ["/citations/999999/", "/forms/%00/", "/forms/compare/?forms="]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertIn(b'class="site-header"', response.content)
