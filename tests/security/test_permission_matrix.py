"""
Who may open what: every URL pattern, for each role, with its expected status.

The URL list comes from the URL configuration itself (the admin's patterns
and the apps'), walked recursively. ``MATRIX`` below gives each pattern one
or more concrete requests and what an anonymous reader, an editor, a
reviewer and a superuser must get. A pattern without an entry fails the
test by name, so a new view cannot ship without someone deciding who may
see it; an entry whose pattern is gone fails too, so the table stays true.

Requests are GETs, except for views that only take POST: for those a GET
must be refused with 405 and a POST (with harmless data: recovering what
is not deleted, reverting to the current revision...) gets the role's
status. The test client does not check CSRF tokens; the permission checks
are what is tested here.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from monographs.history import change_context
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
from monographs.services import monograph_approve, monograph_submit
from tests import factories

ANONYMOUS, EDITOR, REVIEWER, SUPERUSER = "anonymous", "editor", "reviewer", "superuser"
ROLES = (ANONYMOUS, EDITOR, REVIEWER, SUPERUSER)


@dataclass(frozen=True)
class Redirect:
    """A redirect whose Location starts with ``to``."""

    to: str
    status: int = 302

    def __str__(self):
        return f"{self.status} to {self.to}"


LOGIN = Redirect("/admin/login/?next=")


def expect(anonymous, editor, reviewer, superuser):
    return dict(zip(ROLES, (anonymous, editor, reviewer, superuser), strict=True))


def every(outcome):
    """The same for everyone: public pages, and what no one may do."""
    return expect(outcome, outcome, outcome, outcome)


def staff(outcome, anonymous=LOGIN):
    """The same for all staff; readers are sent to log in (admin) or get 404."""
    return expect(anonymous, outcome, outcome, outcome)


@dataclass
class Case:
    url: str  # formatted with the sample objects, e.g. "/forms/{published}/"
    expected: dict
    method: str = "get"
    data: dict = field(default_factory=dict)
    # For requests that end the session (logout): a client of its own.
    fresh_client: bool = False


def get(url, expected):
    return Case(url, expected)


def post_only(url, expected_post, data=None):
    """A POST-only view: GET is 405 for whoever gets that far, then the POST."""
    get_refused = {
        role: LOGIN if outcome == LOGIN else 405
        for role, outcome in expected_post.items()
    }
    return [
        Case(url, get_refused),
        Case(url, expected_post, method="post", data=data or {}),
    ]


# Readers see published pages only; a draft is a 404 to them, not a 403, so
# that they cannot learn which drafts exist. Staff see drafts and previews.
DRAFT = staff(200, anonymous=404)

MATRIX = {
    # --- the public site ---------------------------------------------------
    "": [get("/", every(200))],
    "forms/": [get("/forms/", every(200))],
    "forms/compare/": [
        get("/forms/compare/?forms={published},{other}", every(200)),
        get("/forms/compare/", every(200)),
        # Drafts cannot be compared, not even by staff.
        get("/forms/compare/?forms={published},{draft}", every(400)),
    ],
    "forms/<slug:slug>/": [
        get("/forms/{published}/", every(200)),
        get("/forms/{synonym}/", every(Redirect("/forms/{published}/", 301))),
        # The public page exists once a revision is approved, for staff too:
        # they preview drafts at /draft/.
        get("/forms/{draft}/", every(404)),
        get("/forms/no-such-form/", every(404)),
    ],
    "forms/<slug:slug>/draft/": [
        get("/forms/{published}/draft/", DRAFT),
        get("/forms/{draft}/draft/", DRAFT),
    ],
    "forms/<slug:slug>/revisions/<int:number>/": [
        get("/forms/{published}/revisions/1/", every(200)),
        get("/forms/{published}/revisions/{published_draft_number}/", DRAFT),
        get("/forms/{draft}/revisions/1/", DRAFT),
        get("/forms/{published}/revisions/99/", every(404)),
    ],
    "forms/<slug:slug>/history/": [
        get("/forms/{published}/history/", every(200)),
        get("/forms/{draft}/history/", DRAFT),
    ],
    "media/uploads/<str:name>": [
        get("/media/uploads/" + "0" * 64 + ".png", every(404))
    ],
    "forms/<slug:slug>/history/feed/": [
        get("/forms/{published}/history/feed/", every(200)),
        get("/forms/{draft}/history/feed/", every(404)),
    ],
    "forms/<slug:slug>/diff/": [
        get("/forms/{published}/diff/?from=1&to=2", every(200)),
        get("/forms/{published}/diff/?from=2&to={published_draft_number}", DRAFT),
        get("/forms/{draft}/diff/?from=1&to=2", DRAFT),
        get("/forms/{published}/diff/", every(400)),
    ],
    "changes/": [
        get("/changes/", every(200)),
        get("/changes/?form={published}", every(200)),
        get("/changes/?form={draft}", DRAFT),
    ],
    "changes/feed/": [get("/changes/feed/", every(200))],
    "indications/": [get("/indications/", every(200))],
    "indications/<slug:slug>/": [
        get("/indications/{indication}/", every(200)),
        # Topic pages come from published documents: one only a draft names
        # has none yet.
        get("/indications/{draft_only_indication}/", every(404)),
        get("/indications/no-such-use/", every(404)),
    ],
    "side-effects/": [get("/side-effects/", every(200))],
    "side-effects/<slug:slug>/": [
        get("/side-effects/{side_effect}/", every(200)),
        get("/side-effects/no-such-effect/", every(404)),
    ],
    "interactions/": [get("/interactions/", every(200))],
    "citations/": [get("/citations/", every(200))],
    "citations/<int:pk>/": [
        get("/citations/{citation_pk}/", every(200)),
        get("/citations/999999/", every(404)),
    ],
    "citations/export.ris": [
        get("/citations/export.ris", every(200)),
        get("/citations/export.ris?form={published}", every(200)),
        get("/citations/export.ris?form={draft}", every(404)),
    ],
    "citations/export.bib": [
        get("/citations/export.bib", every(200)),
        get("/citations/export.bib?form={draft}", every(404)),
    ],
    "citations/export.json": [
        get("/citations/export.json", every(200)),
        get("/citations/export.json?form={draft}", every(404)),
    ],
    "search/": [get("/search/?q=magnesium", every(200))],
    "api/v1/forms/": [get("/api/v1/forms/", every(200))],
    "api/v1/forms/<slug:slug>/": [
        get("/api/v1/forms/{published}/", every(200)),
        get("/api/v1/forms/{draft}/", every(404)),
    ],
    "api/": [get("/api/", every(200))],
    "api/v1/": [get("/api/v1/", every(200))],
    "api/v1/openapi.json": [get("/api/v1/openapi.json", every(200))],
    # Any other address under /api/ is a JSON 404; writes a JSON 405.
    "^api/(?P<rest>.*)$": [
        get("/api/v1/nothing/", every(404)),
        Case("/api/v1/nothing/", every(405), method="post"),
    ],
    "sitemap.xml": [get("/sitemap.xml", every(200))],
    "sitemap-<slug:section>.xml": [
        get("/sitemap-forms.xml", every(200)),
        get("/sitemap-nothing.xml", every(404)),
    ],
    "robots.txt": [get("/robots.txt", every(200))],
    "healthz": [get("/healthz", every(200))],
    "favicon.ico": [get("/favicon.ico", every(Redirect("/static/", 301)))],
    # --- the Markdown editor's endpoints: POST, staff only -------------------
    "markdownx/markdownify/": [
        Case("/markdownx/markdownify/", every(405)),
        Case(
            "/markdownx/markdownify/",
            staff(200, anonymous=403),
            method="post",
            data={"content": "**bold**"},
        ),
    ],
    "markdownx/upload/": [
        Case("/markdownx/upload/", every(405)),
        # No file: staff are told to choose one; anyone else is refused.
        Case("/markdownx/upload/", staff(400, anonymous=403), method="post"),
    ],
    # --- the admin site --------------------------------------------------------
    "admin/": [get("/admin/", staff(200))],
    "admin/login/": [get("/admin/login/", staff(Redirect("/admin/"), anonymous=200))],
    # Logging out is a POST; readers, who have no session, go to the index.
    "admin/logout/": [
        Case("/admin/logout/", staff(405, anonymous=Redirect("/admin/"))),
        Case(
            "/admin/logout/",
            staff(200, anonymous=Redirect("/admin/")),
            method="post",
            fresh_client=True,
        ),
    ],
    "admin/password_change/": [get("/admin/password_change/", staff(200))],
    "admin/password_change/done/": [get("/admin/password_change/done/", staff(200))],
    "admin/autocomplete/": [
        get(
            "/admin/autocomplete/?app_label=monographs&model_name=evidence"
            "&field_name=citations&term=matrix",
            staff(200),
        ),
    ],
    "admin/jsi18n/": [get("/admin/jsi18n/", staff(200))],
    "admin/r/<path:content_type_id>/<path:object_id>/": [
        get(
            "/admin/r/{form_content_type}/{published_pk}/",
            staff(Redirect("http://testserver/forms/{published}/")),
        ),
    ],
    "admin/(?P<app_label>auth|axes|monographs)/$": [
        get("/admin/monographs/", staff(200)),
        # An app with nothing the user may see does not exist for them.
        get("/admin/auth/", expect(LOGIN, 404, 404, 200)),
        get("/admin/axes/", expect(LOGIN, 404, 404, 200)),
    ],
    "admin/(?P<url>.*)$": [
        get("/admin/no-such-page/", staff(404)),
        get(
            "/admin/monographs/citation",
            staff(Redirect("/admin/monographs/citation/", 301)),
        ),
    ],
    # The reference import: staff who may add and change citations; an
    # empty post is a 400 that says what is missing.
    "admin/monographs/citation/import/": [
        get("/admin/monographs/citation/import/", staff(200)),
        Case("/admin/monographs/citation/import/", staff(400), method="post"),
    ],
    "admin/auth/user/<id>/password/": [
        get("/admin/auth/user/{auth_user_pk}/password/", expect(LOGIN, 403, 403, 200)),
    ],
    # --- the monograph admin's workflow and history views ---------------------
    "admin/monographs/magnesiumform/review-queue/": [
        get("/admin/monographs/magnesiumform/review-queue/", staff(200)),
    ],
    "admin/monographs/magnesiumform/deleted/": [
        get("/admin/monographs/magnesiumform/deleted/", staff(200)),
    ],
    # Recovering a monograph that is not deleted: refused with a message.
    # Recovering undoes a deletion: only those who may delete (reviewers).
    "admin/monographs/magnesiumform/deleted/<int:form_id>/recover/": post_only(
        "/admin/monographs/magnesiumform/deleted/{published_pk}/recover/",
        expect(
            LOGIN,
            403,
            Redirect("/admin/monographs/magnesiumform/deleted/"),
            Redirect("/admin/monographs/magnesiumform/deleted/"),
        ),
    ),
    "admin/monographs/magnesiumform/<path:object_id>/revisions/": [
        get("/admin/monographs/magnesiumform/{published_pk}/revisions/", staff(200)),
        get("/admin/monographs/magnesiumform/{draft_pk}/revisions/", staff(200)),
    ],
    # Reverting to the current revision: refused with a message. Reverting to
    # an older one asks first (a GET is its confirmation page).
    "admin/monographs/magnesiumform/<path:object_id>/revisions/<int:number>/revert/": [
        Case(
            "/admin/monographs/magnesiumform/{published_pk}/revisions/"
            "{published_draft_number}/revert/",
            staff(
                Redirect("/admin/monographs/magnesiumform/{published_pk}/revisions/")
            ),
            method=method,
        )
        for method in ("get", "post")
    ]
    + [
        get(
            "/admin/monographs/magnesiumform/{published_pk}/revisions/1/revert/",
            staff(200),
        )
    ],
    # Undoing the revision that created the monograph: refused with a message.
    "admin/monographs/magnesiumform/<path:object_id>/revisions/<int:number>/undo/": [
        Case(
            "/admin/monographs/magnesiumform/{published_pk}/revisions/1/undo/",
            staff(
                Redirect("/admin/monographs/magnesiumform/{published_pk}/revisions/")
            ),
            method=method,
        )
        for method in ("get", "post")
    ],
    # Recovering a row that is not deleted: refused with a message.
    # Submitting what already awaits review: refused with a message.
    "admin/monographs/magnesiumform/<path:object_id>/submit/": post_only(
        "/admin/monographs/magnesiumform/{published_pk}/submit/",
        staff(Redirect("/admin/monographs/magnesiumform/{published_pk}/change/")),
    ),
    "admin/monographs/magnesiumform/<path:object_id>/review/": [
        get("/admin/monographs/magnesiumform/{published_pk}/review/", staff(200)),
        # Only reviewers decide. The reviewer's approval publishes the
        # revision; the superuser's, after it, is refused as already done
        # (the review page again, with the comment as typed).
        Case(
            "/admin/monographs/magnesiumform/{review_pk}/review/",
            expect(
                LOGIN,
                403,
                Redirect("/admin/monographs/magnesiumform/review-queue/"),
                409,
            ),
            method="post",
            data={"decision": "approve", "revision": "1", "comment": "Fine."},
        ),
        # A post without its revision: the page again, with a 400.
        Case(
            "/admin/monographs/magnesiumform/{published_pk}/review/",
            expect(LOGIN, 403, 400, 400),
            method="post",
            data={"decision": "request-changes", "revision": "", "comment": "No."},
        ),
    ],
}

# The pages every ModelAdmin has, for (editor, reviewer, superuser); readers
# are always sent to log in. None: the admin has no such page.
ALL = (200, 200, 200)
REVIEWERS = (403, 200, 200)
SUPERUSERS = (403, 403, 200)
NOBODY = (403, 403, 403)
# changelist, add, change (GET), history, delete (GET), a historical version
MODEL_ADMINS = {
    # Shared content: editors write it; only reviewers delete it.
    "monographs/citation": (ALL, ALL, ALL, ALL, REVIEWERS, ALL),
    "monographs/indication": (ALL, ALL, ALL, ALL, REVIEWERS, ALL),
    "monographs/sideeffect": (ALL, ALL, ALL, ALL, REVIEWERS, ALL),
    "monographs/magnesiumform": (ALL, ALL, ALL, ALL, REVIEWERS, ALL),
    # Rows of a monograph: editors remove them too (from the inline).
    "monographs/synonym": (ALL, ALL, ALL, ALL, ALL, ALL),
    "monographs/evidence": (ALL, ALL, ALL, ALL, ALL, ALL),
    "monographs/formsideeffect": (ALL, ALL, ALL, ALL, ALL, ALL),
    "monographs/dose": (ALL, ALL, ALL, ALL, ALL, ALL),
    "monographs/interaction": (ALL, ALL, ALL, ALL, ALL, ALL),
    "monographs/precaution": (ALL, ALL, ALL, ALL, ALL, ALL),
    "monographs/faq": (ALL, ALL, ALL, ALL, ALL, ALL),
    "monographs/study": (ALL, ALL, ALL, ALL, ALL, ALL),
    # Records of what happened: read-only for all staff, superusers included.
    "monographs/revision": (ALL, NOBODY, ALL, ALL, NOBODY, None),
    "monographs/reviewevent": (ALL, NOBODY, ALL, ALL, NOBODY, None),
    # Accounts and login throttling: superusers only.
    "auth/user": (SUPERUSERS, SUPERUSERS, SUPERUSERS, SUPERUSERS, SUPERUSERS, None),
    "auth/group": (SUPERUSERS, SUPERUSERS, SUPERUSERS, SUPERUSERS, SUPERUSERS, None),
    "axes/accessattempt": (
        SUPERUSERS,
        NOBODY,
        SUPERUSERS,
        SUPERUSERS,
        SUPERUSERS,
        None,
    ),
    "axes/accesslog": (SUPERUSERS, NOBODY, SUPERUSERS, SUPERUSERS, SUPERUSERS, None),
    "axes/accessfailurelog": (
        SUPERUSERS,
        NOBODY,
        SUPERUSERS,
        SUPERUSERS,
        SUPERUSERS,
        None,
    ),
}


def model_admin_entries():
    entries = {}
    for model, pages in MODEL_ADMINS.items():
        changelist, add, change, history, delete, version = pages
        key = model.replace("/", "_")
        base = f"admin/{model}/"
        url = f"/admin/{model}/"
        obj = f"{url}{{{key}_pk}}/"

        def by_role(outcomes):
            return expect(LOGIN, *outcomes)

        entries[base] = [get(url, by_role(changelist))]
        entries[f"{base}add/"] = [get(f"{url}add/", by_role(add))]
        entries[f"{base}<path:object_id>/change/"] = [
            get(f"{obj}change/", by_role(change))
        ]
        entries[f"{base}<path:object_id>/history/"] = [
            get(f"{obj}history/", by_role(history))
        ]
        entries[f"{base}<path:object_id>/delete/"] = [
            get(f"{obj}delete/", by_role(delete))
        ]
        # The bare object address redirects to its change page, whoever asks.
        entries[f"{base}<path:object_id>/"] = [
            get(obj, staff(Redirect(f"{obj}change/")))
        ]
        if version is not None:
            entries[f"{base}([^/]+)/history/([^/]+)/$"] = [
                get(f"{obj}history/{{{key}_version}}/", by_role(version))
            ]
    return entries


MATRIX.update(model_admin_entries())
# Admin actions: bulk deletion would skip the reason every deletion needs, so
# the monograph admin offers no action; posting one anyway just shows the list
# again, and deletes nothing (checked after the requests).
MATRIX["admin/monographs/magnesiumform/"].append(
    Case(
        "/admin/monographs/magnesiumform/",
        staff(200),
        method="post",
        data={
            "action": "delete_selected",
            "_selected_action": "{published_pk}",
            "index": "0",
        },
    )
)


def url_routes(patterns=None, prefix=""):
    """Every URL pattern, as the route string Django resolves it by.

    Like ResolverMatch.route: nested patterns are joined without the "^" a
    regular expression starts with.
    """
    if patterns is None:
        patterns = get_resolver().url_patterns
    routes = []
    for pattern in patterns:
        part = str(pattern.pattern)
        route = prefix + (part.removeprefix("^") if prefix else part)
        if isinstance(pattern, URLResolver):
            routes += url_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def outcome_of(response):
    if response.status_code in (301, 302):
        return response.status_code, response["Location"]
    return response.status_code, None


def matches(expected, status, location):
    if isinstance(expected, Redirect):
        return status == expected.status and (location or "").startswith(expected.to)
    return status == expected


SIGNED_IN_ON_HEAD = {"editor", "reviewer", "superuser"}


class PermissionMatrixTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.users = {
            EDITOR: factories.EditorFactory(),
            REVIEWER: factories.ReviewerFactory(),
            SUPERUSER: factories.SuperuserFactory(),
        }
        editor, reviewer = cls.users[EDITOR], cls.users[REVIEWER]
        citation = factories.CitationFactory(key="matrix2020")
        indication = factories.IndicationFactory(
            name="Matrix outcome", slug="matrix-outcome"
        )
        side_effect = factories.SideEffectFactory(
            name="Matrix symptom", slug="matrix-symptom"
        )
        draft_only = factories.IndicationFactory(
            name="Draft-only outcome", slug="draft-only-outcome"
        )

        def approve(form):
            return monograph_approve(
                form=form,
                user=reviewer,
                revision_number=Revision.objects.latest_number(form.pk),
            )

        # Published twice, with a third revision awaiting review.
        with change_context(reason="Wrote it", user=editor):
            published = factories.MagnesiumFormFactory(
                name="Magnesium matrix", slug="matrix-published"
            )
            factories.SynonymFactory(
                form=published, name="Magnesium matrixate", slug="matrix-synonym"
            )
            use = factories.EvidenceFactory(form=published, indication=indication)
            use.citations.add(citation)
            factories.StudyFactory(evidence=use).citations.add(citation)
            factories.FormSideEffectFactory(form=published, side_effect=side_effect)
            factories.DoseFactory(form=published)
            factories.InteractionFactory(form=published)
            factories.PrecautionFactory(form=published)
            faq = factories.FAQFactory(form=published)
        approve(published)
        for summary in ["Second version.", "Draft version."]:
            with change_context(reason="Edited", user=editor):
                published.summary = summary
                published.save()
            if summary == "Second version.":
                approve(published)
        monograph_submit(form=published, user=editor)

        with change_context(reason="Wrote it", user=editor):
            other = factories.MagnesiumFormFactory(
                name="Magnesium other", slug="matrix-other"
            )
        approve(other)

        # Never published: two revisions, and a topic only it uses.
        with change_context(reason="Wrote it", user=editor):
            draft = factories.MagnesiumFormFactory(
                name="Magnesium draft", slug="matrix-draft"
            )
            factories.EvidenceFactory(form=draft, indication=draft_only)
        with change_context(reason="Edited", user=editor):
            draft.summary = "Still a draft."
            draft.save()

        # Awaiting its first approval, which the reviewer's POST gives.
        with change_context(reason="Wrote it", user=editor):
            review = factories.MagnesiumFormFactory(
                name="Magnesium review", slug="matrix-review"
            )

        objects = {
            "monographs_citation": citation,
            "monographs_indication": indication,
            "monographs_sideeffect": side_effect,
            "monographs_magnesiumform": published,
            "monographs_synonym": Synonym.objects.get(form=published),
            "monographs_evidence": Evidence.objects.get(form=published),
            "monographs_formsideeffect": FormSideEffect.objects.get(form=published),
            "monographs_dose": Dose.objects.get(form=published),
            "monographs_interaction": Interaction.objects.get(form=published),
            "monographs_precaution": Precaution.objects.get(form=published),
            "monographs_faq": faq,
            "monographs_study": Study.objects.get(form=published),
            "monographs_revision": Revision.objects.filter(form=published).first(),
            "monographs_reviewevent": ReviewEvent.objects.filter(
                form=published
            ).first(),
            "auth_user": editor,
            "auth_group": Group.objects.first(),
        }
        if apps.is_installed("axes"):
            fields = {
                "user_agent": "matrix",
                "ip_address": "127.0.0.1",
                "username": "matrix",
                "http_accept": "*/*",
                "path_info": "/admin/login/",
            }
            objects["axes_accessattempt"] = apps.get_model(
                "axes", "AccessAttempt"
            ).objects.create(
                **fields, get_data="", post_data="", failures_since_start=1
            )
            objects["axes_accesslog"] = apps.get_model(
                "axes", "AccessLog"
            ).objects.create(**fields)
            objects["axes_accessfailurelog"] = apps.get_model(
                "axes", "AccessFailureLog"
            ).objects.create(**fields)

        samples = {
            "published": published.slug,
            "published_pk": published.pk,
            "published_draft_number": Revision.objects.latest_number(published.pk),
            "synonym": "matrix-synonym",
            "other": other.slug,
            "draft": draft.slug,
            "draft_pk": draft.pk,
            "review_pk": review.pk,
            "indication": indication.slug,
            "draft_only_indication": draft_only.slug,
            "side_effect": side_effect.slug,
            "citation_pk": citation.pk,
            "faq_pk": faq.pk,
            "form_content_type": ContentType.objects.get_for_model(MagnesiumForm).pk,
        }
        for key, obj in objects.items():
            samples[f"{key}_pk"] = obj.pk
            history = getattr(type(obj), "history", None)
            if history is not None and hasattr(history, "filter"):
                record = history.filter(id=obj.pk).order_by("history_id").first()
                samples[f"{key}_version"] = record.history_id
        cls.samples = samples
        assert MagnesiumForm.objects.get(pk=published.pk).status == "in-review"
        assert not Citation.objects.exclude(pk=citation.pk).exists()
        assert Indication.objects.count() == 2
        assert SideEffect.objects.count() == 1
        assert FAQ.objects.count() == 1

    def client_for(self, role):
        client = Client(raise_request_exception=False)
        if role != ANONYMOUS:
            client.force_login(self.users[role])
        return client

    def test_every_url_pattern_has_an_entry(self):
        missing = [route for route in url_routes() if route not in MATRIX]
        self.assertEqual(
            missing,
            [],
            "URL patterns with no entry in the permission matrix: decide who may "
            "open them and add them to MATRIX in tests/security/test_permission_matrix.py",
        )

    def test_every_entry_is_for_a_pattern_that_exists(self):
        routes = set(url_routes())
        stale = [route for route in MATRIX if route not in routes]
        self.assertEqual(stale, [], "entries for URL patterns that no longer exist")

    def test_each_request_reaches_its_pattern(self):
        wrong = []
        for route, cases in MATRIX.items():
            self.assertTrue(cases, f"{route}: an entry with no request")
            for case in cases:
                path = case.url.format(**self.samples).split("?")[0]
                found = resolve(path).route
                if found != route:
                    wrong.append(f"{path} resolves to {found!r}, not {route!r}")
        self.assertEqual(wrong, [])

    def test_every_role_gets_the_expected_status(self):
        clients = {role: self.client_for(role) for role in ROLES}
        failures = []
        checked = 0
        for route in url_routes():
            for case in MATRIX.get(route, []):
                url = case.url.format(**self.samples)
                for role in ROLES:
                    client = (
                        self.client_for(role) if case.fresh_client else clients[role]
                    )
                    data = {
                        name: value.format(**self.samples)
                        for name, value in case.data.items()
                    }
                    response = getattr(client, case.method)(url, data)
                    status, location = outcome_of(response)
                    expected = case.expected[role]
                    if isinstance(expected, Redirect):
                        expected = Redirect(
                            expected.to.format(**self.samples), expected.status
                        )
                    checked += 1
                    if not matches(expected, status, location):
                        got = f"{status} to {location}" if location else str(status)
                        failures.append(
                            f"{route}\n    {case.method.upper()} {url} as {role}: "
                            f"expected {expected}, got {got}"
                        )
        self.assertGreater(checked, 400)
        # The reviewer's approval published; refused actions changed nothing.
        review = MagnesiumForm.objects.get(pk=self.samples["review_pk"])
        self.assertIsNotNone(review.published_revision)
        self.assertTrue(
            MagnesiumForm.objects.filter(pk=self.samples["published_pk"]).exists()
        )
        if failures:
            self.fail(
                f"{len(failures)} of {checked} requests got an unexpected status:\n"
                + "\n".join(failures)
            )

    def test_head_answers_like_get(self):
        """HEAD is answered wherever GET is, with GET's status and no body."""
        clients = {role: self.client_for(role) for role in ROLES}
        failures = []
        checked = 0
        for route in url_routes():
            for case in MATRIX.get(route, []):
                if case.method != "get" or case.fresh_client:
                    continue
                url = case.url.format(**self.samples)
                for role in ROLES:
                    if route == "admin/login/" and role in SIGNED_IN_ON_HEAD:
                        # Django's AdminSite.login sends a signed-in user on
                        # only for GET; a HEAD gets the form's 200. Harmless.
                        continue
                    get = outcome_of(clients[role].get(url))
                    head_response = clients[role].head(url)
                    head = outcome_of(head_response)
                    checked += 1
                    if head != get or head_response.content:
                        failures.append(
                            f"{route}\n    HEAD {url} as {role}: got {head}, "
                            f"GET got {get}"
                        )
        self.assertGreater(checked, 300)
        self.assertEqual(failures, [])

    def test_staff_without_a_role_sees_what_a_reader_sees(self):
        """A staff account in no group (made by hand, or whose groups were
        removed) opens no draft, history or review: on the public site it
        gets what an anonymous reader gets, and in the admin nothing but its
        own account's pages."""
        roleless = Client(raise_request_exception=False)
        roleless.force_login(factories.StaffFactory())
        reader = self.client_for(ANONYMOUS)
        # What any signed-in staff account has in Django's admin.
        own_pages = {
            "admin/": 200,
            "admin/password_change/": 200,
            "admin/password_change/done/": 200,
            "admin/jsi18n/": 200,
        }
        failures = []
        for route in url_routes():
            for case in MATRIX.get(route, []):
                if case.method != "get" or case.fresh_client:
                    continue
                url = case.url.format(**self.samples)
                status, _ = outcome_of(roleless.get(url))
                if route in own_pages:
                    allowed = {own_pages[route]}
                elif route.startswith("admin/"):
                    # Refused, or sent elsewhere (the login page sends a
                    # signed-in account to the index); never shown.
                    allowed = {301, 302, 403, 404, 405}
                else:
                    allowed = {outcome_of(reader.get(url))[0]}
                if status not in allowed:
                    failures.append(f"{route}\n    GET {url}: {status}, not {allowed}")
        self.assertEqual(failures, [], "\n".join(failures))
