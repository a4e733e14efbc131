"""
Every URL the site routes, for every role, against the status it must give.

The URL list comes from the URL configuration itself: a new view that has
no rule below fails the test until someone decides who may see it.
"""

import re

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver

from monographs.history import change_context
from monographs.models import FAQ, Citation, Revision
from tests import factories

ROLES = ["anonymous", "editor", "reviewer", "superuser"]
ANYONE = dict.fromkeys(ROLES, 200)
STAFF_ONLY_404 = {"anonymous": 404, "editor": 200, "reviewer": 200, "superuser": 200}
LOGIN = 302  # the admin sends anonymous visitors to its login page


def staff(editor, reviewer=None, superuser=None):
    return {
        "anonymous": LOGIN,
        "editor": editor,
        "reviewer": editor if reviewer is None else reviewer,
        "superuser": 200 if superuser is None else superuser,
    }


POST_ONLY = {"anonymous": LOGIN, "editor": 405, "reviewer": 405, "superuser": 405}


def everyone(status):
    return dict.fromkeys(ROLES, status)


# (route regex, expected status per role for a GET). The first match wins.
RULES = [
    # Public pages: readers, and staff alike.
    (r"^$", ANYONE),
    (r"^forms/$", ANYONE),
    (r"^forms/compare/$", ANYONE),
    (r"^forms/<slug:slug>/$", ANYONE),
    (r"^forms/<slug:slug>/draft/$", STAFF_ONLY_404),
    (r"^forms/<slug:slug>/revisions/<int:number>/$", ANYONE),
    (r"^forms/<slug:slug>/history/$", ANYONE),
    (r"^forms/<slug:slug>/history/feed/$", ANYONE),
    (r"^forms/<slug:slug>/diff/$", ANYONE),
    (r"^changes/(feed/)?$", ANYONE),
    (r"^(indications|side-effects)/(<slug:slug>/)?$", ANYONE),
    (r"^interactions/$", ANYONE),
    (r"^citations/(<int:pk>/|export\.(ris|bib|json))?$", ANYONE),
    (r"^search/$", ANYONE),
    (r"^api/v1/forms/(<slug:slug>/)?$", ANYONE),
    (r"^(sitemap\.xml|robots\.txt|healthz)$", ANYONE),
    (r"^favicon\.ico$", everyone(301)),
    # The editor's endpoints only take POSTs (checked for staff below).
    (r"^markdownx/(markdownify|upload)/$", everyone(405)),
    # The admin.
    (
        r"^admin/login/$",
        {"anonymous": 200, "editor": 302, "reviewer": 302, "superuser": 302},
    ),
    (
        r"^admin/logout/$",
        {"anonymous": 302, "editor": 405, "reviewer": 405, "superuser": 405},
    ),
    (r"^admin/$", staff(200)),
    (r"^admin/\^\(\?P<app_label>", staff(200)),
    (r"^admin/jsi18n/$", staff(200)),
    (r"^admin/autocomplete/$", staff(200)),
    (r"^admin/password_change/(done/)?$", staff(200)),
    (r"^admin/r/", staff(302, 302, 302)),
    (r"^admin/\(\?P<url>", staff(404, 404, 404)),
    # An object's bare address sends to its change page, before any check.
    (r"^admin/\w+/\w+/<path:object_id>/$", staff(302, 302, 302)),
    # Users, groups and login records are the superuser's; nobody adds or
    # edits login records by hand.
    (r"^admin/axes/\w+/add/$", staff(403, 403, 403)),
    (r"^admin/(auth|axes)/\w+/(<path:object_id>/(change/|history/)?)?$", staff(403)),
    (r"^admin/(auth|axes)/\w+/(add|<path:object_id>/delete)/$", staff(403)),
    (r"^admin/auth/user/<id>/password/$", staff(403)),
    # Monographs: editors change, reviewers also delete; workflow steps are POSTs.
    (r"^admin/monographs/magnesiumform/<path:object_id>/delete/$", staff(403, 200)),
    (
        r"^admin/monographs/magnesiumform/<path:object_id>/(submit|revisions/<int:number>/revert|rows/.*/recover)/$",
        POST_ONLY,
    ),
    (r"^admin/monographs/magnesiumform/deleted/<int:form_id>/recover/$", POST_ONLY),
    (r"^admin/monographs/magnesiumform/(review-queue|deleted)/$", staff(200)),
    (
        r"^admin/monographs/magnesiumform/<path:object_id>/(review|revisions)/$",
        staff(200),
    ),
    # Revisions and review steps are records: read-only for every role.
    (
        r"^admin/monographs/(revision|reviewevent)/(add|<path:object_id>/delete)/$",
        staff(403, 403, 403),
    ),
    (r"^admin/monographs/(revision|reviewevent)/", staff(200)),
    # Shared vocabularies: only reviewers delete them.
    (
        r"^admin/monographs/(citation|indication|sideeffect)/<path:object_id>/delete/$",
        staff(403, 200),
    ),
    # Rows of a monograph: editors delete them too.
    (r"^admin/monographs/\w+/<path:object_id>/delete/$", staff(200)),
    (
        r"^admin/monographs/\w+/(add/|<path:object_id>/(change/|history/)?)?$",
        staff(200),
    ),
    (r"^admin/monographs/\w+/\^", staff(200)),
]


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def rule_for(route):
    for regex, expected in RULES:
        if re.search(regex, route):
            return expected
    return None


class PermissionMatrixTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.users = {
            "editor": factories.EditorFactory(username="ed"),
            "reviewer": factories.ReviewerFactory(username="rev"),
            "superuser": factories.SuperuserFactory(username="root"),
        }
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate"
        )
        factories.publish(cls.form)
        cls.faq = factories.FAQFactory(form=cls.form)
        factories.publish(cls.form)
        factories.publish(
            factories.MagnesiumFormFactory(
                name="Magnesium oxide", slug="magnesium-oxide"
            )
        )
        cls.draft = factories.MagnesiumFormFactory(
            name="Magnesium draft", slug="magnesium-draft"
        )
        cls.citation = factories.CitationFactory()
        with change_context(reason="Sample rows"):
            cls.samples = {
                "citation": cls.citation,
                "indication": factories.IndicationFactory(),
                "sideeffect": factories.SideEffectFactory(),
                "synonym": factories.SynonymFactory(form=cls.draft),
                "evidence": factories.EvidenceFactory(form=cls.draft),
                "formsideeffect": factories.FormSideEffectFactory(form=cls.draft),
                "dose": factories.DoseFactory(form=cls.draft),
                "interaction": factories.InteractionFactory(form=cls.draft),
                "precaution": factories.PrecautionFactory(form=cls.draft),
                "faq": cls.faq,
            }
        cls.samples["magnesiumform"] = cls.form
        cls.samples["revision"] = Revision.objects.for_form(cls.form.pk).first()
        cls.samples["reviewevent"] = cls.form.review_events.first()
        cls.samples["user"] = cls.users["editor"]
        cls.samples["group"] = cls.users["editor"].groups.first()
        login = {"ip_address": "192.0.2.1", "username": "ed", "user_agent": "test"}
        cls.samples["accessattempt"] = AccessAttempt.objects.create(
            **login, failures_since_start=1
        )
        cls.samples["accesslog"] = AccessLog.objects.create(**login)
        cls.samples["accessfailurelog"] = AccessFailureLog.objects.create(**login)

    def concrete(self, route):
        """A URL for ``route``, with sample values for its parameters."""
        model = re.search(r"admin/\w+/(\w+)/", route)
        sample = self.samples.get(model.group(1)) if model else None
        topic = re.match(r"(indications|side-effects)/", route)
        values = {
            "<slug:slug>": self.topic_slug(topic.group(1)) if topic else self.form.slug,
            "<int:number>": "1",
            "<int:pk>": str(self.citation.pk),
            "<path:object_id>": str(sample.pk) if sample is not None else "1",
            "<int:form_id>": str(self.draft.pk),
            "<str:kind>": "faqs",
            "<int:row_id>": str(self.faq.pk),
            "<id>": str(self.users["editor"].pk),
            "<path:content_type_id>": str(
                ContentType.objects.get_for_model(Citation).pk
            ),
        }
        url = route
        for placeholder, value in values.items():
            url = url.replace(placeholder, value)
        url = re.sub(r"\^\(\?P<app_label>[^)]*\)/\$", "monographs/", url)
        if "^([^/]+)/history/([^/]+)/$" in url:
            url = url.replace(
                "^([^/]+)/history/([^/]+)/$", self.history_version(sample)
            )
        url = url.replace("(?P<url>.*)$", "no-such-page/")
        query = {
            "forms/compare/": "?forms=magnesium-citrate,magnesium-oxide",
            f"forms/{self.form.slug}/diff/": "?from=1&to=2",
            "search/": "?q=citrate",
            "admin/autocomplete/": "?app_label=monographs&model_name=evidence&field_name=citations",
        }
        return "/" + url + query.get(url, "")

    def topic_slug(self, kind):
        row = self.samples["evidence" if kind == "indications" else "formsideeffect"]
        return (row.indication if kind == "indications" else row.side_effect).slug

    def history_version(self, sample):
        record = type(sample).history.filter(id=sample.pk).first()
        return f"{sample.pk}/history/{record.history_id}/"

    def client_for(self, role):
        client = self.client_class()
        if role != "anonymous":
            client.force_login(self.users[role])
        return client

    def test_every_route_has_a_rule(self):
        missing = [
            route
            for route in walk(get_resolver().url_patterns)
            if rule_for(route) is None
        ]
        self.assertEqual(missing, [], "Routes without an expected status in RULES")

    def test_every_route_answers_each_role_as_expected(self):
        clients = {role: self.client_for(role) for role in ROLES}
        for route in walk(get_resolver().url_patterns):
            expected = rule_for(route)
            if expected is None:
                continue
            url = self.concrete(route)
            for role in ROLES:
                with self.subTest(route=route, role=role, url=url):
                    status = clients[role].get(url).status_code
                    self.assertEqual(status, expected[role], f"got {status}")

    def test_drafts_stay_hidden_from_readers(self):
        reader = self.client_for("anonymous")
        editor = self.client_for("editor")
        for url in [
            f"/forms/{self.draft.slug}/",
            f"/forms/{self.draft.slug}/draft/",
            f"/forms/{self.draft.slug}/history/",
            f"/forms/{self.draft.slug}/revisions/1/",
            f"/forms/{self.draft.slug}/diff/?from=1&to=2",
            f"/forms/{self.draft.slug}/history/feed/",
            f"/api/v1/forms/{self.draft.slug}/",
        ]:
            with self.subTest(url=url):
                self.assertEqual(reader.get(url).status_code, 404)
        self.assertEqual(
            editor.get(f"/forms/{self.draft.slug}/draft/").status_code, 200
        )

    def test_workflow_posts_need_the_right_role(self):
        url = f"/admin/monographs/magnesiumform/{self.form.pk}/review/"
        decision = {"decision": "approve", "revision": "2"}
        self.assertEqual(
            self.client_for("anonymous").post(url, decision).status_code, LOGIN
        )
        self.assertEqual(self.client_for("editor").post(url, decision).status_code, 403)
        for path in ["/markdownx/markdownify/", "/markdownx/upload/"]:
            with self.subTest(path=path):
                self.assertEqual(
                    self.client_for("anonymous").post(path).status_code, 403
                )
        self.assertEqual(FAQ.objects.filter(pk=self.faq.pk).count(), 1)
