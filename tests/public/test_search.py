from django.test import TestCase

from tests import factories
from tests.public.helpers import edit, page_tree

URL = "/search/"


def result_titles(response):
    results = page_tree(response).find("ol", class_="search-results")
    if results is None:
        return []
    return [item.find("h2").text() for item in results.find_all("li")]


def result_links(response):
    results = page_tree(response).find("ol", class_="search-results")
    return [item.find("a").attrs["href"] for item in results.find_all("li")]


class SearchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            summary="A chelate that is gentle on the stomach.",
            mechanism="It calms the nervous system through NMDA receptors.",
        )
        factories.SynonymFactory(
            form=cls.glycinate,
            name="Magnesium bisglycinate",
            slug="magnesium-bisglycinate",
        )
        factories.EvidenceFactory(
            form=cls.glycinate,
            indication=factories.IndicationFactory(
                name="Restless legs", slug="restless-legs"
            ),
        )
        factories.FormSideEffectFactory(
            form=cls.glycinate,
            side_effect=factories.SideEffectFactory(
                name="Drowsiness", slug="drowsiness"
            ),
        )
        factories.InteractionFactory(
            form=cls.glycinate, drug_class="Bisphosphonates", examples="alendronate"
        )
        factories.FAQFactory(
            form=cls.glycinate,
            question="Does it help with headaches?",
            answer="Evidence for migraine prevention is weak.",
        )
        cls.oxide = factories.MagnesiumFormFactory(
            name="Magnesium oxide",
            slug="magnesium-oxide",
            summary="Cheap and <script>alert('pwned')</script> poorly absorbed.",
        )
        cls.hidden = factories.MagnesiumFormFactory(
            name="Magnesium secretate",
            slug="magnesium-secretate",
            summary="A never published monograph about quokkas.",
        )
        factories.publish(cls.glycinate)
        factories.publish(cls.oxide)
        cls.editor = factories.EditorFactory()

    def search(self, query, **params):
        return self.client.get(URL, {"q": query, **params})

    def test_finds_a_form_by_name(self):
        response = self.search("glycinate")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Magnesium glycinate", result_titles(response))
        self.assertNotIn("Magnesium oxide", result_titles(response))

    def test_finds_a_form_by_synonym(self):
        self.assertEqual(
            result_titles(self.search("bisglycinate")), ["Magnesium glycinate"]
        )

    def test_finds_a_form_by_indication(self):
        self.assertEqual(
            result_titles(self.search("restless legs")), ["Magnesium glycinate"]
        )

    def test_finds_a_form_by_side_effect(self):
        self.assertEqual(
            result_titles(self.search("drowsiness")), ["Magnesium glycinate"]
        )

    def test_finds_a_form_by_body_text(self):
        for query in ["nervous system", "alendronate", "migraine"]:
            with self.subTest(query=query):
                self.assertEqual(
                    result_titles(self.search(query)), ["Magnesium glycinate"]
                )

    def test_results_link_to_the_monograph(self):
        self.assertEqual(
            result_links(self.search("glycinate")), ["/forms/magnesium-glycinate/"]
        )

    def test_matches_are_highlighted(self):
        response = self.search("nervous")
        self.assertContains(response, "<mark>nervous</mark>", html=False)
        response = self.search("glycinate")
        results = page_tree(response).find("ol", class_="search-results")
        marks = [mark.text().lower() for mark in results.find_all("mark")]
        self.assertIn("glycinate", marks)

    def test_counts_results(self):
        self.assertContains(self.search("nervous"), "1 result for “nervous”")

    def test_no_match_says_so(self):
        response = self.search("xylophone")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Nothing matches “xylophone”")

    def test_empty_query_gets_a_helpful_page(self):
        for params in [{}, {"q": ""}, {"q": "   "}]:
            with self.subTest(params=params):
                response = self.client.get(URL, params)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, "Type a few words")
                self.assertEqual(result_titles(response), [])

    def test_over_long_query_is_a_400_that_explains(self):
        response = self.search("magnesium " * 30)
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Use at most 200", status_code=400)
        self.assertContains(response, 'class="site-header"', status_code=400)

    def test_query_of_exactly_200_characters_is_searched(self):
        response = self.search("g" * 200)
        self.assertEqual(response.status_code, 200)

    def test_html_in_content_is_escaped_in_results(self):
        response = self.search("absorbed")
        self.assertEqual(result_titles(response), ["Magnesium oxide"])
        self.assertNotContains(response, "<script>alert")
        snippet = page_tree(response).find("ol", class_="search-results").find("p")
        # Shown as text (SQLite) or dropped as a tag (PostgreSQL's ts_headline),
        # never run.
        self.assertIn("alert('pwned')", snippet.text())
        self.assertIn("absorbed", [mark.text() for mark in snippet.find_all("mark")])

    def test_html_in_a_form_name_is_escaped_in_results(self):
        factories.publish(
            factories.MagnesiumFormFactory(
                name="Magnesium <em>fancy</em>", slug="magnesium-fancy"
            )
        )
        response = self.search("fancy")
        self.assertNotContains(response, "<em>fancy</em>")
        self.assertContains(response, "&lt;em&gt;")
        self.assertEqual(result_titles(response), ["Magnesium <em>fancy</em>"])

    def test_html_in_the_query_is_escaped(self):
        response = self.search("<b>bold</b>")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "<b>bold</b>")
        self.assertContains(response, "&lt;b&gt;bold&lt;/b&gt;")

    def test_query_syntax_characters_do_not_break_search(self):
        for query in [
            '"unclosed',
            "glycinate -",
            "a & b | !c",
            "(",
            "x:*",
            "%_",
            "\\",
            "'",
        ]:
            with self.subTest(query=query):
                self.assertIn(self.search(query).status_code, {200})

    def test_never_published_text_is_not_found(self):
        for query in ["quokkas", "secretate"]:
            with self.subTest(query=query):
                self.assertEqual(result_titles(self.search(query)), [])

    def test_unapproved_edits_are_not_found_and_published_text_still_is(self):
        self.glycinate.refresh_from_db()
        with edit(self.editor):
            self.glycinate.summary = "Now mentions wombats."
            self.glycinate.mechanism = "Rewritten entirely."
            self.glycinate.save()
            factories.FAQFactory(
                form=self.glycinate, question="Platypus?", answer="No."
            )
        self.assertEqual(result_titles(self.search("wombats")), [])
        self.assertEqual(result_titles(self.search("platypus")), [])
        self.assertEqual(result_titles(self.search("nervous")), ["Magnesium glycinate"])

    def test_bad_page_number_is_a_404(self):
        for page in ["0", "2", "-1", "abc", "1.5", "99999999999999999999"]:
            with self.subTest(page=page):
                self.assertEqual(self.search("glycinate", page=page).status_code, 404)

    def test_page_number_in_other_digits_is_not_a_server_error(self):
        # str.isdigit() accepts '²' and '①', but int() does not.
        self.client.raise_request_exception = False
        for page in ["²", "①"]:
            with self.subTest(page=page):
                self.assertIn(
                    self.search("glycinate", page=page).status_code, {400, 404}
                )


class SearchPaginationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        for number in range(12):
            factories.publish(
                factories.MagnesiumFormFactory(
                    name=f"Magnesium zinnia {number:02d}",
                    slug=f"magnesium-zinnia-{number:02d}",
                    summary="Mentions zinnias in its summary.",
                )
            )

    def test_first_page_has_ten_results_and_a_next_link(self):
        response = self.client.get(URL, {"q": "zinnia"})
        self.assertEqual(len(result_titles(response)), 10)
        self.assertContains(response, "12 results for “zinnia”")
        self.assertContains(response, "Page 1 of 2")
        self.assertContains(response, 'href="?q=zinnia&amp;page=2" rel="next"')
        self.assertNotContains(response, 'rel="prev"')

    def test_second_page_has_the_rest_and_a_previous_link(self):
        response = self.client.get(URL, {"q": "zinnia", "page": "2"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(result_titles(response)), 2)
        self.assertContains(response, "Page 2 of 2")
        self.assertContains(response, 'rel="prev"')
        self.assertNotContains(response, 'rel="next"')
        self.assertContains(response, '<ol class="search-results" start="11">')

    def test_pages_do_not_overlap(self):
        first = result_titles(self.client.get(URL, {"q": "zinnia"}))
        second = result_titles(self.client.get(URL, {"q": "zinnia", "page": "2"}))
        self.assertEqual(
            sorted(first + second), [f"Magnesium zinnia {n:02d}" for n in range(12)]
        )

    def test_page_past_the_end_is_a_404(self):
        response = self.client.get(URL, {"q": "zinnia", "page": "3"})
        self.assertEqual(response.status_code, 404)
