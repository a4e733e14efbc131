"""
The admins of shared content (citations, indications, side effects) and of
monograph rows on their own pages: validation messages, edit summaries,
deletion reasons, history.
"""

import datetime
import re

from django.test import Client, TestCase
from django.utils.html import escape

from monographs.models import Citation, Dose, Indication, Revision, SideEffect
from tests import factories
from tests.admin.test_monograph_admin import find_form, recorded_counts, textarea
from tests.browser_forms import form_data

CITATIONS = "/admin/monographs/citation/"


def errors(response):
    """The error messages shown on an admin form page."""
    return re.findall(
        r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    )


class CitationAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.existing = factories.CitationFactory(
            key="schuette1994",
            title="Retention studies",
            pmid="7815675",
            doi="10.1177/0148607194018005430",
        )

    def setUp(self):
        self.client.force_login(self.editor)

    def add(self, **values):
        page = self.client.get(f"{CITATIONS}add/")
        self.assertEqual(page.status_code, 200)
        data = form_data(page, "citation_form")
        data.update(
            key="rawji2024",
            title="Magnesium and sleep",
            journal="Sleep Med",
            year="2024",
            edit_summary="Add the sleep review",
        )
        data.update(values)
        return self.client.post(f"{CITATIONS}add/", data)

    def assertRefused(self, response, message):
        self.assertEqual(response.status_code, 200)
        self.assertIn(escape(message), "".join(errors(response)))
        self.assertFalse(Citation.objects.filter(key="rawji2024").exists())

    def test_a_valid_citation_is_saved_with_its_reason(self):
        response = self.add(pmid="38123456", doi="10.1016/j.sleep.2024.01.001")
        self.assertEqual(response.status_code, 302)
        citation = Citation.objects.get(key="rawji2024")
        self.assertEqual(citation.pmid, "38123456")
        record = citation.history.get()
        self.assertEqual(record.history_change_reason, "Add the sleep review")
        self.assertEqual(record.history_user, self.editor)

    def test_a_pmid_with_letters_is_refused(self):
        for pmid in ["78156a5", "PMID78156", "7815675x"]:
            with self.subTest(pmid=pmid):
                response = self.add(pmid=pmid)
                self.assertRefused(
                    response, "A PMID is digits only, for example 7815675."
                )

    def test_a_malformed_doi_is_refused(self):
        for doi in [
            "11.1000/xyz",
            "10.12/abc",
            "10.1000",
            "10.1000/",
            "doi.org/10.1000/x",
        ]:
            with self.subTest(doi=doi):
                response = self.add(doi=doi)
                self.assertRefused(
                    response, "A DOI looks like 10.<registrant>/<suffix>"
                )

    def test_a_doi_pasted_as_a_link_is_stored_bare(self):
        for link in [
            "https://doi.org/10.1016/j.sleep.2024.01.001",
            "doi: 10.1016/j.sleep.2024.01.001",
        ]:
            with self.subTest(link=link):
                Citation.objects.filter(key="rawji2024").delete()
                response = self.add(doi=link)
                self.assertEqual(response.status_code, 302)
                self.assertEqual(
                    Citation.objects.get(key="rawji2024").doi,
                    "10.1016/j.sleep.2024.01.001",
                )

    def test_an_implausible_year_is_refused(self):
        latest = datetime.date.today().year + 1
        for year in ["1700", str(latest + 1), "2100"]:
            with self.subTest(year=year):
                response = self.add(year=year)
                self.assertRefused(response, f"Enter a year between 1800 and {latest}.")

    def test_next_years_citation_is_accepted(self):
        year = datetime.date.today().year + 1
        self.assertEqual(self.add(year=str(year)).status_code, 302)

    def test_a_citation_needs_something_to_find_it_by(self):
        response = self.add(title="", pmid="", doi="", url="", pmcid="")
        self.assertRefused(
            response,
            "A citation needs at least a title, PMID, PMCID, DOI or URL to be findable.",
        )

    def test_a_duplicate_pmid_or_doi_is_refused_with_a_clear_message(self):
        for field, value in [
            ("pmid", "7815675"),
            ("doi", "10.1177/0148607194018005430".upper()),
        ]:
            with self.subTest(field=field):
                response = self.add(**{field: value})
                self.assertEqual(response.status_code, 200)
                shown = "".join(errors(response))
                self.assertFalse(Citation.objects.filter(key="rawji2024").exists())
                # Say which citation already has it, not a constraint name.
                self.assertNotIn("citation_", shown)
                self.assertIn(field.upper(), shown)

    def test_a_bad_key_is_refused(self):
        response = self.add(key="Rawji2024")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Use lowercase letters, digits", "".join(errors(response)))

    def test_a_change_without_a_summary_is_refused(self):
        url = f"{CITATIONS}{self.existing.pk}/change/"
        data = form_data(self.client.get(url), "citation_form")
        data["title"] = "Retention studies of magnesium glycinate"
        before = recorded_counts()
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Give an edit summary")
        self.assertEqual(recorded_counts(), before)
        self.existing.refresh_from_db()
        self.assertEqual(self.existing.title, "Retention studies")

    def test_the_history_page_shows_what_changed_and_why(self):
        url = f"{CITATIONS}{self.existing.pk}/change/"
        data = form_data(self.client.get(url), "citation_form")
        data["title"] = "Retention studies of magnesium glycinate"
        data["edit_summary"] = "Full title from PubMed"
        self.assertEqual(self.client.post(url, data).status_code, 302)

        page = self.client.get(f"{CITATIONS}{self.existing.pk}/history/")
        html = page.content.decode()
        self.assertIn("Full title from PubMed", html)
        self.assertRegex(
            html,
            r"<strong>Title:</strong>\s*Retention studies\s*&nbsp;&rarr;&nbsp;&nbsp;"
            r"Retention studies of magnesium glycinate",
        )

    def test_deleting_needs_a_reason_which_is_recorded(self):
        self.client.force_login(self.reviewer)
        url = f"{CITATIONS}{self.existing.pk}/delete/"
        page = self.client.get(url)
        self.assertContains(page, "Reason for deleting")
        action, data = find_form(page, 'name="edit_summary"')

        refused = self.client.post(action, data, follow=True)
        self.assertContains(refused, "Give a reason for the deletion")
        self.assertTrue(Citation.objects.filter(pk=self.existing.pk).exists())

        data["edit_summary"] = "Retracted paper"
        self.assertEqual(self.client.post(action, data).status_code, 302)
        self.assertFalse(Citation.objects.filter(pk=self.existing.pk).exists())
        record = Citation.history.filter(id=self.existing.pk).first()
        self.assertEqual(record.history_type, "-")
        self.assertEqual(record.history_change_reason, "Retracted paper")
        self.assertEqual(record.history_user, self.reviewer)

    def test_bulk_delete_is_not_offered(self):
        page = self.client.get(CITATIONS)
        self.assertNotContains(page, 'value="delete_selected"')

    def test_the_list_counts_the_rows_citing_each_citation(self):
        evidence = factories.EvidenceFactory()
        evidence.citations.add(self.existing)
        factories.DoseFactory().citations.add(self.existing)
        factories.StudyFactory(form=evidence.form, evidence=evidence).citations.add(
            self.existing
        )
        page = self.client.get(CITATIONS)
        self.assertContains(page, "Rows citing it")
        self.assertRegex(
            page.content.decode(),
            r'schuette1994</a></th>.*?<td class="field-rows">3</td>',
        )

    def test_a_citation_only_a_study_cites_is_in_use(self):
        study = factories.StudyFactory()
        study.citations.add(self.existing)
        factories.CitationFactory(key="unused2020")
        used = self.client.get(CITATIONS, {"used": "yes"})
        self.assertContains(used, "schuette1994")
        self.assertNotContains(used, "unused2020")
        unused = self.client.get(CITATIONS, {"used": "no"})
        self.assertContains(unused, "unused2020")
        self.assertNotContains(unused, "schuette1994")


class TopicAdminTests(TestCase):
    """Indications and side effects: slugs, Markdown descriptions, reasons."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.indication = factories.IndicationFactory(name="Sleep quality", slug="sleep")
        cls.side_effect = factories.SideEffectFactory(
            name="Diarrhoea", slug="diarrhoea"
        )

    def setUp(self):
        self.client.force_login(self.editor)

    def test_add_pages_prepopulate_the_slug_and_edit_markdown(self):
        for model_name in ["indication", "sideeffect"]:
            with self.subTest(model=model_name):
                page = self.client.get(f"/admin/monographs/{model_name}/add/")
                html = page.content.decode()
                config = re.search(r'data-prepopulated-fields="([^"]*)"', html).group(1)
                self.assertIn(escape('"id": "#id_slug"'), config)
                self.assertIn(escape('"dependency_ids": ["#id_name"]'), config)
                tag = textarea(html, "description")
                self.assertIn("markdownx-editor", tag)
                self.assertIn('data-markdownx-urls-path="/markdownx/markdownify/"', tag)

    def test_saves_need_a_summary_and_record_it(self):
        for model, instance in [
            (Indication, self.indication),
            (SideEffect, self.side_effect),
        ]:
            name = model._meta.model_name
            url = f"/admin/monographs/{name}/{instance.pk}/change/"
            with self.subTest(model=name):
                data = form_data(self.client.get(url), f"{name}_form")
                data["description"] = "Described."
                refused = self.client.post(url, data)
                self.assertContains(refused, "Give an edit summary")
                instance.refresh_from_db()
                self.assertEqual(instance.description, "")

                data["edit_summary"] = "Describe it"
                self.assertEqual(self.client.post(url, data).status_code, 302)
                record = model.history.filter(id=instance.pk).first()
                self.assertEqual(record.description, "Described.")
                self.assertEqual(record.history_change_reason, "Describe it")
                history = self.client.get(
                    f"/admin/monographs/{name}/{instance.pk}/history/"
                )
                self.assertContains(history, "<strong>Description:</strong>")

    def test_unknown_citation_marker_in_a_description_is_refused(self):
        url = f"/admin/monographs/indication/{self.indication.pk}/change/"
        data = form_data(self.client.get(url), "indication_form")
        data.update(description="See [@nosuch].", edit_summary="Describe")
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No citation has the key [@nosuch]")


class RowAdminTests(TestCase):
    """Monograph rows on their own admin pages follow the same rules."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Ada", last_name="First")
        cls.other_editor = factories.EditorFactory()
        cls.form = factories.MagnesiumFormFactory()
        cls.dose = factories.DoseFactory(form=cls.form)
        cls.url = f"/admin/monographs/dose/{cls.dose.pk}/change/"

    def setUp(self):
        self.client.force_login(self.editor)

    def test_a_rows_own_page_cannot_move_it_to_another_monograph(self):
        other = factories.MagnesiumFormFactory()
        revisions = Revision.objects.for_form(other.pk).count()
        for model_name, factory in [
            ("synonym", factories.SynonymFactory),
            ("evidence", factories.EvidenceFactory),
            ("formsideeffect", factories.FormSideEffectFactory),
            ("dose", factories.DoseFactory),
            ("interaction", factories.InteractionFactory),
            ("precaution", factories.PrecautionFactory),
            ("faq", factories.FAQFactory),
        ]:
            with self.subTest(model=model_name):
                row = factory(form=self.form)
                url = f"/admin/monographs/{model_name}/{row.pk}/change/"
                data = form_data(self.client.get(url), f"{model_name}_form")
                self.assertNotIn("form", data)
                data.update(form=str(other.pk), edit_summary="Try to move it")
                self.client.post(url, data)
                row.refresh_from_db()
                self.assertEqual(row.form_id, self.form.pk)
        self.assertEqual(Revision.objects.for_form(other.pk).count(), revisions)

    def test_every_row_admin_has_markdown_editors(self):
        for model_name, field, factory in [
            ("evidence", "summary", factories.EvidenceFactory),
            ("formsideeffect", "notes", factories.FormSideEffectFactory),
            ("dose", "notes", factories.DoseFactory),
            ("precaution", "text", factories.PrecautionFactory),
            ("faq", "answer", factories.FAQFactory),
        ]:
            with self.subTest(model=model_name):
                row = factory(form=self.form)
                page = self.client.get(
                    f"/admin/monographs/{model_name}/{row.pk}/change/"
                )
                self.assertEqual(page.status_code, 200)
                self.assertIn(
                    "markdownx-editor", textarea(page.content.decode(), field)
                )

    def test_a_dose_saved_on_its_own_page_needs_a_summary_and_is_validated(self):
        data = form_data(self.client.get(self.url), "dose_form")
        data["maximum_mg"] = "400"
        refused = self.client.post(self.url, data)
        self.assertContains(refused, "Give an edit summary")

        data["edit_summary"] = "Raise the dose"
        refused = self.client.post(self.url, data)
        self.assertContains(refused, "400 mg/day is above the 350 mg/day")

        data["minimum_mg"] = "500"
        refused = self.client.post(self.url, data)
        self.assertContains(refused, "The minimum dose is above the maximum dose.")
        self.dose.refresh_from_db()
        self.assertEqual(self.dose.maximum_mg, 300)

    def test_a_row_saved_on_its_own_page_is_a_revision_of_its_monograph(self):
        data = form_data(self.client.get(self.url), "dose_form")
        data.update(maximum_mg="250", edit_summary="Lower the dose")
        self.assertEqual(self.client.post(self.url, data).status_code, 302)
        revision = Revision.objects.for_form(self.form.pk).order_by("-number").first()
        self.assertEqual(revision.summary, "Lower the dose")
        self.assertEqual(revision.user, self.editor)

    def test_two_editors_on_a_rows_own_page_do_not_overwrite_each_other(self):
        first, second = Client(), Client()
        first.force_login(self.editor)
        second.force_login(self.other_editor)
        first_data = form_data(first.get(self.url), "dose_form")
        second_data = form_data(second.get(self.url), "dose_form")

        first_data.update(maximum_mg="200", edit_summary="Lower the maximum")
        self.assertEqual(first.post(self.url, first_data).status_code, 302)
        second_data.update(minimum_mg="100", edit_summary="Lower the minimum")
        response = second.post(self.url, second_data)

        # Different fields: merged, both kept.
        self.assertEqual(response.status_code, 302)
        self.dose.refresh_from_db()
        self.assertEqual(
            self.dose.maximum_mg, 200, "the first editor's save was overwritten"
        )
        self.assertEqual(self.dose.minimum_mg, 100)

        # The same field: both versions shown, the second editor's kept in the form.
        first_data = form_data(first.get(self.url), "dose_form")
        second_data = form_data(second.get(self.url), "dose_form")
        first_data.update(maximum_mg="220", edit_summary="First")
        self.assertEqual(first.post(self.url, first_data).status_code, 302)
        second_data.update(maximum_mg="230", edit_summary="Second")
        response = second.post(self.url, second_data)
        self.assertContains(response, "you both changed")
        self.assertContains(response, "Their version")
        self.assertEqual(form_data(response, "dose_form")["maximum_mg"], "230")
        self.dose.refresh_from_db()
        self.assertEqual(self.dose.maximum_mg, 220)

    def test_deleting_a_row_on_its_own_page_needs_a_reason(self):
        url = f"/admin/monographs/dose/{self.dose.pk}/delete/"
        page = self.client.get(url)
        action, data = find_form(page, 'name="edit_summary"')
        refused = self.client.post(action, data, follow=True)
        self.assertContains(refused, "Give a reason for the deletion")
        self.assertTrue(Dose.objects.filter(pk=self.dose.pk).exists())

        data["edit_summary"] = "Wrong population"
        self.assertEqual(self.client.post(action, data).status_code, 302)
        record = Dose.history.filter(id=self.dose.pk).first()
        self.assertEqual(record.history_type, "-")
        self.assertEqual(record.history_change_reason, "Wrong population")
