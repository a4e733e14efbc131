import json
from unittest.mock import patch

from django.http import Http404
from django.test import Client, RequestFactory, TestCase

from monographs.models import Revision
from monographs.views import errors
from tests import factories
from tests.public.helpers import edit, forget_cached_pages
from tests.public.test_monograph_page import build_glycinate

LIST_URL = "/api/v1/forms/"


def get_json(client, url, params=None, status=200):
    response = client.get(url, params or {})
    if response.status_code != status:
        raise AssertionError(
            f"{url} {params}: {response.status_code} != {status}: {response.content[:300]!r}"
        )
    if not response["Content-Type"].startswith("application/json"):
        raise AssertionError(f"{url}: not JSON but {response['Content-Type']}")
    return json.loads(response.content)


class FormListApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.forms = []
        for number in range(25):
            form = factories.MagnesiumFormFactory(
                name=f"Magnesium api {number:02d}", slug=f"magnesium-api-{number:02d}"
            )
            factories.publish(form)
            cls.forms.append(form)
        factories.SynonymFactory(
            form=cls.forms[0], name="Magnesium api zero", slug="magnesium-api-zero"
        )
        # Republish so the synonym is part of the approved revision.
        factories.publish(cls.forms[0])
        cls.hidden = factories.MagnesiumFormFactory(
            name="Magnesium api secret", slug="magnesium-api-secret"
        )

    def test_first_page_is_paginated(self):
        data = get_json(self.client, LIST_URL)
        self.assertEqual(
            set(data),
            {"count", "page", "pages", "links", "next", "previous", "results"},
        )
        self.assertEqual(data["count"], 25)
        self.assertEqual((data["page"], data["pages"]), (1, 2))
        self.assertEqual(
            data["links"],
            {
                "first": "http://testserver/api/v1/forms/?page=1",
                "last": "http://testserver/api/v1/forms/?page=2",
                "next": "http://testserver/api/v1/forms/?page=2",
                "previous": None,
            },
        )
        self.assertEqual(len(data["results"]), 20)
        self.assertEqual(data["next"], "http://testserver/api/v1/forms/?page=2")
        self.assertIsNone(data["previous"])

    def test_next_link_leads_to_the_rest(self):
        next_url = get_json(self.client, LIST_URL)["next"]
        data = get_json(self.client, next_url.removeprefix("http://testserver"))
        self.assertEqual(len(data["results"]), 5)
        self.assertIsNone(data["next"])
        self.assertEqual(data["previous"], "http://testserver/api/v1/forms/?page=1")
        first = get_json(self.client, LIST_URL)["results"]
        slugs = [item["slug"] for item in first + data["results"]]
        self.assertEqual(slugs, [f"magnesium-api-{n:02d}" for n in range(25)])

    def test_each_form_carries_revision_and_publication_date(self):
        results = get_json(self.client, LIST_URL)["results"]
        first = results[0]
        self.assertEqual(first["slug"], "magnesium-api-00")
        self.assertEqual(first["name"], "Magnesium api 00")
        self.assertEqual(
            first["revision"], Revision.objects.latest_number(self.forms[0].pk)
        )
        self.assertGreater(first["revision"], 1)
        self.assertRegex(first["published_at"], r"^\d{4}-\d{2}-\d{2}T")
        # Approved by no named person: not a review.
        self.assertEqual((first["last_reviewed"], first["reviewed_by"]), (None, None))
        self.assertEqual(first["synonyms"], ["Magnesium api zero"])
        self.assertEqual(first["url"], "http://testserver/forms/magnesium-api-00/")
        self.assertEqual(
            first["api_url"], "http://testserver/api/v1/forms/magnesium-api-00/"
        )
        self.assertEqual(first["elemental_mg_percent"], "14.10")
        for item in results:
            with self.subTest(slug=item["slug"]):
                self.assertIsInstance(item["revision"], int)
                self.assertTrue(item["published_at"])

    def test_unpublished_forms_are_absent(self):
        everything = json.dumps(
            get_json(self.client, LIST_URL)["results"]
            + get_json(self.client, LIST_URL, {"page": 2})["results"]
        )
        self.assertNotIn("magnesium-api-secret", everything)

    def test_bad_page_is_a_json_error(self):
        for page, statuses in [
            ("abc", {400}),
            ("-1", {400}),
            ("1.5", {400}),
            ("", {400}),
            ("0", {400}),
            ("3", {404}),
            ("99999999999999999999", {404}),
        ]:
            with self.subTest(page=page):
                response = self.client.get(LIST_URL, {"page": page})
                self.assertIn(response.status_code, statuses)
                self.assertEqual(response["Content-Type"], "application/json")
                data = json.loads(response.content)
                self.assertTrue(data["error"])

    def test_page_in_other_digits_is_a_json_error_not_a_500(self):
        self.client.raise_request_exception = False
        for page in ["²", "①"]:
            with self.subTest(page=page):
                response = self.client.get(LIST_URL, {"page": page})
                self.assertIn(response.status_code, {400, 404})
                self.assertIn("error", json.loads(response.content))

    def test_read_only(self):
        for method in ("post", "put", "delete", "patch"):
            with self.subTest(method=method):
                response = getattr(self.client, method)(LIST_URL)
                self.assertEqual(response.status_code, 405)


class FormDetailApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form, cls.reviewer, cls.citations = build_glycinate()
        cls.hidden = factories.MagnesiumFormFactory(
            name="Magnesium api secret", slug="magnesium-api-secret"
        )

    def setUp(self):
        self.data = get_json(self.client, "/api/v1/forms/magnesium-glycinate/")

    def test_summary_fields(self):
        self.assertEqual(self.data["slug"], "magnesium-glycinate")
        self.assertEqual(self.data["name"], "Magnesium glycinate")
        self.assertEqual(self.data["synonyms"], ["Magnesium bisglycinate"])
        self.assertEqual(self.data["category"], "amino-acid-chelate")
        self.assertEqual(self.data["elemental_mg_percent"], "12.00")
        self.assertEqual(
            self.data["revision"], Revision.objects.latest_number(self.form.pk)
        )
        self.assertTrue(self.data["last_reviewed"].startswith("2024-03-05T10:30:00"))
        self.assertEqual(self.data["reviewed_by"], "Ada Lovelace")

    def test_sections_are_rendered(self):
        sections = self.data["sections_html"]
        self.assertIn("gentle on the gut", sections["summary"])
        self.assertIn("NMDA", sections["mechanism"])
        self.assertIn("not medical advice", sections["disclaimer"])

    def test_evidence(self):
        sleep = next(
            item
            for item in self.data["evidence"]
            if item["indication_slug"] == "sleep-quality"
        )
        self.assertEqual(sleep["direction"], "benefit")
        self.assertEqual(sleep["certainty"], "low")
        self.assertEqual(sleep["citations"], ["held2002"])
        self.assertNotIn("applicability", sleep)  # derived from the studies

    def test_studies_name_their_use(self):
        (study,) = [s for s in self.data["studies"] if s["name"] == "Held 2002"]
        self.assertEqual(
            (study["evidence"], study["evidence_slug"]),
            ("Sleep quality", "sleep-quality"),
        )
        self.assertEqual((study["studies_included"], study["studies_improved"]), (8, 5))
        self.assertEqual(study["salt"], "oxide")

    def test_doses_side_effects_interactions_precautions_faqs(self):
        self.assertEqual(
            [
                (d["population"], d["minimum_mg"], d["maximum_mg"])
                for d in self.data["doses"]
            ],
            [("Adults", 125, 300), ("Children 9–13 years", 50, 110)],
        )
        self.assertEqual(
            sorted(item["side_effect"] for item in self.data["side_effects"]),
            ["Diarrhoea", "Hypermagnesaemia", "Nausea"],
        )
        self.assertEqual(
            [item["significance"] for item in self.data["interactions"]],
            ["major", "moderate", "minor"],
        )
        self.assertEqual(
            [item["label"] for item in self.data["precautions"]],
            ["Kidney disease", "Pregnancy"],
        )
        self.assertEqual(
            [item["question"] for item in self.data["faqs"]],
            ["Can I take it with food?", "Is it better than oxide?"],
        )

    def test_each_markdown_field_of_a_row_is_its_own_html(self):
        (integrase,) = [
            item
            for item in self.data["interactions"]
            if item["drug_class"] == "Integrase inhibitors"
        ]
        self.assertEqual(
            integrase["mechanism_html"],
            "<p>Magnesium <em>binds</em> the antiretroviral in the gut.</p>",
        )
        self.assertEqual(
            integrase["management_html"],
            "<p>Take the antiretroviral 2 h before magnesium.</p>",
        )

    def test_references_numbered_as_on_the_page(self):
        self.assertEqual(
            [(ref["number"], ref["key"]) for ref in self.data["references"]],
            [(1, "smith2019"), (2, "abbasi2012"), (3, "held2002"), (4, "tetra2010")],
        )

    def test_unknown_slug_is_a_json_404(self):
        for slug in ["magnesium-unobtainium", "magnesium-api-secret"]:
            with self.subTest(slug=slug):
                data = get_json(self.client, f"/api/v1/forms/{slug}/", status=404)
                self.assertIn("error", data)

    def test_unapproved_edit_does_not_change_the_api(self):
        editor = factories.EditorFactory()
        self.form.refresh_from_db()
        published = Revision.objects.latest_number(self.form.pk)
        with edit(editor):
            self.form.summary = "DRAFT summary for the API."
            self.form.save()
            factories.FAQFactory(form=self.form, question="DRAFT question?")
        forget_cached_pages()
        data = get_json(self.client, "/api/v1/forms/magnesium-glycinate/")
        self.assertEqual(data["revision"], published)
        self.assertNotIn("DRAFT", json.dumps(data))
        listed = get_json(self.client, LIST_URL)["results"]
        self.assertEqual(listed[0]["revision"], published)


class ApiProtocolTests(TestCase):
    """Errors, methods, pagination links and CORS: the same for every endpoint."""

    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(slug="magnesium-protocol")
        factories.publish(cls.form)

    ENDPOINTS = [
        "/api/v1/",
        "/api/v1/openapi.json",
        LIST_URL,
        "/api/v1/forms/magnesium-protocol/",
    ]

    def assertApiError(self, response, status, code):
        self.assertEqual(response.status_code, status)
        self.assertEqual(response["Content-Type"], "application/json")
        error = json.loads(response.content)["error"]
        self.assertEqual((error["status"], error["code"]), (status, code))
        self.assertTrue(error["message"])
        return error

    def test_errors_have_one_shape(self):
        error = self.assertApiError(
            self.client.get(LIST_URL, {"page": "0"}), 400, "bad_parameter"
        )
        self.assertEqual(error["parameter"], "page")
        self.assertNotIn("There are", error["message"])
        self.assertApiError(
            self.client.get("/api/v1/forms/magnesium-nothing/"), 404, "not_found"
        )

    def test_past_the_last_page_says_how_many_there_are(self):
        error = self.assertApiError(
            self.client.get(LIST_URL, {"page": "2"}), 404, "not_found"
        )
        self.assertEqual(error["message"], "There is no page 2: the list has 1 page.")

    def test_unknown_api_paths_are_json_404s(self):
        for path in ["/api/v2/forms/", "/api/v1/nothing", "/api/v1/forms", "/api/x"]:
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertApiError(response, 404, "not_found")
                self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        self.assertIn(
            "end with '/'",
            json.loads(self.client.get("/api/v1/forms").content)["error"]["message"],
        )

    def test_a_bad_host_is_a_json_400(self):
        response = self.client.get(LIST_URL, headers={"host": "evil.example"})
        error = self.assertApiError(response, 400, "bad_parameter")
        self.assertEqual(error["parameter"], "Host")
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        self.assertNotIn("ALLOWED_HOSTS", response.content.decode())
        # Pages, the API guide at /api/ included, keep the HTML page.
        for path in ("/forms/", "/api/"):
            with self.subTest(path=path):
                page = self.client.get(path, headers={"host": "evil.example"})
                self.assertEqual(page.status_code, 400)
                self.assertTrue(page["Content-Type"].startswith("text/html"))

    def test_an_http404_outside_an_endpoint_is_a_json_404_whatever_the_method(self):
        factory = RequestFactory()
        for method in ("get", "post", "options"):
            with self.subTest(method=method):
                request = getattr(factory, method)("/api/v1/forms/x/")
                response = errors.page_not_found(request, Http404())
                self.assertApiError(response, 404, "not_found")

    def test_a_crash_is_a_json_500(self):
        client = Client(raise_request_exception=False)
        failure = RuntimeError("the database went away")
        with patch("monographs.views.api.published_monographs", side_effect=failure):
            response = client.get(LIST_URL)
        error = self.assertApiError(response, 500, "server_error")
        self.assertNotIn("database", error["message"])
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        with patch("monographs.views.browse.published_monographs", side_effect=failure):
            page = client.get("/")
        self.assertEqual(page.status_code, 500)
        self.assertTrue(page["Content-Type"].startswith("text/html"))
        with patch(
            "monographs.views.openapi.ApiDocsView.get_context_data", side_effect=failure
        ):
            guide = client.get("/api/")
        self.assertEqual(guide.status_code, 500)
        self.assertTrue(guide["Content-Type"].startswith("text/html"))

    def test_writes_are_a_json_405_with_allow(self):
        for path in [*self.ENDPOINTS, "/api/v1/nothing/"]:
            for method in ("post", "put", "patch", "delete"):
                with self.subTest(path=path, method=method):
                    response = getattr(self.client, method)(path)
                    self.assertApiError(response, 405, "method_not_allowed")
                    self.assertEqual(response["Allow"], "GET, HEAD, OPTIONS")

    def test_writes_need_no_csrf_token_to_be_refused(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post(LIST_URL)
        self.assertApiError(response, 405, "method_not_allowed")

    def test_head_answers_like_get_without_a_body(self):
        response = self.client.head(LIST_URL)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"")

    def test_any_origin_may_read(self):
        for path in self.ENDPOINTS:
            with self.subTest(path=path):
                response = self.client.get(
                    path, headers={"Origin": "https://a.example"}
                )
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Access-Control-Allow-Origin"], "*")
                self.assertEqual(
                    response["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS"
                )

    def test_preflight_allows_reading_only(self):
        response = self.client.options(
            LIST_URL,
            headers={
                "Origin": "https://a.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "if-none-match",
            },
        )
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        self.assertEqual(response["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS")
        self.assertEqual(response["Access-Control-Allow-Headers"], "if-none-match")

    def test_nothing_else_allows_other_origins(self):
        for path in [
            "/",
            "/api/",
            "/forms/magnesium-protocol/",
            "/citations/export.json",
            "/sitemap.xml",
            "/admin/login/",
        ]:
            with self.subTest(path=path):
                response = self.client.get(
                    path, headers={"Origin": "https://a.example"}
                )
                self.assertFalse(response.has_header("Access-Control-Allow-Origin"))

    def test_link_header_repeats_the_pagination_links(self):
        response = self.client.get(LIST_URL)
        self.assertEqual(
            response["Link"],
            '<http://testserver/api/v1/forms/?page=1>; rel="first", '
            '<http://testserver/api/v1/forms/?page=1>; rel="last"',
        )

    def test_index_links_the_endpoints_and_the_guide(self):
        data = get_json(self.client, "/api/v1/")
        self.assertEqual(data["openapi"], "http://testserver/api/v1/openapi.json")
        self.assertEqual(data["documentation"], "http://testserver/api/")
