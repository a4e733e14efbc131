"""
Stored and reflected XSS, end to end.

The corpus (tests.security.xss_corpus) goes into every Markdown and text
field of a monograph, its rows, citations, indications and side effects,
through the admin and through the importer (tests.security.xss_site). Every
response a reader, a reviewer or a feed reader can get is then read back and
must carry no executable markup (tests.security.inertness), and template
syntax must come out as the literal text it was.

tests/test_markdown.py covers the sanitizer on its own; these tests cover
every path from a field to a response.
"""

import html
import json
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.test import Client, SimpleTestCase, TestCase
from markdownx.models import MarkdownxField

from monographs.models import (
    FAQ,
    Citation,
    Dose,
    Evidence,
    FormSideEffect,
    Indication,
    Interaction,
    MagnesiumForm,
    Precaution,
    ReviewEvent,
    Revision,
    SideEffect,
    Study,
    Synonym,
)
from monographs.selectors import (
    published_citations,
    published_monographs,
    published_topics,
)
from tests import factories
from tests.security.inertness import (
    feed_problems,
    html_problems,
    json_problems,
    visible_text,
)
from tests.security.xss_corpus import (
    CONTROL_CHARACTER_PAYLOADS,
    EVALUATED_MARKERS,
    ONE_LINE,
    PAYLOADS,
    PAYLOADS_BY_KIND,
    TEMPLATE_INJECTIONS,
    chunks,
)
from tests.security.xss_site import FULL_MARKDOWN, AdminWriter, build_xss_site

CONTENT_MODELS = [
    MagnesiumForm,
    Synonym,
    Evidence,
    FormSideEffect,
    Dose,
    Interaction,
    Precaution,
    FAQ,
    Study,
    Citation,
    Indication,
    SideEffect,
]
# Text fields whose validators only let identifiers through: no payload fits
# (slugs too, and fields no one edits).
# A study's hydrate is one of its salt's keys in monographs.reference.
IDENTIFIER_FIELDS = {"key", "pmid", "pmcid", "doi", "hydrate"}
MAX_SHOWN = 8


class Findings:
    """Problems per URL, reported together so that one run shows them all."""

    def __init__(self):
        self.by_url = {}
        self.checked = 0

    def add(self, url, problems):
        self.checked += 1
        if problems:
            self.by_url.setdefault(url, []).extend(problems)

    def report(self):
        lines = [
            f"{sum(map(len, self.by_url.values()))} problems on {len(self.by_url)} "
            f"of {self.checked} responses:"
        ]
        for url, problems in self.by_url.items():
            lines.append(f"{url[:160]}  ({len(problems)} problems)")
            lines += [f"    {problem[:300]}" for problem in problems[:MAX_SHOWN]]
        return "\n".join(lines)


def common_problems(response):
    """What any response must not have, whatever its type."""
    problems = []
    content = response.content.decode("utf-8", "replace")
    if response.status_code >= 500:
        problems.append(f"server error {response.status_code}")
    for marker in [*EVALUATED_MARKERS, settings.SECRET_KEY]:
        if marker in content:
            problems.append(f"evaluated template syntax: {marker!r} in the response")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    return problems


def html_response_problems(response, *, admin=False):
    problems = common_problems(response)
    content_type = response.get("Content-Type", "")
    if content_type != "text/html; charset=utf-8":
        problems.append(f"HTML served as {content_type!r}")
    return problems + html_problems(response.content, admin=admin)


class CorpusTests(SimpleTestCase):
    def test_the_corpus_has_over_a_hundred_payloads_of_every_kind(self):
        self.assertGreaterEqual(len(PAYLOADS), 100)
        self.assertEqual(len(set(PAYLOADS)), len(PAYLOADS), "duplicate payloads")
        for kind, payloads in PAYLOADS_BY_KIND.items():
            with self.subTest(kind=kind):
                self.assertGreaterEqual(len(payloads), 5)

    def test_the_checker_finds_what_it_is_for(self):
        # The checks below are only as good as html_problems: it must see these.
        for markup in [
            "<script>alert(1)</script>",
            "<p onclick='x'>",
            '<a href=" JaVa&#x09;ScRiPt:alert(1)">',
            '<a href="&#x01;javascript:alert(1)">',
            '<img src="data:image/svg+xml,x">',
            '<form action="vbscript:x">',
            "<iframe src=x></iframe>",
            "<object data=x></object>",
            "<embed src=x>",
            "<svg></svg>",
            "<math></math>",
            "<style>*{}</style>",
            "<base href=x>",
            '<meta http-equiv="refresh" content="0;url=x">',
            '<p style="x:y">',
            '<script type="application/ld+json">{"a": "</script><script>x</script>',
        ]:
            with self.subTest(markup=markup):
                self.assertNotEqual(html_problems(markup), [])
        self.assertEqual(
            html_problems(
                '<script type="application/ld+json">{"a": "\\u003C/script\\u003E"}'
                '</script><a href="https://example.com/javascript:x">x</a>'
            ),
            [],
        )


class PayloadSite:
    """The payload site, built once for the class (through admin and importer)."""

    @classmethod
    def setUpTestData(cls):
        cls.directory = tempfile.mkdtemp(prefix="mgref-xss-")
        cls.addClassCleanup(shutil.rmtree, cls.directory, ignore_errors=True)
        cls.site = build_xss_site(cls.directory)

    def setUp(self):
        self.anonymous = Client(raise_request_exception=False)
        self.staff = Client(raise_request_exception=False)
        self.staff.force_login(self.site.reviewer)

    # URLs, from the site as built.

    def monograph_urls(self, form, *, staff=False):
        slug = form.slug
        published = self.site.published_numbers[form.pk]
        drafts = self.site.draft_numbers[form.pk]
        # Readers get every published revision (each holds other payloads in
        # its rows); staff, whose published pages are the readers', the drafts.
        numbers = [published[-1], *drafts] if staff else published
        urls = [
            f"/forms/{slug}/",
            f"/forms/{slug}/history/",
            *(f"/forms/{slug}/revisions/{number}/" for number in numbers),
            f"/forms/{slug}/diff/?from={published[0]}&to={published[1]}",
            f"/forms/{slug}/diff/?from={published[-2]}&to={published[-1]}",
            f"/changes/?form={slug}",
        ]
        if staff:
            urls.append(f"/forms/{slug}/draft/")
        if staff and drafts:
            urls.append(f"/forms/{slug}/diff/?from={published[-1]}&to={max(drafts)}")
        return urls

    def html_urls(self, *, staff=False):
        """Pages to read; staff get those that differ for them (drafts, history)."""
        site = self.site
        urls = [
            "/",
            "/forms/",
            f"/forms/compare/?forms={site.admin_form.slug},{site.import_form.slug}",
            "/changes/",
            "/indications/",
            "/side-effects/",
            "/interactions/",
            "/citations/",
        ]
        for form in site.forms:
            urls += self.monograph_urls(form, staff=staff)
        if staff:
            return urls
        # Topic and citation pages exist for what published documents name.
        monographs = published_monographs()
        for topic, prefix in [
            ("indication", "indications"),
            ("side_effect", "side-effects"),
        ]:
            urls += [
                f"/{prefix}/{instance.slug}/"
                for instance in published_topics(topic, monographs).values()
            ]
        cited = list(published_citations(monographs))
        self.assertTrue(cited)
        # The bibliography shows every citation as its page does; a sample of
        # the citation pages.
        urls += [f"/citations/{pk}/" for pk in cited[::6]]
        urls += [
            f"/search/?{urlencode({'q': term})}"
            for term in ["alert", "script", "xss", "onerror", "javascript", "7*7"]
        ]
        return urls

    def check_html(self, client, urls, *, admin=False):
        findings = Findings()
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                findings.add(url, [f"status {response.status_code}, expected 200"])
                continue
            findings.add(url, html_response_problems(response, admin=admin))
        return findings


class XssTests(PayloadSite, TestCase):
    """Stored payloads read back everywhere; then payloads in the address."""

    def test_every_text_field_holds_payloads(self):
        """The checks mean something only if the payloads really were stored."""
        missing = []
        for model in CONTENT_MODELS:
            for field in model._meta.concrete_fields:
                if (
                    not isinstance(field, models.CharField | models.TextField)
                    or isinstance(field, models.SlugField)
                    or not field.editable
                    or field.choices
                    or field.name in IDENTIFIER_FIELDS
                ):
                    continue
                values = model.objects.values_list(field.name, flat=True)
                if not any("alert(" in (value or "") for value in values):
                    missing.append(f"{model.__name__}.{field.name}")
        for name in ["summary"]:
            values = Revision.objects.values_list(name, flat=True)
            if not any("alert(" in value for value in values):
                missing.append(f"Revision.{name}")
        if not any(
            "alert(" in event.comment
            for event in ReviewEvent.objects.exclude(action="submitted")
        ):
            missing.append("ReviewEvent.comment")
        self.assertEqual(missing, [], "fields the payload site left without payloads")

    def test_markdown_fields_hold_the_whole_corpus(self):
        markdown_fields = [
            field.name
            for field in MagnesiumForm._meta.concrete_fields
            if isinstance(field, MarkdownxField)
        ]
        for form in self.site.forms:
            form = MagnesiumForm.objects.get(pk=form.pk)
            for name in markdown_fields:
                if form == self.site.import_form and name in {
                    "precaution_notes",
                    "other_sections",
                    "mechanism",
                    "dosage_notes",
                    "editor_notes",  # staff-only: never exported, so never imported
                }:
                    continue  # the import fills these from sections with a share
                with self.subTest(form=form.slug, field=name):
                    value = getattr(form, name)
                    missing = [p for p in ONE_LINE if p not in value]
                    self.assertLessEqual(len(missing), 5, missing[:5])

    def test_public_pages_are_inert_for_readers(self):
        findings = self.check_html(self.anonymous, self.html_urls())
        self.assertFalse(findings.by_url, findings.report())

    def test_public_pages_are_inert_for_staff_with_drafts(self):
        findings = self.check_html(self.staff, self.html_urls(staff=True))
        self.assertFalse(findings.by_url, findings.report())

    def test_synonym_addresses_redirect_to_the_monograph_only(self):
        for slug in self.site.synonym_slugs:
            response = self.anonymous.get(f"/forms/{slug}/")
            self.assertEqual(response.status_code, 301)
            self.assertEqual(
                response["Location"], f"/forms/{self.site.admin_form.slug}/"
            )

    def test_template_syntax_is_shown_literally(self):
        """{{ 7*7 }} stays "{{ 7*7 }}": content is never a template."""
        for form in self.site.forms:
            response = self.anonymous.get(f"/forms/{form.slug}/")
            text = visible_text(response.content)
            for payload in TEMPLATE_INJECTIONS:
                with self.subTest(form=form.slug, payload=payload):
                    shown = " ".join(payload.split())
                    self.assertIn(shown, text)
            for marker in EVALUATED_MARKERS:
                self.assertNotIn(marker, response.content.decode())

    def test_feeds_are_inert(self):
        findings = Findings()
        urls = ["/changes/feed/"] + [
            f"/forms/{form.slug}/history/feed/" for form in self.site.forms
        ]
        for client in [self.anonymous, self.staff]:
            for url in urls:
                response = client.get(url)
                problems = common_problems(response)
                if response.status_code != 200:
                    problems.append(f"status {response.status_code}")
                else:
                    problems += feed_problems(response.content)
                findings.add(url, problems)
        self.assertFalse(findings.by_url, findings.report())

    def test_feeds_carry_the_payload_summaries_as_text(self):
        """A feed reader shows an edit summary as the words the editor typed.

        Atom's <summary type="html"> is markup to the reader: the edit summary
        must arrive escaped in it, so that decoding it gives the text back.
        """
        atom = "{http://www.w3.org/2005/Atom}"
        summaries = set(Revision.objects.published().values_list("summary", flat=True))
        wrong = []
        for url in [
            "/changes/feed/",
            f"/forms/{self.site.admin_form.slug}/history/feed/",
        ]:
            root = ET.fromstring(self.anonymous.get(url).content)
            for entry in root.iter(f"{atom}entry"):
                summary = entry.find(f"{atom}summary")
                kind = summary.get("type", "text")
                shown = summary.text or ""
                if kind == "html":
                    shown = html.unescape(re.sub(r"<[^>]*>", "", shown))
                # The summary as typed, then who approved it.
                typed = shown.rsplit(" — ", 1)[0]
                if typed not in summaries:
                    wrong.append(
                        f"{url}: <summary type={kind!r}> holds {summary.text[:120]!r}, "
                        f"which a feed reader renders as markup and shows as "
                        f"{shown[:80]!r}"
                    )
        self.assertEqual(wrong[:5], [], f"{len(wrong)} entries show other words")

    def test_citation_exports_are_inert(self):
        findings = Findings()
        cited_by = {"": True, f"?form={self.site.admin_form.slug}": True}
        queries = [""] + [f"?form={form.slug}" for form in self.site.forms]
        for query in queries:
            for path, content_type in [
                ("/citations/export.ris", "application/x-research-info-systems"),
                ("/citations/export.bib", "application/x-bibtex"),
                ("/citations/export.json", "application/json"),
            ]:
                url = f"{path}{query}"
                response = self.anonymous.get(url)
                problems = common_problems(response)
                if response.status_code != 200:
                    problems.append(f"status {response.status_code}")
                served = response.get("Content-Type", "")
                if not served.startswith(content_type):
                    problems.append(f"served as {served!r}, not {content_type}")
                if "html" in served or "xml" in served:
                    problems.append(f"an export a browser would render: {served!r}")
                # The imported monograph cites nothing.
                if not cited_by.get(query):
                    pass
                elif path.endswith(".json"):
                    items = json.loads(response.content)
                    if not any("alert(" in item.get("title", "") for item in items):
                        problems.append("the payload titles are missing")
                elif "alert(" not in response.content.decode():
                    problems.append("the payload citations are missing")
                findings.add(url, problems)
        self.assertFalse(findings.by_url, findings.report())

    def test_api_is_inert(self):
        findings = Findings()
        urls = ["/api/v1/forms/"] + [
            f"/api/v1/forms/{form.slug}/" for form in self.site.forms
        ]
        for client in [self.anonymous, self.staff]:
            for url in urls:
                response = client.get(url)
                problems = common_problems(response)
                if response.status_code != 200:
                    problems.append(f"status {response.status_code}")
                if not response.get("Content-Type", "").startswith("application/json"):
                    problems.append(f"served as {response.get('Content-Type')!r}")
                data = json.loads(response.content)
                problems += json_problems(data)
                findings.add(url, problems)
        self.assertFalse(findings.by_url, findings.report())

    def test_api_gives_plain_text_fields_as_the_exact_text(self):
        form = self.site.admin_form
        data = self.anonymous.get(f"/api/v1/forms/{form.slug}/").json()
        self.assertEqual(data["name"], form.name)
        stored = {
            dose.population
            for dose in Dose.objects.filter(form=form)
            if dose.population
        }
        self.assertEqual({dose["population"] for dose in data["doses"]}, stored)
        self.assertTrue(
            any("<script>" in dose["population"] for dose in data["doses"]),
            "the API should return the text as typed, for the client to escape",
        )

    def test_sitemap_and_robots_are_inert(self):
        response = self.anonymous.get("/sitemap.xml")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(common_problems(response), [])
        root = ET.fromstring(response.content)
        namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
        for element in root.iter():
            self.assertTrue(element.tag.startswith(namespace), element.tag)
        locations = [loc.text for loc in root.iter(f"{namespace}loc")]
        self.assertTrue(locations)
        for location in locations:
            self.assertRegex(location, r"^http://testserver/[a-z0-9_/-]*$")
        robots = self.anonymous.get("/robots.txt")
        self.assertTrue(robots["Content-Type"].startswith("text/plain"))

    def test_search_results_page_through_payload_text(self):
        findings = Findings()
        for term in ["alert", "script", "img"]:
            for page in [1, 2]:
                url = f"/search/?{urlencode({'q': term, 'page': page})}"
                response = self.anonymous.get(url)
                if response.status_code == 404 and page > 1:
                    continue
                findings.add(url, html_response_problems(response))
        self.assertFalse(findings.by_url, findings.report())

    def test_markdown_preview_is_inert(self):
        findings = Findings()
        for index, text in enumerate(FULL_MARKDOWN):
            response = self.staff.post("/markdownx/markdownify/", {"content": text})
            problems = common_problems(response)
            if response.status_code != 200:
                problems.append(f"status {response.status_code}")
            findings.add(
                f"markdownify #{index}", problems + html_problems(response.content)
            )
        self.assertFalse(findings.by_url, findings.report())

    def test_admin_pages_are_inert_for_staff(self):
        site = self.site
        admin = "/admin/monographs"
        urls = [
            f"{admin}/magnesiumform/",
            f"{admin}/magnesiumform/review-queue/",
            f"{admin}/magnesiumform/deleted/",
            f"{admin}/revision/",
            f"{admin}/reviewevent/",
        ]
        for form in site.forms:
            urls += [
                f"{admin}/magnesiumform/{form.pk}/change/",
                f"{admin}/magnesiumform/{form.pk}/review/",
                f"{admin}/magnesiumform/{form.pk}/revisions/",
                f"{admin}/magnesiumform/{form.pk}/history/",
            ]
        for name, model in [
            ("citation", Citation),
            ("indication", Indication),
            ("sideeffect", SideEffect),
            ("synonym", Synonym),
            ("evidence", Evidence),
            ("formsideeffect", FormSideEffect),
            ("dose", Dose),
            ("interaction", Interaction),
            ("precaution", Precaution),
            ("faq", FAQ),
        ]:
            row = model.objects.order_by("pk").first()
            urls += [
                f"{admin}/{name}/",
                f"{admin}/{name}/?{urlencode({'q': 'script'})}",
                f"{admin}/{name}/{row.pk}/change/",
                f"{admin}/{name}/{row.pk}/history/",
            ]
            record = model.history.filter(id=row.pk).order_by("history_id").first()
            urls.append(f"{admin}/{name}/{row.pk}/history/{record.history_id}/")
        findings = self.check_html(self.staff, urls, admin=True)
        self.assertFalse(findings.by_url, findings.report())

    # Reflected: payloads in the address, in every parameter a page shows back.

    def reflect(self, urls):
        findings = Findings()
        for url in urls:
            response = self.anonymous.get(url)
            problems = common_problems(response)
            if response.get("Content-Type", "").startswith("text/html"):
                problems += html_problems(response.content)
            elif response.get("Content-Type", "").startswith("application/json"):
                problems += json_problems(json.loads(response.content))
            findings.add(url, problems)
        self.assertFalse(findings.by_url, findings.report())

    def test_reflected_search_queries(self):
        # Queries are at most 200 characters: the corpus in shares that fit,
        # plus a query too long to search and the control characters (both
        # refused with a message that must not echo them unescaped).
        values = [
            *chunks(PAYLOADS, 200),
            " ".join(PAYLOADS[:20]),
            *CONTROL_CHARACTER_PAYLOADS,
        ]
        self.reflect(f"/search/?{urlencode({'q': value})}" for value in values)

    def test_reflected_compared_forms(self):
        slug = self.site.admin_form.slug
        self.reflect(
            f"/forms/compare/?{urlencode({'forms': f'{slug},{value}'})}"
            for value in PAYLOADS + CONTROL_CHARACTER_PAYLOADS
        )

    def test_reflected_parameters_and_addresses(self):
        slug = self.site.admin_form.slug
        values = chunks(ONE_LINE, 1000)
        urls = []
        for value in values:
            quoted = urlencode({"v": value})[2:]
            urls += [
                f"/changes/?form={quoted}",
                f"/changes/?page={quoted}",
                f"/forms/{slug}/history/?page={quoted}",
                f"/forms/{slug}/diff/?from={quoted}&to=2",
                f"/forms/{slug}/diff/?from=1&to={quoted}",
                f"/citations/export.ris?form={quoted}",
                f"/api/v1/forms/?page={quoted}",
                f"/search/?q=alert&page={quoted}",
                f"/{quote(value)}",
                f"/forms/{quote(value, safe='')}/",
            ]
        self.reflect(urls)


class ControlCharacterTests(TestCase):
    """Raw control characters in a name and an edit summary, which reach XML."""

    @classmethod
    def setUpTestData(cls):
        reviewer = factories.ReviewerFactory(username="control-reviewer")
        text = " ".join(CONTROL_CHARACTER_PAYLOADS)
        writer = AdminWriter(reviewer)
        data = writer.blank("magnesiumform", "magnesiumform_form")
        data.update(
            name=f"Magnesium control \x01 {CONTROL_CHARACTER_PAYLOADS[2]}"[:100],
            slug="control-characters",
            category=MagnesiumForm.Category.INORGANIC,
            elemental_mg_percent="10",
            summary=text,
            edit_summary=text[:500],
        )
        response = writer.client.post("/admin/monographs/magnesiumform/add/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        cls.form = MagnesiumForm.objects.get(slug="control-characters")
        writer.approve(cls.form, comment=text)

    def test_pages_stay_up_and_inert(self):
        findings = Findings()
        client = Client(raise_request_exception=False)
        for url in [
            "/forms/control-characters/",
            "/forms/control-characters/history/",
            "/changes/",
            "/api/v1/forms/control-characters/",
        ]:
            response = client.get(url)
            problems = common_problems(response)
            if response.status_code != 200:
                problems.append(f"status {response.status_code}")
            elif url.startswith("/api/"):
                problems += json_problems(response.json())
            else:
                problems += html_problems(response.content)
            findings.add(url, problems)
        self.assertFalse(findings.by_url, findings.report())

    def test_feeds_stay_up_and_inert(self):
        findings = Findings()
        client = Client(raise_request_exception=False)
        for url in ["/changes/feed/", "/forms/control-characters/history/feed/"]:
            response = client.get(url)
            problems = common_problems(response)
            if response.status_code != 200:
                problems.append(
                    f"status {response.status_code}: a name or edit summary with a "
                    "control character breaks the Atom feed"
                )
            else:
                problems += feed_problems(response.content)
            findings.add(url, problems)
        self.assertFalse(findings.by_url, findings.report())
