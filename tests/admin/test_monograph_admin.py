"""
The monograph admin as editors use it: every model's changelist, the
MagnesiumForm page with its inlines, Markdown editor and autocompletes,
conflict detection and validation messages.

Every test GETs an admin page with a logged-in client and posts the form back
the way a browser would (tests.browser_forms.form_data).
"""

import re
import threading
import time
from types import SimpleNamespace
from unittest import mock, skipUnless

from django.contrib import admin
from django.db import connection
from django.test import Client, TestCase, TransactionTestCase
from django.utils.html import escape
from markdownx.models import MarkdownxField

from monographs.admin.monographs import MagnesiumFormAdmin
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
    Revision,
    SideEffect,
    Synonym,
)
from tests import factories
from tests.browser_forms import form_data

FORM_ID = "magnesiumform_form"
MONOGRAPH_ADMIN = "/admin/monographs/magnesiumform/"
HISTORY_MODELS = [
    MagnesiumForm,
    Synonym,
    Evidence,
    FormSideEffect,
    Dose,
    Interaction,
    Precaution,
    FAQ,
    Citation,
    Indication,
    SideEffect,
]
CITING_MODELS = [Evidence, FormSideEffect, Dose, Interaction, Precaution]


# Helpers shared by the admin tests.


def change_url(form):
    return f"{MONOGRAPH_ADMIN}{form.pk}/change/"


def open_change_form(client, form):
    """GET the monograph's change page; return the form as the browser would post it."""
    response = client.get(change_url(form))
    assert response.status_code == 200, response.status_code
    return form_data(response, FORM_ID)


def add_inline_row(data, prefix, **values):
    """Do what "Add another …" does in the browser: a new blank row, then type values."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    template = f"{prefix}-__prefix__-"
    for name, value in list(data.items()):
        if name.startswith(template):
            data[f"{prefix}-{index}-{name.removeprefix(template)}"] = value
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    return index


def find_form(response, marker):
    """(action, data) of the <form> on the page whose HTML contains ``marker``."""
    html = response.content.decode()
    position = html.index(marker)
    start = html.rindex("<form", 0, position)
    end = html.index("</form>", position) + len("</form>")
    snippet = html[start:end]
    action = re.match(r'<form[^>]*?action="([^"]*)"', snippet)
    return (
        action.group(1) if action else response.request["PATH_INFO"],
        form_data(SimpleNamespace(content=snippet.encode())),
    )


def result_table(response):
    """The HTML of a changelist's result table (empty if nothing was found)."""
    html = response.content.decode()
    if 'id="result_list"' not in html:
        return ""
    start = html.index('id="result_list"')
    return html[start : html.index("</table>", start)]


def recorded_counts():
    """How much history there is: historical rows of every model, revisions, m2m links."""
    counts = {model.__name__: model.history.count() for model in HISTORY_MODELS}
    for model in CITING_MODELS:
        links = model.history.model.citations.model.objects.count()
        counts[f"{model.__name__} citations"] = links
    counts["Revision"] = Revision.objects.count()
    return counts


def textarea(html, name):
    """The opening <textarea> tag of the field ``name``."""
    match = re.search(rf'<textarea name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no textarea {name}"
    return match.group(0)


def markdown_fields(model):
    return [
        field.name
        for field in model._meta.get_fields()
        if isinstance(field, MarkdownxField)
    ]


class AllModelAdminTests(TestCase):
    """Every registered model has a working changelist with search and filters."""

    @classmethod
    def setUpTestData(cls):
        cls.superuser = factories.SuperuserFactory()
        cls.schuette = factories.CitationFactory(
            key="schuette1994",
            title="Retention studies of magnesium from glycinate",
            publication_type=Citation.PublicationType.RANDOMIZED_TRIAL,
        )
        cls.rawji = factories.CitationFactory(
            key="rawji2024",
            title="Magnesium supplementation and sleep",
            publication_type=Citation.PublicationType.SYSTEMATIC_REVIEW,
        )
        sleep = factories.IndicationFactory(name="Sleep quality", slug="sleep")
        constipation = factories.IndicationFactory(
            name="Constipation", slug="constipation"
        )
        diarrhoea = factories.SideEffectFactory(name="Diarrhoea", slug="diarrhoea")
        nausea = factories.SideEffectFactory(name="Nausea", slug="nausea")

        cls.glycinate = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            category=MagnesiumForm.Category.AMINO_ACID_CHELATE,
        )
        factories.SynonymFactory(
            form=cls.glycinate,
            name="Magnesium bisglycinate",
            slug="magnesium-bisglycinate",
        )
        evidence = factories.EvidenceFactory(
            form=cls.glycinate,
            indication=sleep,
            certainty=Evidence.Certainty.HIGH,
            summary="Better sleep [@rawji2024].",
        )
        evidence.citations.add(cls.rawji)
        factories.FormSideEffectFactory(
            form=cls.glycinate,
            side_effect=diarrhoea,
            frequency=FormSideEffect.Frequency.RARE,
        )
        factories.DoseFactory(
            form=cls.glycinate,
            population="Adults with migraine",
            maximum_mg=600,
            exceeds_ul_acknowledged=True,
        )
        factories.InteractionFactory(
            form=cls.glycinate,
            drug_class="Tetracycline antibiotics",
            significance=Interaction.Significance.MAJOR,
        )
        factories.PrecautionFactory(
            form=cls.glycinate,
            label="Kidney disease",
            kind=Precaution.Kind.CONTRAINDICATION,
        )
        factories.FAQFactory(form=cls.glycinate, question="Can I take it with food?")
        factories.publish(cls.glycinate, user=cls.superuser)

        cls.oxide = factories.MagnesiumFormFactory(
            name="Magnesium oxide",
            slug="magnesium-oxide",
            category=MagnesiumForm.Category.INORGANIC,
        )
        factories.SynonymFactory(form=cls.oxide, name="Magnesia", slug="magnesia")
        factories.EvidenceFactory(
            form=cls.oxide,
            indication=constipation,
            certainty=Evidence.Certainty.LOW,
        )
        factories.FormSideEffectFactory(
            form=cls.oxide,
            side_effect=nausea,
            frequency=FormSideEffect.Frequency.COMMON,
        )
        factories.DoseFactory(form=cls.oxide, population="Children")
        factories.InteractionFactory(
            form=cls.oxide,
            drug_class="Bisphosphonates",
            significance=Interaction.Significance.MINOR,
        )
        factories.PrecautionFactory(form=cls.oxide, label="Heart block")
        factories.FAQFactory(form=cls.oxide, question="Is it a laxative?")
        # Never published: a draft.

    def setUp(self):
        self.client.force_login(self.superuser)

    def changelist(self, model_name, **params):
        return self.client.get(f"/admin/monographs/{model_name}/", params)

    def test_every_registered_model_has_a_changelist_with_search(self):
        registered = sorted(
            model._meta.model_name
            for model in admin.site._registry
            if model._meta.app_label == "monographs"
        )
        expected = {
            "citation",
            "dose",
            "evidence",
            "faq",
            "formsideeffect",
            "indication",
            "interaction",
            "magnesiumform",
            "precaution",
            "reviewevent",
            "revision",
            "sideeffect",
            "synonym",
        }
        self.assertLessEqual(expected, set(registered))
        for model_name in registered:
            with self.subTest(model=model_name):
                response = self.changelist(model_name, q="magnesium")
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, 'id="searchbar"')

    def test_auth_changelists_load_with_search(self):
        for model_name in ["user", "group"]:
            with self.subTest(model=model_name):
                response = self.client.get(f"/admin/auth/{model_name}/", {"q": "ed"})
                self.assertEqual(response.status_code, 200)

    def test_search_finds_the_matching_rows_only(self):
        searches = [
            ("magnesiumform", "bisglycinate", "Magnesium glycinate", "Magnesium oxide"),
            ("citation", "schuette", "schuette1994", "rawji2024"),
            ("indication", "sleep", "Sleep quality", "Constipation"),
            ("sideeffect", "diarr", "Diarrhoea", "Nausea"),
            ("synonym", "bisglycinate", "Magnesium bisglycinate", "Magnesia</a>"),
            ("evidence", "sleep", "Sleep quality", "Constipation"),
            ("formsideeffect", "diarr", "Diarrhoea", "Nausea"),
            ("dose", "migraine", "Adults with migraine", "Children"),
            ("interaction", "tetracycline", "Tetracycline", "Bisphosphonates"),
            ("precaution", "kidney", "Kidney disease", "Heart block"),
            ("faq", "food", "Can I take it with food?", "Is it a laxative?"),
            ("revision", "glycinate", "Magnesium glycinate", "Magnesium oxide"),
            ("reviewevent", "glycinate", "Magnesium glycinate", "Magnesium oxide"),
        ]
        for model_name, query, found, not_found in searches:
            with self.subTest(model=model_name, q=query):
                response = self.changelist(model_name, q=query)
                self.assertEqual(response.status_code, 200)
                table = result_table(response)
                self.assertIn(found, table)
                self.assertNotIn(not_found, table)

    def test_list_filters_narrow_the_list(self):
        filters = [
            ("magnesiumform", {"status": "published"}, "Magnesium glycinate", "Magnesium oxide"),
            ("magnesiumform", {"category__exact": "inorganic"}, "Magnesium oxide", "Magnesium glycinate"),
            ("citation", {"publication_type__exact": "systematic-review"}, "rawji2024", "schuette1994"),
            ("citation", {"used": "yes"}, "rawji2024", "schuette1994"),
            ("citation", {"used": "no"}, "schuette1994", "rawji2024"),
            ("evidence", {"certainty__exact": "high"}, "Sleep quality", "Constipation"),
            ("formsideeffect", {"frequency__exact": "rare"}, "Diarrhoea", "Nausea"),
            ("dose", {"exceeds_ul_acknowledged__exact": "1"}, "Adults with migraine", "Children"),
            ("interaction", {"significance__exact": "major"}, "Tetracycline", "Bisphosphonates"),
            ("precaution", {"kind__exact": "contraindication"}, "Kidney disease", "Heart block"),
            ("reviewevent", {"action__exact": "approved"}, "Magnesium glycinate", "Magnesium oxide"),
        ]  # fmt: skip
        for model_name, params, found, not_found in filters:
            with self.subTest(model=model_name, params=params):
                response = self.changelist(model_name, **params)
                # An unknown filter redirects to ?e=1: the filter must exist.
                self.assertEqual(response.status_code, 200)
                table = result_table(response)
                self.assertIn(found, table)
                self.assertNotIn(not_found, table)

    def test_every_changelist_offers_filters(self):
        for model in admin.site._registry:
            if model._meta.app_label != "monographs":
                continue
            with self.subTest(model=model._meta.model_name):
                response = self.changelist(model._meta.model_name)
                self.assertEqual(response.status_code, 200)
                self.assertTrue(
                    'id="changelist-filter"' in response.content.decode(),
                    "the changelist has no Filter sidebar",
                )

    def test_changelist_columns_show_what_editors_look_for(self):
        response = self.changelist("magnesiumform")
        table = result_table(response)
        for column in ["Name", "Category", "Status", "Published revision"]:
            with self.subTest(column=column):
                self.assertIn(column, table)
        self.assertIn("Amino-acid chelate", table)
        self.assertIn("Published", table)
        self.assertIn("Draft", table)


class MonographChangePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        factories.SynonymFactory(form=cls.form)
        factories.EvidenceFactory(form=cls.form)
        factories.FormSideEffectFactory(form=cls.form)
        factories.DoseFactory(form=cls.form)
        factories.InteractionFactory(form=cls.form)
        factories.PrecautionFactory(form=cls.form)
        factories.FAQFactory(form=cls.form)

    def setUp(self):
        self.client.force_login(self.editor)
        self.response = self.client.get(change_url(self.form))
        self.html = self.response.content.decode()

    def test_an_added_row_starts_after_the_last(self):
        factories.FAQFactory(form=self.form, position=4)
        data = open_change_form(self.client, self.form)
        self.assertEqual(data["faqs-__prefix__-position"], "5")
        add_inline_row(
            data, "faqs", question="Added last?", answer="Yes, after the others."
        )
        data["edit_summary"] = "A new FAQ"
        response = self.client.post(change_url(self.form), data)
        self.assertEqual(response.status_code, 302)
        questions = list(self.form.faqs.order_by("position", "pk"))
        self.assertEqual(questions[-1].question, "Added last?")
        self.assertEqual(questions[-1].position, 5)
        # Existing rows keep their own positions.
        self.assertEqual([faq.position for faq in questions[:-1]], [0, 4])

    def test_rows_of_every_kind_are_edited_inline(self):
        self.assertEqual(self.response.status_code, 200)
        data = form_data(self.response, FORM_ID)
        for prefix in [
            "evidence",
            "side_effects",
            "doses",
            "interactions",
            "precautions",
            "faqs",
            "synonyms",
        ]:
            with self.subTest(inline=prefix):
                self.assertIn(f'id="{prefix}-group"', self.html)
                self.assertEqual(data[f"{prefix}-TOTAL_FORMS"], "1")
                self.assertEqual(data[f"{prefix}-INITIAL_FORMS"], "1")
                self.assertIn(f"{prefix}-0-id", data)

    def test_save_posts_the_whole_monograph_while_submit_is_offered(self):
        # A draft with unsubmitted changes shows "Submit for review". Browsers
        # ignore a <form> nested in another and end the outer form at the
        # inner </form>: then Save would post almost nothing.
        self.assertIn("Submit for review", self.html)
        data = form_data(self.response, FORM_ID)
        for name in ["name", "summary", "edit_summary", "base_revision", "faqs-0-id"]:
            with self.subTest(field=name):
                self.assertIn(name, data)
        # The reviewer note belongs to the submit form, not to Save.
        self.assertNotIn("comment", data)
        self.assertIn('value="Save"', self.html.split('id="magnesiumform_form"')[1])

    def test_inline_headings_are_plural_names(self):
        headings = {
            prefix: re.sub(r"\s+", " ", heading).strip()
            for prefix, heading in re.findall(
                r'<h2 id="([a-z_]+)-heading" class="inline-heading">(.*?)</h2>',
                self.html,
                re.DOTALL,
            )
        }
        self.assertEqual(headings["evidence"], "Evidence")
        self.assertEqual(headings["doses"], "Doses")
        self.assertEqual(headings["faqs"], "FAQs")
        self.assertEqual(headings["synonyms"], "Synonyms")
        # Not "Side effect of a forms".
        self.assertNotIn("forms", headings["side_effects"])
        self.assertIn("Side effects", headings["side_effects"])

    def test_every_markdown_field_has_the_markdownx_editor(self):
        inlines = {
            "evidence": Evidence,
            "side_effects": FormSideEffect,
            "doses": Dose,
            "precautions": Precaution,
            "faqs": FAQ,
        }
        fields = markdown_fields(MagnesiumForm)
        fields += [
            f"{prefix}-0-{name}"
            for prefix, model in inlines.items()
            for name in markdown_fields(model)
        ]
        self.assertIn("summary", fields)
        self.assertIn("evidence-0-summary", fields)
        for name in fields:
            with self.subTest(field=name):
                tag = textarea(self.html, name)
                self.assertIn("markdownx-editor", tag)
                self.assertIn('data-markdownx-urls-path="/markdownx/markdownify/"', tag)
                self.assertIn(
                    'data-markdownx-upload-urls-path="/markdownx/upload/"', tag
                )
                # Dropping an image needs a mouse: a labelled file button too.
                self.assertIn(
                    f'<label for="id_{name}_image">Insert an image', self.html
                )
                self.assertRegex(
                    self.html,
                    rf'<input type="file" id="id_{name}_image" '
                    r'class="markdownx-image-input" accept="image/[^"]+">',
                )
        # The live preview needs mgref's editor script (not markdownx's, which
        # previewed every field on load) and a preview pane per field.
        self.assertIn("js/markdown-editor.js", self.html)
        self.assertNotIn("markdownx/js/markdownx", self.html)
        self.assertGreaterEqual(
            self.html.count('class="markdownx-preview"'), len(fields)
        )

    def test_every_prose_field_takes_markdown(self):
        # No free text reaches readers unrendered: every text field of a
        # monograph and its rows is Markdown, with its editor.
        from django.db import models as db_models

        from monographs.schema import ROW_KINDS

        for model in [MagnesiumForm, *(kind.model for kind in ROW_KINDS)]:
            for model_field in model._meta.concrete_fields:
                if type(model_field) is db_models.TextField:
                    self.fail(f"{model.__name__}.{model_field.name} is plain text")
        self.assertIn(
            "markdownx-editor", textarea(self.html, "interactions-0-mechanism")
        )
        self.assertIn(
            "markdownx-editor", textarea(self.html, "interactions-0-management")
        )

    def test_citations_and_indications_use_autocomplete(self):
        for name, field in [
            ("evidence-0-citations", "citations"),
            ("evidence-0-indication", "indication"),
            ("side_effects-0-citations", "citations"),
            ("side_effects-0-side_effect", "side_effect"),
            ("doses-0-citations", "citations"),
            ("interactions-0-citations", "citations"),
            ("precautions-0-citations", "citations"),
        ]:
            with self.subTest(field=name):
                match = re.search(rf'<select name="{name}"[^>]*>', self.html)
                self.assertIsNotNone(match)
                self.assertIn('class="admin-autocomplete"', match.group(0))
                self.assertIn('data-ajax--url="/admin/autocomplete/"', match.group(0))
                self.assertIn(f'data-field-name="{field}"', match.group(0))
        self.assertIn("admin/js/autocomplete.js", self.html)

    def test_slug_is_prepopulated_from_the_name(self):
        response = self.client.get(f"{MONOGRAPH_ADMIN}add/")
        html = response.content.decode()
        self.assertIn("admin/js/prepopulate_init.js", html)
        self.assertIn("admin/js/urlify.js", html)
        config = re.search(r'data-prepopulated-fields="([^"]*)"', html).group(1)
        self.assertIn(escape('"id": "#id_slug"'), config)
        self.assertIn(escape('"dependency_ids": ["#id_name"]'), config)
        # New synonyms typed into the inline get their slug too.
        self.assertIn(escape('"#id_synonyms-__prefix__-slug"'), config)

    def test_the_page_links_to_revisions_and_the_draft_preview(self):
        self.assertContains(
            self.response, f'href="{MONOGRAPH_ADMIN}{self.form.pk}/revisions/"'
        )
        self.assertContains(self.response, 'href="/forms/magnesium-glycinate/draft/"')
        self.assertContains(
            self.response, f'href="{MONOGRAPH_ADMIN}{self.form.pk}/history/"'
        )


class AutocompleteTests(TestCase):
    url = "/admin/autocomplete/"

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.schuette = factories.CitationFactory(
            key="schuette1994", title="Retention studies", pmid="7815675"
        )
        cls.rawji = factories.CitationFactory(key="rawji2024", title="Sleep review")
        cls.sleep = factories.IndicationFactory(name="Sleep quality", slug="sleep")
        factories.IndicationFactory(name="Migraine prevention", slug="migraine")
        cls.diarrhoea = factories.SideEffectFactory(name="Diarrhoea", slug="diarrhoea")

    def lookup(self, model_name, field_name, term):
        return self.client.get(
            self.url,
            {
                "app_label": "monographs",
                "model_name": model_name,
                "field_name": field_name,
                "term": term,
            },
        )

    def texts(self, response):
        self.assertEqual(response.status_code, 200)
        return [result["text"] for result in response.json()["results"]]

    def test_editor_finds_citations_by_key_for_every_row_that_cites(self):
        self.client.force_login(self.editor)
        for model_name in [
            "evidence",
            "formsideeffect",
            "dose",
            "interaction",
            "precaution",
        ]:
            with self.subTest(model=model_name):
                response = self.lookup(model_name, "citations", "schuet")
                self.assertEqual(self.texts(response), ["schuette1994"])
                self.assertEqual(
                    response.json()["results"][0]["id"], str(self.schuette.pk)
                )

    def test_editor_finds_a_citation_by_its_pmid(self):
        self.client.force_login(self.editor)
        response = self.lookup("evidence", "citations", "7815675")
        self.assertEqual(self.texts(response), ["schuette1994"])

    def test_editor_finds_indications_and_side_effects(self):
        self.client.force_login(self.editor)
        self.assertEqual(
            self.texts(self.lookup("evidence", "indication", "sleep")),
            ["Sleep quality"],
        )
        self.assertEqual(
            self.texts(self.lookup("formsideeffect", "side_effect", "diarr")),
            ["Diarrhoea"],
        )

    def test_anonymous_gets_no_results(self):
        response = self.lookup("evidence", "citations", "schuet")
        self.assertNotEqual(response.status_code, 200)
        self.assertNotIn(b"schuette1994", response.content)


class AnonymousAccessTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory()
        factories.DoseFactory(form=cls.form)
        cls.user = factories.UserFactory()

    def admin_pages(self):
        pk = self.form.pk
        return [
            "/admin/",
            MONOGRAPH_ADMIN,
            f"{MONOGRAPH_ADMIN}add/",
            f"{MONOGRAPH_ADMIN}{pk}/change/",
            f"{MONOGRAPH_ADMIN}{pk}/delete/",
            f"{MONOGRAPH_ADMIN}{pk}/history/",
            f"{MONOGRAPH_ADMIN}{pk}/revisions/",
            f"{MONOGRAPH_ADMIN}{pk}/review/",
            f"{MONOGRAPH_ADMIN}review-queue/",
            f"{MONOGRAPH_ADMIN}deleted/",
            "/admin/monographs/citation/",
            "/admin/monographs/citation/add/",
            "/admin/monographs/dose/",
        ]

    def test_admin_pages_redirect_to_the_login(self):
        for url in self.admin_pages():
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertRedirects(
                    response,
                    f"/admin/login/?next={url}",
                    fetch_redirect_response=False,
                )

    def test_logged_in_non_staff_user_is_sent_to_the_login_too(self):
        self.client.force_login(self.user)
        for url in self.admin_pages():
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertRedirects(
                    response,
                    f"/admin/login/?next={url}",
                    fetch_redirect_response=False,
                )

    def test_anonymous_posts_change_nothing(self):
        pk = self.form.pk
        before = recorded_counts()
        for url, data in [
            (f"{MONOGRAPH_ADMIN}{pk}/change/", {"name": "Hacked", "edit_summary": "x"}),
            (f"{MONOGRAPH_ADMIN}{pk}/submit/", {}),
            (
                f"{MONOGRAPH_ADMIN}{pk}/review/",
                {"decision": "approve", "revision": "2"},
            ),
            (f"{MONOGRAPH_ADMIN}{pk}/revisions/1/revert/", {}),
            (f"{MONOGRAPH_ADMIN}{pk}/delete/", {"post": "yes", "edit_summary": "x"}),
        ]:
            with self.subTest(url=url):
                response = self.client.post(url, data)
                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith("/admin/login/"))
        self.form.refresh_from_db()
        self.assertNotEqual(self.form.name, "Hacked")
        self.assertEqual(self.form.status, MagnesiumForm.Status.DRAFT)
        self.assertEqual(recorded_counts(), before)


class MergeTests(TestCase):
    """A save made from an older revision is merged three ways, never lost."""

    @classmethod
    def setUpTestData(cls):
        cls.first = factories.EditorFactory(first_name="Ada", last_name="First")
        cls.second = factories.EditorFactory(first_name="Bea", last_name="Second")
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            summary="Gentle on the gut.",
            usage="Taken for sleep.",
        )
        factories.DoseFactory(form=cls.form)

    def setUp(self):
        self.first_client = Client()
        self.first_client.force_login(self.first)
        self.second_client = Client()
        self.second_client.force_login(self.second)

    def save(self, client, data, **changes):
        data.update(changes)
        return client.post(change_url(self.form), data)

    def test_edits_of_different_fields_merge_and_say_what_was_merged(self):
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        saved = self.save(
            self.first_client,
            first_data,
            summary="Gentle on the gut, and well absorbed.",
            edit_summary="Mention absorption",
        )
        self.assertEqual(saved.status_code, 302)

        merged = self.save(
            self.second_client,
            second_data,
            usage="Taken for sleep and for cramps.",
            edit_summary="Mention cramps",
        )

        self.assertEqual(merged.status_code, 302)
        page = self.second_client.get(merged["Location"])
        self.assertContains(page, "Merged with what was saved while you were editing")
        self.assertContains(page, "Ada First")
        self.assertContains(page, "Mention absorption")
        self.assertRegex(page.content.decode(), r"kept with yours: [^.]*Summary")
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Gentle on the gut, and well absorbed.")
        self.assertEqual(self.form.usage, "Taken for sleep and for cramps.")
        latest = Revision.objects.latest_for(self.form.pk)
        self.assertEqual(latest.summary, "Mention cramps")

    def test_rows_added_and_changed_on_both_sides_merge(self):
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        add_inline_row(
            first_data, "faqs", question="Does it cause diarrhoea?", answer="Rarely."
        )
        self.assertEqual(
            self.save(
                self.first_client, first_data, edit_summary="Add a FAQ"
            ).status_code,
            302,
        )

        add_inline_row(
            second_data, "synonyms", name="Bisglycinate", slug="bisglycinate"
        )
        merged = self.save(
            self.second_client,
            second_data,
            **{"doses-0-maximum_mg": "250"},
            edit_summary="Lower the dose",
        )

        self.assertEqual(merged.status_code, 302)
        self.assertEqual(Dose.objects.get(form=self.form).maximum_mg, 250)
        self.assertTrue(
            FAQ.objects.filter(question="Does it cause diarrhoea?").exists()
        )
        self.assertTrue(Synonym.objects.filter(slug="bisglycinate").exists())

    def test_rows_both_editors_appended_keep_distinct_positions(self):
        factories.FAQFactory(form=self.form, question="First?", position=0)
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        add_inline_row(first_data, "faqs", question="Theirs?", answer="Yes.")
        self.assertEqual(
            self.save(self.first_client, first_data, edit_summary="A").status_code,
            302,
        )
        add_inline_row(second_data, "faqs", question="Mine?", answer="No.")
        # A row added and left empty is skipped, as without a merge.
        add_inline_row(second_data, "faqs")
        merged = self.save(self.second_client, second_data, edit_summary="B")
        self.assertEqual(merged.status_code, 302)
        positions = dict(
            FAQ.objects.filter(form=self.form).values_list("question", "position")
        )
        # Both were appended at the next position: mine now comes after theirs.
        self.assertEqual(positions, {"First?": 0, "Theirs?": 1, "Mine?": 2})

    def test_a_row_deleted_by_them_and_untouched_by_me_stays_deleted(self):
        faq = factories.FAQFactory(form=self.form, question="Old question?")
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        first_data["faqs-0-DELETE"] = "on"
        self.assertEqual(
            self.save(
                self.first_client, first_data, edit_summary="Drop FAQ"
            ).status_code,
            302,
        )
        merged = self.save(
            self.second_client, second_data, usage="Evening.", edit_summary="Usage"
        )
        self.assertEqual(merged.status_code, 302)
        self.assertFalse(FAQ.objects.filter(pk=faq.pk).exists())
        self.form.refresh_from_db()
        self.assertEqual(self.form.usage, "Evening.")

    def test_the_same_field_changed_on_both_sides_shows_both_and_keeps_mine(self):
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        self.save(
            self.first_client,
            first_data,
            summary="First editor's text.",
            usage="First usage.",
            edit_summary="Rewrite",
        )
        revisions = Revision.objects.count()

        conflict = self.save(
            self.second_client,
            second_data,
            summary="Second editor's text.",
            edit_summary="Rewrite too",
        )

        self.assertEqual(conflict.status_code, 200)
        self.assertEqual(Revision.objects.count(), revisions)
        self.assertContains(conflict, "you both changed: Summary")
        self.assertContains(conflict, "Their version")
        self.assertContains(conflict, "First editor&#x27;s text.")
        # A diff of mine against theirs.
        self.assertContains(conflict, "<ins>")
        again = form_data(conflict, FORM_ID)
        self.assertEqual(again["summary"], "Second editor's text.")
        # What did not conflict was merged into the form already.
        self.assertEqual(again["usage"], "First usage.")

        # One click saves my choice.
        saved = self.second_client.post(change_url(self.form), again)
        self.assertEqual(saved.status_code, 302)
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Second editor's text.")
        self.assertEqual(self.form.usage, "First usage.")

    def test_the_conflict_diff_leaves_unchanged_line_breaks_unmarked(self):
        # The browser posts CRLF; revisions hold LF. Only the changed word
        # may be marked, not each paragraph break.
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        self.save(
            self.first_client,
            first_data,
            summary="One.\n\nTwo.\n\nThree.",
            edit_summary="Paragraphs",
        )
        conflict = self.save(
            self.second_client,
            second_data,
            summary="One.\r\n\r\nTwo!\r\n\r\nThree.",
            edit_summary="Exclaim",
        )
        diff = conflict.content.decode()
        diff = diff[diff.index('class="merge-text diff-text"') :]
        diff = diff[: diff.index("</pre>")]
        self.assertNotIn("\r", diff)
        self.assertEqual(diff.count("<ins>"), 1)
        self.assertEqual(diff.count("<del>"), 1)
        self.assertIn("One.\n\nTwo", diff)

    def test_taking_their_version_of_a_conflicting_field(self):
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        self.save(self.first_client, first_data, summary="Theirs.", edit_summary="A")
        conflict = self.save(
            self.second_client,
            second_data,
            summary="Mine.",
            usage="My usage.",
            edit_summary="B",
        )
        again = form_data(conflict, FORM_ID)
        again["merge_take_theirs"] = "form:summary"
        self.assertEqual(
            self.second_client.post(change_url(self.form), again).status_code, 302
        )
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Theirs.")
        self.assertEqual(self.form.usage, "My usage.")

    def test_a_row_field_changed_on_both_sides_conflicts(self):
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        self.save(
            self.first_client,
            first_data,
            **{"doses-0-maximum_mg": "200"},
            edit_summary="Lower",
        )
        conflict = self.save(
            self.second_client,
            second_data,
            **{"doses-0-maximum_mg": "250"},
            edit_summary="Lower less",
        )
        self.assertEqual(conflict.status_code, 200)
        self.assertContains(conflict, "Doses “Adults”: Maximum")
        self.assertContains(conflict, 'href="#id_doses-0-maximum_mg"')
        self.assertEqual(Dose.objects.get(form=self.form).maximum_mg, 200)

    def test_a_row_they_deleted_that_i_changed_comes_back_as_new(self):
        faq = factories.FAQFactory(form=self.form, question="Old?", answer="Old.")
        first_data = open_change_form(self.first_client, self.form)
        second_data = open_change_form(self.second_client, self.form)
        first_data["faqs-0-DELETE"] = "on"
        self.save(self.first_client, first_data, edit_summary="Drop FAQ")
        conflict = self.save(
            self.second_client,
            second_data,
            **{"faqs-0-answer": "Better answer."},
            edit_summary="Improve FAQ",
        )
        self.assertEqual(conflict.status_code, 200)
        self.assertContains(conflict, "they deleted this row, you changed it")
        again = form_data(conflict, FORM_ID)
        self.assertEqual(again["faqs-0-id"], "")
        self.assertEqual(again["faqs-0-answer"], "Better answer.")
        self.assertEqual(
            self.second_client.post(change_url(self.form), again).status_code, 302
        )
        self.assertFalse(FAQ.objects.filter(pk=faq.pk).exists())
        self.assertTrue(FAQ.objects.filter(answer="Better answer.").exists())

    def test_the_same_editor_in_two_tabs_merges_too(self):
        tab_one = open_change_form(self.first_client, self.form)
        tab_two = open_change_form(self.first_client, self.form)
        self.save(self.first_client, tab_one, summary="Tab one.", edit_summary="1")
        response = self.save(
            self.first_client, tab_two, usage="Tab two.", edit_summary="2"
        )
        self.assertEqual(response.status_code, 302)
        self.form.refresh_from_db()
        self.assertEqual((self.form.summary, self.form.usage), ("Tab one.", "Tab two."))

    def test_a_bad_base_revision_is_a_400_with_a_message(self):
        data = open_change_form(self.first_client, self.form)
        for bad in ["", "abc", "999", "-1"]:
            with self.subTest(base=bad):
                data.update(base_revision=bad, summary="x", edit_summary="x")
                response = self.first_client.post(change_url(self.form), data)
                self.assertContains(response, "could not be merged", status_code=400)
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Gentle on the gut.")

    def test_a_rows_own_page_merges_with_the_monograph(self):
        dose = Dose.objects.get(form=self.form)
        url = f"/admin/monographs/dose/{dose.pk}/change/"
        mine = form_data(self.second_client.get(url), "dose_form")
        theirs = open_change_form(self.first_client, self.form)
        self.save(
            self.first_client,
            theirs,
            **{"doses-0-population": "Older adults"},
            edit_summary="Population",
        )
        mine.update(maximum_mg="250", edit_summary="Lower")
        self.assertEqual(self.second_client.post(url, mine).status_code, 302)
        dose.refresh_from_db()
        self.assertEqual((dose.population, dose.maximum_mg), ("Older adults", 250))


@skipUnless(connection.vendor == "postgresql", "needs two real PostgreSQL connections")
class ConcurrentSaveTests(TransactionTestCase):
    """Two editors press Save at the same moment, each on their own connection."""

    def test_two_simultaneous_saves_of_one_field_conflict_and_lose_nothing(self):
        # Superusers: the TransactionTestCase flush drops the role groups.
        editors = [
            factories.SuperuserFactory(first_name="Ada", last_name="First"),
            factories.SuperuserFactory(first_name="Bea", last_name="Second"),
        ]
        form = factories.MagnesiumFormFactory(summary="Original summary.")
        revisions_before = Revision.objects.count()

        both_have_read = threading.Barrier(2, timeout=30)
        results = {}

        def edit(user):
            try:
                client = Client()
                client.force_login(user)
                data = open_change_form(client, form)
                data["summary"] = f"Summary by {user.first_name}."
                data["edit_summary"] = f"Edit by {user.first_name}"
                both_have_read.wait()
                response = client.post(change_url(form), data)
                results[user.first_name] = (
                    response.status_code,
                    response.content.decode(),
                )
            except Exception as error:  # reported by the main thread
                results[user.first_name] = error
            finally:
                connection.close()

        # Hold each save open a moment after validation, so that without row
        # locking both would validate against the same revision and both save.
        original = MagnesiumFormAdmin.save_model

        def slow_save_model(self, *args, **kwargs):
            time.sleep(0.5)
            return original(self, *args, **kwargs)

        with mock.patch.object(MagnesiumFormAdmin, "save_model", slow_save_model):
            threads = [threading.Thread(target=edit, args=[user]) for user in editors]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

        for name, result in results.items():
            if isinstance(result, Exception):
                raise AssertionError(f"{name}'s request failed") from result
        self.assertEqual(len(results), 2)
        statuses = sorted(status for status, _ in results.values())
        self.assertEqual(statuses, [200, 302])
        winner = next(name for name, (status, _) in results.items() if status == 302)
        loser_page = next(page for status, page in results.values() if status == 200)
        # The second save waited for the first, then was merged with it: both
        # changed the summary, so the loser sees both versions, nothing lost.
        self.assertIn("you both changed: Summary", loser_page)
        self.assertIn(f"Edit by {winner}", loser_page)

        form.refresh_from_db()
        self.assertEqual(form.summary, f"Summary by {winner}.")
        self.assertEqual(Revision.objects.count(), revisions_before + 1)
        self.assertEqual(
            Revision.objects.get(
                form=form, number=Revision.objects.latest_number(form.pk)
            ).summary,
            f"Edit by {winner}",
        )


class MonographValidationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.citation = factories.CitationFactory(key="schuette1994")
        cls.other = factories.CitationFactory(key="rawji2024")
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        cls.dose = factories.DoseFactory(form=cls.form, minimum_mg=125, maximum_mg=300)
        cls.evidence = factories.EvidenceFactory(
            form=cls.form, summary="Helps sleep [@schuette1994]."
        )
        cls.evidence.citations.add(cls.citation)

    def setUp(self):
        self.client.force_login(self.editor)
        self.data = open_change_form(self.client, self.form)
        self.data["edit_summary"] = "Correct the dose"
        self.before = recorded_counts()

    def save(self, **kwargs):
        return self.client.post(change_url(self.form), self.data, **kwargs)

    def assertNothingWritten(self):
        self.assertEqual(recorded_counts(), self.before)
        self.dose.refresh_from_db()
        self.assertEqual((self.dose.minimum_mg, self.dose.maximum_mg), (125, 300))

    def test_markdown_the_renderer_cannot_take_is_refused_and_kept(self):
        # The security probe's inputs: nesting that crashed the renderer, and
        # brackets that stalled it.
        for field, text, message in [
            ("summary", "- " * 1000 + "x", "levels deep; the limit is 20"),
            ("usage", "[" * 8000, "square brackets nested"),
            ("evidence-0-summary", "![" * 8000, "square brackets nested"),
        ]:
            with self.subTest(field=field):
                data = {**self.data, field: text}
                response = self.client.post(change_url(self.form), data)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, message)
                # The editor's text stays in the form to be corrected.
                self.assertContains(response, text[:200])
                self.assertNothingWritten()

    def test_an_overlong_field_is_refused_with_the_text_kept(self):
        # What the probe sent as 5 MB: the field's limit comes well before the
        # request's (10 MB), so the editor gets the form back, text and all.
        text = "Long. " * 40_000
        response = self.client.post(
            change_url(self.form), {**self.data, "summary": text}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "has at most 100000 characters")
        self.assertContains(response, text)
        self.assertContains(response, 'maxlength="100000"')
        self.assertNothingWritten()

    def test_minimum_above_maximum_is_refused(self):
        self.data["doses-0-minimum_mg"] = "400"
        self.data["doses-0-maximum_mg"] = "200"
        response = self.save()
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "The minimum dose is above the maximum dose.")
        self.assertNothingWritten()

    def test_minimum_above_maximum_in_a_new_dose_is_refused(self):
        add_inline_row(
            self.data,
            "doses",
            population="Children",
            purpose="Cramps",
            minimum_mg="200",
            maximum_mg="100",
        )
        response = self.save()
        self.assertContains(response, "The minimum dose is above the maximum dose.")
        self.assertEqual(Dose.objects.filter(form=self.form).count(), 1)
        self.assertNothingWritten()

    def test_dose_above_the_upper_level_needs_the_box_ticked(self):
        self.data["doses-0-maximum_mg"] = "500"
        response = self.save()
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "350 mg/day")
        self.assertContains(response, "Tolerable Upper Intake Level")
        self.assertContains(response, "500 mg/day is above the 350 mg/day")
        self.assertNothingWritten()

    def test_dose_above_the_upper_level_with_the_box_ticked_is_saved(self):
        self.data["doses-0-maximum_mg"] = "500"
        self.data["doses-0-exceeds_ul_acknowledged"] = "on"
        self.data["doses-0-notes"] = "Migraine prevention under supervision."
        response = self.save(follow=True)
        self.assertEqual(response.status_code, 200)
        self.dose.refresh_from_db()
        self.assertEqual(self.dose.maximum_mg, 500)
        self.assertTrue(self.dose.exceeds_ul_acknowledged)

        # The reviewer is warned on the review page.
        self.client.force_login(self.reviewer)
        review = self.client.get(f"{MONOGRAPH_ADMIN}{self.form.pk}/review/")
        self.assertContains(
            review,
            "Above the 350 mg/day Tolerable Upper Intake Level for supplemental magnesium",
        )
        self.assertContains(review, "Adults, General supplementation (125–500 mg/day)")

    def test_dose_at_the_upper_level_needs_no_acknowledgement(self):
        self.data["doses-0-maximum_mg"] = "350"
        response = self.save()
        self.assertEqual(response.status_code, 302)
        self.dose.refresh_from_db()
        self.assertEqual(self.dose.maximum_mg, 350)

    def test_unknown_citation_marker_in_the_monograph_is_refused(self):
        self.data["summary"] = "Well absorbed [@nosuch]."
        response = self.save()
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No citation has the key [@nosuch]")
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "A test form.")
        self.assertEqual(recorded_counts(), self.before)

    def test_unknown_citation_marker_in_an_inline_row_is_refused(self):
        self.data["evidence-0-summary"] = "Helps sleep [@schuette1994; @nosuch]."
        response = self.save()
        self.assertEqual(response.status_code, 200)
        # Only the unknown key is named.
        self.assertContains(response, "No citation has the key [@nosuch]. Add it")
        self.evidence.refresh_from_db()
        self.assertEqual(self.evidence.summary, "Helps sleep [@schuette1994].")
        self.assertEqual(recorded_counts(), self.before)

    def test_known_citation_markers_are_accepted(self):
        self.data["summary"] = "Well absorbed [@rawji2024; @schuette1994]."
        self.assertEqual(self.save().status_code, 302)
        self.form.refresh_from_db()
        self.assertEqual(
            self.form.summary, "Well absorbed [@rawji2024; @schuette1994]."
        )

    def test_citation_attached_but_not_cited_is_pointed_out(self):
        self.data["evidence-0-citations"] = [str(self.citation.pk), str(self.other.pk)]
        self.data["edit_summary"] = "Add a source"
        response = self.save(follow=True)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Attached but not cited in the text")
        self.assertContains(response, "rawji2024")
        # It is a warning, not a refusal: the citation was attached.
        self.assertEqual(
            sorted(self.evidence.citations.values_list("key", flat=True)),
            ["rawji2024", "schuette1994"],
        )

    def test_no_warning_when_every_attached_citation_is_cited(self):
        self.data["summary"] = "Now a bit longer."
        self.data["edit_summary"] = "Longer summary"
        response = self.save(follow=True)
        self.assertNotContains(response, "Attached but not cited")
