"""Who may see what: readers never reach an unapproved revision, a draft, or staff-only fields.

Every page that can show monograph content is fetched as an anonymous reader,
a logged-in reader without staff rights and an editor. Unapproved text is
made of marker words (SECRET…) so that any leak shows up in a plain search of
the response.
"""

from unittest import skipUnless

from django.test import TestCase

from monographs.history import change_context
from monographs.models import MagnesiumForm
from tests import factories
from tests.history.helpers import approve, create_monograph, edit, fresh

GLYCINATE = "magnesium-glycinate"
CITRATE = "magnesium-citrate"
MALATE = "magnesium-malate"
OROTATE = "magnesium-orotate"

SECRETS = [
    "SECRETSUMMARY",
    "SECRETFAQ",
    "SECRETDOSE",
    "SECRETINTERACTION",
    "SECRETEVIDENCE",
    "SECRETSUMMARYEDIT",
    "secretonym",
]


def has_field(model, name):
    return any(field.name == name for field in model._meta.get_fields())


class PermissionFixture:
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory(
            first_name="Rita", last_name="Reviewer"
        )
        cls.reader = factories.UserFactory()
        cls.staff_without_rights = factories.StaffFactory()
        cls.citation = factories.CitationFactory(
            key="sleep2019",
            title="Published sleep trial",
            note="EDITORNOTE checked against the PDF",
        )
        # Glycinate: revision 1 published; revision 2 rewrites text and rows.
        with change_context(reason="Wrote glycinate", user=cls.editor):
            cls.glycinate = factories.MagnesiumFormFactory(
                name="Magnesium glycinate",
                slug=GLYCINATE,
                summary="Published glycinate summary about sleep.",
            )
            factories.SynonymFactory(
                form=cls.glycinate,
                name="Magnesium bisglycinate",
                slug="magnesium-bisglycinate",
            )
            cls.evidence = factories.EvidenceFactory(
                form=cls.glycinate, summary="Published evidence."
            )
            cls.evidence.citations.add(cls.citation)
            cls.dose = factories.DoseFactory(
                form=cls.glycinate, notes="Published dose note."
            )
            cls.interaction = factories.InteractionFactory(
                form=cls.glycinate, management="Published management."
            )
            cls.faq = factories.FAQFactory(
                form=cls.glycinate, question="Published question?"
            )
        approve(cls.glycinate, cls.reviewer)
        with change_context(reason="SECRETSUMMARYEDIT reason", user=cls.editor):
            form = fresh(cls.glycinate)
            form.summary = "SECRETSUMMARY about sleep."
            form.save()
            factories.FAQFactory(form=form, question="SECRETFAQ question?")
            cls.dose.notes = "SECRETDOSE note."
            cls.dose.save()
            cls.interaction.management = "SECRETINTERACTION management."
            cls.interaction.save()
            cls.evidence.summary = "SECRETEVIDENCE summary."
            cls.evidence.save()
            form.synonyms.filter(slug="magnesium-bisglycinate").delete()
            factories.SynonymFactory(
                form=form, name="Magnesium secretonym", slug="magnesium-secretonym"
            )
        # Citrate: published, then renamed in a revision nobody approved.
        cls.citrate = create_monograph(
            cls.editor, name="Magnesium citrate", slug=CITRATE, summary="Citrate."
        )
        approve(cls.citrate, cls.reviewer)
        edit(cls.citrate, cls.editor, "Renamed", name="Magnesium SECRETNAME")
        # Malate: published, then given a new address nobody approved.
        cls.malate = create_monograph(
            cls.editor, name="Magnesium malate", slug=MALATE, summary="Malate."
        )
        approve(cls.malate, cls.reviewer)
        edit(cls.malate, cls.editor, "New address", slug="magnesium-secretslug")
        # Orotate: never published.
        cls.orotate = create_monograph(
            cls.editor,
            name="Magnesium orotate",
            slug=OROTATE,
            summary="SECRETNEVERPUBLISHED orotate text.",
        )

    @classmethod
    def client_for(cls, user):
        client = cls.client_class()
        if user is not None:
            client.force_login(user)
        return client

    @classmethod
    def public_urls(cls):
        """Every public page that shows monograph content, no secret in the address."""
        urls = ["/", "/forms/", "/changes/", "/changes/feed/", "/api/v1/forms/"]
        urls += [
            "/indications/",
            "/side-effects/",
            "/interactions/",
            "/citations/",
            f"/citations/{cls.citation.pk}/",
            "/citations/export.ris",
            "/citations/export.bib",
            "/citations/export.json",
            "/sitemap.xml",
            f"/forms/compare/?forms={GLYCINATE},{CITRATE}",
            f"/indications/{cls.evidence.indication.slug}/",
        ]
        for slug in (GLYCINATE, CITRATE, MALATE, OROTATE):
            urls += [
                f"/forms/{slug}/",
                f"/forms/{slug}/history/",
                f"/forms/{slug}/history/feed/",
                f"/forms/{slug}/revisions/1/",
                f"/forms/{slug}/revisions/2/",
                f"/forms/{slug}/diff/?from=1&to=2",
                f"/forms/{slug}/draft/",
                f"/changes/?form={slug}",
                f"/api/v1/forms/{slug}/",
                f"/citations/export.ris?form={slug}",
            ]
        return urls

    @classmethod
    def responses(cls, user):
        """{url: (status, lowercased body)} of every public page, as ``user`` sees it."""
        client = cls.client_for(user)
        found = {}
        for url in cls.public_urls():
            response = client.get(url)
            found[url] = (response.status_code, response.content.decode().lower())
        return found

    def leaks(self, responses, secrets):
        """[(url, status, secret)] for every secret word a response shows."""
        return [
            (url, status, secret)
            for url, (status, body) in responses.items()
            for secret in secrets
            if secret.lower() in body
        ]


class ReaderCannotSeeUnapprovedTests(PermissionFixture, TestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # Every page, fetched once per kind of reader; the tests search them.
        cls.swept = {
            "anonymous": cls.responses(None),
            "reader": cls.responses(cls.reader),
            "staff without rights": cls.responses(cls.staff_without_rights),
        }

    def assertNoLeaks(self, secrets):
        for label, responses in self.swept.items():
            with self.subTest(user=label):
                self.assertEqual(self.leaks(responses, secrets), [])

    def test_unapproved_text_and_rows_appear_nowhere(self):
        self.assertNoLeaks(SECRETS)

    def test_a_never_published_monograph_appears_nowhere(self):
        self.assertNoLeaks(["SECRETNEVERPUBLISHED", "Magnesium orotate"])

    def test_an_unapproved_new_name_appears_nowhere(self):
        self.assertNoLeaks(["SECRETNAME"])

    def test_an_unapproved_new_address_appears_nowhere(self):
        self.assertNoLeaks(["secretslug"])

    def test_staff_only_citation_notes_appear_nowhere(self):
        self.assertNoLeaks(["EDITORNOTE"])

    @skipUnless(
        has_field(MagnesiumForm, "other_sections"), "no staff-only other_sections"
    )
    def test_staff_only_other_sections_appear_nowhere(self):
        edit(
            self.citrate,
            self.editor,
            "Imported",
            name="Magnesium citrate",
            other_sections="SECRETLEFTOVER from an import",
        )
        approve(self.citrate, self.reviewer)
        responses = self.responses(None)
        for url in [
            f"/forms/{CITRATE}/diff/?from=1&to=3",
            f"/forms/{CITRATE}/revisions/3/",
        ]:
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            responses[url] = (200, response.content.decode().lower())
        self.assertEqual(self.leaks(responses, ["SECRETLEFTOVER"]), [])


class ReaderStatusTests(PermissionFixture, TestCase):
    """What each address answers a reader; the same for an account without staff rights."""

    def expected(self):
        return {
            f"/forms/{GLYCINATE}/": 200,
            f"/forms/{GLYCINATE}/history/": 200,
            f"/forms/{GLYCINATE}/history/feed/": 200,
            f"/forms/{GLYCINATE}/revisions/1/": 200,
            f"/forms/{GLYCINATE}/revisions/2/": 404,
            f"/forms/{GLYCINATE}/diff/?from=1&to=2": 404,
            f"/forms/{GLYCINATE}/draft/": 404,
            f"/api/v1/forms/{GLYCINATE}/": 200,
            f"/forms/{OROTATE}/": 404,
            f"/forms/{OROTATE}/history/": 404,
            f"/forms/{OROTATE}/history/feed/": 404,
            f"/forms/{OROTATE}/revisions/1/": 404,
            f"/forms/{OROTATE}/diff/?from=1&to=2": 404,
            f"/forms/{OROTATE}/draft/": 404,
            f"/api/v1/forms/{OROTATE}/": 404,
            f"/changes/?form={OROTATE}": 404,
            f"/citations/export.ris?form={OROTATE}": 404,
        }

    def test_anonymous(self):
        self.assertStatuses(None)

    def test_logged_in_reader(self):
        self.assertStatuses(self.reader)

    def test_staff_account_without_editing_rights(self):
        self.assertStatuses(self.staff_without_rights)

    def assertStatuses(self, user):
        client = self.client_for(user)
        got = {url: client.get(url).status_code for url in self.expected()}
        self.assertEqual(got, self.expected())

    def test_published_page_keeps_its_address_while_a_new_one_awaits_review(self):
        self.assertEqual(self.client.get(f"/forms/{MALATE}/").status_code, 200)
        self.assertEqual(self.client.get(f"/api/v1/forms/{MALATE}/").status_code, 200)
        self.assertEqual(
            self.client.get(f"/forms/{MALATE}/revisions/1/").status_code, 200
        )
        self.assertEqual(
            self.client.get("/forms/magnesium-secretslug/").status_code, 404
        )

    def test_a_synonym_added_in_a_draft_does_not_redirect_readers(self):
        response = self.client.get("/forms/magnesium-secretonym/")
        self.assertEqual(response.status_code, 404)

    def test_a_published_synonym_removed_in_a_draft_still_redirects_readers(self):
        page = self.client.get(f"/forms/{GLYCINATE}/")
        self.assertContains(page, "Also called Magnesium bisglycinate")
        response = self.client.get("/forms/magnesium-bisglycinate/")
        self.assertRedirects(
            response,
            f"/forms/{GLYCINATE}/",
            status_code=301,
            fetch_redirect_response=False,
        )

    def test_search_finds_only_published_text(self):
        for query in [
            "SECRETSUMMARY",
            "SECRETFAQ",
            "SECRETDOSE",
            "SECRETNAME",
            "orotate",
        ]:
            with self.subTest(query=query):
                response = self.client.get("/search/", {"q": query})
                self.assertContains(response, "Nothing matches")
        response = self.client.get("/search/", {"q": "glycinate"})
        self.assertContains(response, f'href="/forms/{GLYCINATE}/"')
        self.assertNotContains(response, "SECRET")

    def test_search_links_to_the_published_address(self):
        response = self.client.get("/search/", {"q": "malate"})
        self.assertContains(response, f'href="/forms/{MALATE}/"')
        self.assertNotContains(response, "secretslug")

    def test_api_gives_the_published_revision(self):
        data = self.client.get(f"/api/v1/forms/{GLYCINATE}/").json()
        self.assertEqual(data["revision"], 1)
        self.assertEqual(data["synonyms"], ["Magnesium bisglycinate"])
        self.assertEqual(
            [faq["question"] for faq in data["faqs"]], ["Published question?"]
        )
        self.assertNotIn("note", data["references"][0])


class EditorTests(PermissionFixture, TestCase):
    def setUp(self):
        self.client.force_login(self.editor)

    def test_editor_sees_the_draft_revision_diff_and_history(self):
        for url, secret in [
            (f"/forms/{GLYCINATE}/draft/", "SECRETSUMMARY about sleep."),
            (f"/forms/{GLYCINATE}/revisions/2/", "SECRETFAQ question?"),
            (f"/forms/{GLYCINATE}/diff/?from=1&to=2", "SECRETINTERACTION"),
            (f"/forms/{GLYCINATE}/history/", "SECRETSUMMARYEDIT reason"),
            (f"/forms/{OROTATE}/draft/", "SECRETNEVERPUBLISHED"),
            (f"/forms/{OROTATE}/revisions/1/", "SECRETNEVERPUBLISHED"),
            (f"/forms/{OROTATE}/history/", "Magnesium orotate"),
            (f"/changes/?form={OROTATE}", "Magnesium orotate"),
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertContains(response, secret)

    def test_editor_reading_the_public_page_sees_the_published_text(self):
        response = self.client.get(f"/forms/{GLYCINATE}/")
        self.assertContains(response, "Published glycinate summary about sleep.")
        self.assertNotContains(response, "SECRETSUMMARY")
        self.assertContains(response, "This monograph has changes awaiting review")
        self.assertContains(response, f'href="/forms/{GLYCINATE}/draft/"')

    def test_editor_gets_the_public_feeds_search_and_api(self):
        for url in [
            "/changes/feed/",
            f"/forms/{GLYCINATE}/history/feed/",
            f"/api/v1/forms/{GLYCINATE}/",
            "/api/v1/forms/",
            "/search/?q=glycinate",
        ]:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                for secret in SECRETS:
                    self.assertNotIn(secret, response.content.decode())
        response = self.client.get("/search/", {"q": "SECRETSUMMARY"})
        self.assertContains(response, "Nothing matches")

    def test_editor_still_gets_404_for_what_does_not_exist(self):
        for url in [
            f"/forms/{GLYCINATE}/revisions/3/",
            f"/forms/{GLYCINATE}/diff/?from=1&to=3",
            f"/forms/{OROTATE}/history/feed/",
            f"/api/v1/forms/{OROTATE}/",
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)

    def test_draft_synonym_redirects_editors(self):
        response = self.client.get("/forms/magnesium-secretonym/draft/")
        self.assertRedirects(
            response,
            f"/forms/{GLYCINATE}/draft/",
            status_code=301,
            fetch_redirect_response=False,
        )
