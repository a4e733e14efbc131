"""
The API's OpenAPI document: it describes every API address and nothing
else, it is linked from the guide for people, and schemathesis, run against
the live test server, finds no server error and no response the document
does not describe.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import TestCase
from django.urls import Resolver404, get_resolver, resolve

from monographs.roles import sync_roles
from monographs.views.openapi import OPERATIONS, api_routes, openapi_document
from tests import factories
from tests.public.helpers import page_tree
from tests.public.test_monograph_page import build_glycinate

OPENAPI_URL = "/api/v1/openapi.json"
# Under /api/ but not part of the JSON API: the guide, and the JSON 404 for
# every other address.
NOT_DESCRIBED = {"api-docs", "api-not-found"}


def api_pattern_names():
    """Names of every URL pattern under /api/, read from the URLconf."""
    names = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, route)
            elif route.lstrip("^").startswith("api/"):
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


class OpenApiDocumentTests(TestCase):
    def setUp(self):
        response = self.client.get(OPENAPI_URL)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/json")
        self.document = json.loads(response.content)

    def test_it_is_openapi_3_1(self):
        self.assertEqual(self.document["openapi"], "3.1.0")
        self.assertEqual(self.document, json.loads(json.dumps(openapi_document())))

    def test_every_api_url_pattern_is_described(self):
        names = api_pattern_names() - NOT_DESCRIBED
        self.assertTrue(names)
        self.assertEqual(names, set(OPERATIONS), "describe it in OPERATIONS")
        routes = api_routes()
        for name in names:
            with self.subTest(name=name):
                self.assertIn(routes[name], self.document["paths"])

    def test_every_described_path_resolves_to_its_view(self):
        routes = {path: name for name, path in api_routes().items()}
        for path in self.document["paths"]:
            with self.subTest(path=path):
                concrete = path.replace("{slug}", "magnesium-glycinate")
                try:
                    match = resolve(concrete)
                except Resolver404:
                    self.fail(f"{path} resolves nowhere")
                self.assertEqual(match.url_name, routes[path])
                self.assertNotIn(match.url_name, NOT_DESCRIBED)

    def test_every_row_kind_is_described(self):
        from monographs.schema import ROW_KINDS

        detail = self.document["components"]["schemas"]["FormDetail"]["properties"]
        for kind in ROW_KINDS:
            with self.subTest(kind=kind.name):
                # Synonyms are the summary's list of names.
                self.assertIn(kind.name, detail)


class ApiGuideTests(TestCase):
    def test_the_guide_links_the_document_and_lists_every_path(self):
        response = self.client.get("/api/")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/html"))
        tree = page_tree(response)
        self.assertIsNotNone(tree.find("a", href=OPENAPI_URL))
        self.assertIsNotNone(tree.find("link", rel="service-desc", href=OPENAPI_URL))
        text = tree.text()
        for path in openapi_document()["paths"]:
            with self.subTest(path=path):
                self.assertIn(f"GET {path}", text)
        self.assertIn("405", text)


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_the_live_api_as_described(live_server, tmp_path):
    """schemathesis's own runner, every check, positive and negative data,
    against the live test server: no 5xx, no response the document does not
    describe, 405 with Allow for other methods."""
    # A transactional test before this one may have flushed the roles that
    # the migrations made.
    sync_roles()
    build_glycinate()
    for _ in range(3):
        factories.publish(factories.MagnesiumFormFactory())
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{live_server.url}{OPENAPI_URL}",
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--generation-deterministic",
            "--no-color",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,  # where schemathesis keeps its cache
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or "passed" in result.stdout
