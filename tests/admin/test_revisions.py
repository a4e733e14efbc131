"""
Edit summaries, history, revert and recovery of monographs, through the admin.
"""

from django.test import Client, TestCase

from monographs import services
from monographs.history import change_context
from monographs.models import (
    FAQ,
    Dose,
    Evidence,
    MagnesiumForm,
    Precaution,
    Revision,
    Synonym,
)
from tests import factories
from tests.admin.test_monograph_admin import (
    FORM_ID,
    HISTORY_MODELS,
    MONOGRAPH_ADMIN,
    add_inline_row,
    change_url,
    find_form,
    open_change_form,
    recorded_counts,
)
from tests.admin.test_workflow import decide, submit
from tests.browser_forms import form_data


def revisions_url(form_id):
    return f"{MONOGRAPH_ADMIN}{form_id}/revisions/"


def newest_history_ids():
    return {
        model: model.history.order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
        or 0
        for model in HISTORY_MODELS
    }


def records_since(ids):
    """Historical records of every model written after ``ids`` (newest_history_ids)."""
    return [
        record
        for model, newest in ids.items()
        for record in model.history.filter(history_id__gt=newest)
    ]


def history_table(response):
    """The change-history table of simple-history's history page."""
    html = response.content.decode()
    start = html.index('<table id="change-history"')
    return html[start : html.index("</table>", start)]


def cited_keys(row):
    return sorted(row.citations.values_list("key", flat=True))


class MonographSetup:
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory()
        cls.superuser = factories.SuperuserFactory()
        cls.schuette = factories.CitationFactory(key="schuette1994")
        cls.rawji = factories.CitationFactory(key="rawji2024")
        with change_context(reason="First version", user=cls.editor):
            cls.form = factories.MagnesiumFormFactory(
                name="Magnesium glycinate",
                slug="magnesium-glycinate",
                summary="Gentle on the gut.",
            )
            factories.SynonymFactory(
                form=cls.form,
                name="Magnesium bisglycinate",
                slug="magnesium-bisglycinate",
            )
            cls.dose = factories.DoseFactory(
                form=cls.form, notes="Split the dose [@schuette1994]."
            )
            cls.dose.citations.add(cls.schuette)
            cls.evidence = factories.EvidenceFactory(
                form=cls.form, summary="Sleep trials [@schuette1994]."
            )
            cls.evidence.citations.add(cls.schuette)
            cls.faq = factories.FAQFactory(
                form=cls.form, question="Can I take it with food?"
            )
            cls.precaution = factories.PrecautionFactory(form=cls.form)
        cls.first_revision = Revision.objects.get(form=cls.form)
        factories.publish(cls.form, user=cls.reviewer)

    def setUp(self):
        self.client.force_login(self.editor)


class EditSummaryTests(MonographSetup, TestCase):
    def assertRefusedWithNothingWritten(self, response, before):
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Give an edit summary")
        self.assertEqual(recorded_counts(), before)
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Gentle on the gut.")

    def test_a_save_without_a_summary_is_refused_and_nothing_is_written(self):
        data = open_change_form(self.client, self.form)
        data["summary"] = "Gentle on the stomach."
        before = recorded_counts()
        response = self.client.post(change_url(self.form), data)
        self.assertRefusedWithNothingWritten(response, before)
        self.assertContains(response, "every change needs a reason. Nothing was saved.")
        # The editor's text is still in the form to save again.
        self.assertContains(response, "Gentle on the stomach.")

    def test_a_blank_summary_is_refused(self):
        data = open_change_form(self.client, self.form)
        data.update(summary="Gentle on the stomach.", edit_summary="   ")
        before = recorded_counts()
        response = self.client.post(change_url(self.form), data)
        self.assertRefusedWithNothingWritten(response, before)

    def test_changing_only_an_inline_row_needs_a_summary(self):
        data = open_change_form(self.client, self.form)
        data["doses-0-maximum_mg"] = "250"
        before = recorded_counts()
        response = self.client.post(change_url(self.form), data)
        self.assertRefusedWithNothingWritten(response, before)
        self.dose.refresh_from_db()
        self.assertEqual(self.dose.maximum_mg, 300)

    def test_adding_or_removing_inline_rows_needs_a_summary(self):
        data = open_change_form(self.client, self.form)
        add_inline_row(data, "faqs", question="Is it vegan?", answer="Usually.")
        data["precautions-0-DELETE"] = "on"
        before = recorded_counts()
        response = self.client.post(change_url(self.form), data)
        self.assertRefusedWithNothingWritten(response, before)
        self.assertFalse(FAQ.objects.filter(question="Is it vegan?").exists())
        self.assertTrue(Precaution.objects.filter(pk=self.precaution.pk).exists())

    def test_changing_only_citations_needs_a_summary(self):
        data = open_change_form(self.client, self.form)
        data["evidence-0-citations"] = [str(self.schuette.pk), str(self.rawji.pk)]
        before = recorded_counts()
        response = self.client.post(change_url(self.form), data)
        self.assertRefusedWithNothingWritten(response, before)
        self.assertEqual(cited_keys(self.evidence), ["schuette1994"])

    def test_adding_a_monograph_needs_a_summary(self):
        page = self.client.get(f"{MONOGRAPH_ADMIN}add/")
        data = form_data(page, FORM_ID)
        data.update(
            name="Magnesium malate",
            slug="magnesium-malate",
            category="organic-salt",
            elemental_mg_percent="15.5",
        )
        before = recorded_counts()
        response = self.client.post(f"{MONOGRAPH_ADMIN}add/", data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Give an edit summary")
        self.assertFalse(MagnesiumForm.objects.filter(slug="magnesium-malate").exists())
        self.assertEqual(recorded_counts(), before)

    def test_the_summary_is_the_reason_of_every_row_the_save_wrote(self):
        data = open_change_form(self.client, self.form)
        data["summary"] = "Gentle on the stomach."
        data["doses-0-maximum_mg"] = "250"
        data["evidence-0-summary"] = "Sleep trials [@schuette1994; @rawji2024]."
        data["evidence-0-citations"] = [str(self.schuette.pk), str(self.rawji.pk)]
        data["precautions-0-DELETE"] = "on"
        add_inline_row(data, "faqs", question="Is it vegan?", answer="Usually.")
        data["edit_summary"] = "Update dose, sources and FAQs"
        ids = newest_history_ids()
        revisions = Revision.objects.count()

        response = self.client.post(change_url(self.form), data)

        self.assertEqual(response.status_code, 302)
        self.assertEqual(Revision.objects.count(), revisions + 1)
        revision = Revision.objects.for_form(self.form.pk).order_by("-number").first()
        self.assertEqual(revision.summary, "Update dose, sources and FAQs")
        self.assertEqual(revision.user, self.editor)

        records = records_since(ids)
        # The rows the save touched, and no others (the synonym was untouched).
        self.assertEqual(
            {(type(record).__name__, record.history_type) for record in records},
            {
                ("HistoricalMagnesiumForm", "~"),
                ("HistoricalDose", "~"),
                ("HistoricalEvidence", "~"),
                ("HistoricalPrecaution", "-"),
                ("HistoricalFAQ", "+"),
            },
        )
        for record in records:
            with self.subTest(record=f"{type(record).__name__} {record.history_type}"):
                self.assertEqual(
                    record.history_change_reason, "Update dose, sources and FAQs"
                )
                self.assertEqual(record.history_user, self.editor)
                self.assertEqual(record.revision, revision)
        # The citation change is in the evidence row's history too.
        evidence_record = Evidence.history.filter(id=self.evidence.pk).first()
        self.assertEqual(
            evidence_record.history_change_reason, "Update dose, sources and FAQs"
        )
        self.assertEqual(
            sorted(link.citation.key for link in evidence_record.citations.all()),
            ["rawji2024", "schuette1994"],
        )

    def test_a_citation_only_change_is_recorded_with_the_summary(self):
        data = open_change_form(self.client, self.form)
        data["doses-0-citations"] = [str(self.rawji.pk)]
        data["doses-0-notes"] = "Split the dose [@rawji2024]."
        data["edit_summary"] = "Better source for the dose"
        self.assertEqual(self.client.post(change_url(self.form), data).status_code, 302)
        record = Dose.history.filter(id=self.dose.pk).first()
        self.assertEqual(record.history_change_reason, "Better source for the dose")
        self.assertEqual(
            [link.citation.key for link in record.citations.all()], ["rawji2024"]
        )
        self.assertEqual(cited_keys(self.dose), ["rawji2024"])

    def test_a_save_that_changes_nothing_records_no_revision(self):
        data = open_change_form(self.client, self.form)
        data["edit_summary"] = "Just looking"
        before = recorded_counts()
        response = self.client.post(change_url(self.form), data)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(recorded_counts(), before)
        self.form.refresh_from_db()
        self.assertEqual(self.form.status, MagnesiumForm.Status.PUBLISHED)

    def test_the_revision_list_shows_who_saved_and_why(self):
        data = open_change_form(self.client, self.form)
        data.update(summary="Gentle on the stomach.", edit_summary="Plainer words")
        self.client.post(change_url(self.form), data)
        page = self.client.get(revisions_url(self.form.pk))
        self.assertContains(page, "Plainer words")
        self.assertContains(page, "Erin Editor")
        self.assertContains(page, "First version")


class HistoryPageTests(MonographSetup, TestCase):
    def test_monograph_history_shows_reason_and_changed_fields(self):
        data = open_change_form(self.client, self.form)
        data.update(summary="Gentle on the stomach.", edit_summary="Plainer words")
        self.client.post(change_url(self.form), data)

        page = self.client.get(f"{MONOGRAPH_ADMIN}{self.form.pk}/history/")
        self.assertEqual(page.status_code, 200)
        table = history_table(page)
        self.assertIn("Plainer words", table)
        self.assertIn("First version", table)
        self.assertRegex(
            table,
            r"<strong>Summary:</strong>\s*Gentle on the gut\.\s*"
            r"&nbsp;&rarr;&nbsp;&nbsp;Gentle on the stomach\.",
        )

    def test_an_inline_rows_history_shows_its_changes(self):
        data = open_change_form(self.client, self.form)
        data.update({"doses-0-maximum_mg": "250", "edit_summary": "Lower dose"})
        self.client.post(change_url(self.form), data)

        page = self.client.get(f"/admin/monographs/dose/{self.dose.pk}/history/")
        self.assertEqual(page.status_code, 200)
        table = history_table(page)
        self.assertIn("Lower dose", table)
        self.assertRegex(
            table,
            r"<strong>Maximum \(mg elemental Mg/day\):</strong>\s*300\s*"
            r"&nbsp;&rarr;&nbsp;&nbsp;250",
        )
        self.assertRegex(
            table,
            r"<strong>Citations:</strong>\s*\[\]\s*&nbsp;&rarr;&nbsp;&nbsp;\[schuette1994\]",
        )

    def test_every_content_model_has_a_history_page(self):
        objects = {
            "magnesiumform": self.form,
            "synonym": Synonym.objects.get(form=self.form),
            "evidence": self.evidence,
            "formsideeffect": factories.FormSideEffectFactory(form=self.form),
            "dose": self.dose,
            "interaction": factories.InteractionFactory(form=self.form),
            "precaution": self.precaution,
            "faq": self.faq,
            "citation": self.schuette,
            "indication": self.evidence.indication,
            "sideeffect": factories.SideEffectFactory(),
        }
        for model_name, instance in objects.items():
            with self.subTest(model=model_name):
                page = self.client.get(
                    f"/admin/monographs/{model_name}/{instance.pk}/history/"
                )
                self.assertEqual(page.status_code, 200)
                self.assertContains(page, 'id="change-history"')


class DeletionTests(MonographSetup, TestCase):
    def setUp(self):
        self.client.force_login(self.superuser)
        self.delete_url = f"{MONOGRAPH_ADMIN}{self.form.pk}/delete/"

    def test_the_delete_page_asks_for_a_reason(self):
        page = self.client.get(self.delete_url)
        self.assertContains(page, "Reason for deleting")
        action, data = find_form(page, 'name="edit_summary"')
        self.assertIn("edit_summary", data)
        self.assertEqual(data["post"], "yes")

    def test_the_delete_page_lists_content_not_join_rows_or_the_index(self):
        page = self.client.get(self.delete_url)
        self.assertContains(page, "Dose: ")
        self.assertContains(page, "Evidence: ")
        # A citation link's join row ("Dose_citations object (1)") and the
        # search index are no content an editor knows.
        self.assertNotContains(page, "_citations object")
        self.assertNotContains(page, "citation relationship")
        self.assertNotContains(page, "Search document")

    def test_deleting_without_a_reason_is_refused(self):
        page = self.client.get(self.delete_url)
        action, data = find_form(page, 'name="edit_summary"')
        before = recorded_counts()
        response = self.client.post(action, data, follow=True)
        self.assertContains(response, "Give a reason for the deletion")
        self.assertTrue(MagnesiumForm.objects.filter(pk=self.form.pk).exists())
        self.assertEqual(Dose.objects.filter(form=self.form).count(), 1)
        self.assertEqual(recorded_counts(), before)

    def test_the_reason_is_recorded_on_every_deleted_row(self):
        page = self.client.get(self.delete_url)
        action, data = find_form(page, 'name="edit_summary"')
        data["edit_summary"] = "Duplicate of another monograph"
        ids = newest_history_ids()

        response = self.client.post(action, data)

        self.assertEqual(response.status_code, 302)
        self.assertFalse(MagnesiumForm.objects.filter(pk=self.form.pk).exists())
        records = records_since(ids)
        deleted = {type(record).__name__ for record in records}
        self.assertEqual(
            deleted,
            {
                "HistoricalMagnesiumForm",
                "HistoricalSynonym",
                "HistoricalDose",
                "HistoricalEvidence",
                "HistoricalFAQ",
                "HistoricalPrecaution",
            },
        )
        for record in records:
            with self.subTest(record=type(record).__name__):
                self.assertEqual(record.history_type, "-")
                self.assertEqual(
                    record.history_change_reason, "Duplicate of another monograph"
                )
                self.assertEqual(record.history_user, self.superuser)
        revision = Revision.objects.for_form(self.form.pk).order_by("-number").first()
        self.assertEqual(revision.summary, "Duplicate of another monograph")
        self.assertTrue(revision.deleted)
        # Withdrawn from readers at once; its approved history stays readable.
        self.assertEqual(Client().get("/forms/magnesium-glycinate/").status_code, 410)


def confirm(client, form_id, number, reason="Back to the reviewed text", verb="revert"):
    """Open the confirmation page of a revert (or undo); its form, with a reason."""
    page = client.get(f"{revisions_url(form_id)}{number}/{verb}/")
    assert page.status_code == 200, page.status_code
    action, data = find_form(page, 'name="reason"')
    data["reason"] = reason
    return action, data


class DeletedWhileEditingTests(MonographSetup, TestCase):
    def test_a_save_after_the_deletion_says_who_deleted_it_and_keeps_the_typing(self):
        data = open_change_form(self.client, self.form)
        data["summary"] = "My long careful rewrite of the summary."
        data["faqs-0-answer"] = "My new answer."
        data["edit_summary"] = "Rewrote the summary"
        services.monograph_delete(
            form=self.form, user=self.superuser, reason="Duplicate monograph"
        )
        before = recorded_counts()

        response = self.client.post(change_url(self.form), data)

        self.assertContains(response, "was deleted meanwhile", status_code=409)
        self.assertContains(response, "Duplicate monograph", status_code=409)
        for typed in (
            "My long careful rewrite of the summary.",
            "My new answer.",
            "Rewrote the summary",
        ):
            self.assertContains(response, typed, status_code=409)
        # Only what the editor changed: not what the monograph held already.
        self.assertNotContains(response, "Can I take it with food?", status_code=409)
        self.assertNotContains(response, "__prefix__", status_code=409)
        self.assertContains(response, "FAQs 1: Answer", status_code=409)
        self.assertEqual(recorded_counts(), before)
        self.assertFalse(MagnesiumForm.objects.filter(pk=self.form.pk).exists())

    def test_a_review_posted_after_the_deletion_keeps_the_comment(self):
        self.client.force_login(self.reviewer)
        number = Revision.objects.latest_number(self.form.pk)
        services.monograph_delete(
            form=self.form, user=self.superuser, reason="Duplicate monograph"
        )
        response = self.client.post(
            f"{MONOGRAPH_ADMIN}{self.form.pk}/review/",
            {
                "decision": "approve",
                "revision": number,
                "comment": "Checked every dose.",
            },
        )
        self.assertContains(response, "was deleted meanwhile", status_code=409)
        self.assertContains(response, "Checked every dose.", status_code=409)
        self.assertNotContains(response, ">approve<", status_code=409)

    def test_a_monograph_that_never_existed_is_still_djangos_answer(self):
        response = self.client.post(f"{MONOGRAPH_ADMIN}987654/change/", {})
        self.assertEqual(response.status_code, 302)


class RevertTests(MonographSetup, TestCase):
    def change_everything(self):
        data = open_change_form(self.client, self.form)
        data["summary"] = "Rewritten summary."
        data["doses-0-maximum_mg"] = "250"
        data["doses-0-notes"] = "Once a day [@rawji2024]."
        data["doses-0-citations"] = [str(self.rawji.pk)]
        data["faqs-0-DELETE"] = "on"
        add_inline_row(
            data,
            "interactions",
            drug_class="Bisphosphonates",
            significance="moderate",
            mechanism="Less absorbed.",
            management="Separate by 2 h.",
        )
        data["edit_summary"] = "Big rewrite"
        self.assertEqual(self.client.post(change_url(self.form), data).status_code, 302)

    def test_revert_to_an_earlier_revision_restores_rows_and_citations(self):
        self.change_everything()
        target = self.first_revision.number
        page = self.client.get(revisions_url(self.form.pk))
        self.assertContains(page, f"Revert to revision {target}")
        action, data = confirm(self.client, self.form.pk, target, reason="Too much")
        ids = newest_history_ids()

        response = self.client.post(action, data, follow=True)

        latest = Revision.objects.for_form(self.form.pk).order_by("-number").first()
        self.assertContains(
            response,
            f"Magnesium glycinate is back to revision {target}, saved as revision "
            f"{latest.number}.",
        )
        self.assertEqual(latest.summary, f"Reverted to revision {target}: Too much")
        self.assertEqual(latest.user, self.editor)
        self.assertContains(response, f"Reverted to revision {target}: Too much")

        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Gentle on the gut.")
        dose = Dose.objects.get(form=self.form)
        self.assertEqual(dose.maximum_mg, 300)
        self.assertEqual(dose.notes, "Split the dose [@schuette1994].")
        self.assertEqual(cited_keys(dose), ["schuette1994"])
        self.assertEqual(
            cited_keys(Evidence.objects.get(form=self.form)), ["schuette1994"]
        )
        self.assertTrue(FAQ.objects.filter(pk=self.faq.pk).exists())
        self.assertFalse(self.form.interactions.exists())

        for record in records_since(ids):
            with self.subTest(record=type(record).__name__):
                self.assertEqual(
                    record.history_change_reason,
                    f"Reverted to revision {target}: Too much",
                )
                self.assertEqual(record.revision, latest)

    def test_a_revert_needs_review_before_readers_see_it(self):
        self.change_everything()
        self.client.force_login(self.reviewer)
        submit(self.client, self.form)
        decide(self.client, self.form, "approve")
        self.assertContains(
            Client().get("/forms/magnesium-glycinate/"), "Rewritten summary."
        )

        action, data = confirm(self.client, self.form.pk, self.first_revision.number)
        self.client.post(action, data)
        self.form.refresh_from_db()
        self.assertEqual(self.form.status, MagnesiumForm.Status.PUBLISHED_WITH_CHANGES)
        public = Client().get("/forms/magnesium-glycinate/")
        self.assertContains(public, "Rewritten summary.")
        self.assertContains(
            self.client.get("/forms/magnesium-glycinate/draft/"), "Gentle on the gut."
        )

    def test_the_current_revision_has_no_revert_button(self):
        self.change_everything()
        latest = Revision.objects.latest_number(self.form.pk)
        page = self.client.get(revisions_url(self.form.pk))
        self.assertNotContains(page, f"Revert to revision {latest}<")
        self.assertContains(page, f"Revert to revision {latest - 1}<")


class RecoveryTests(MonographSetup, TestCase):
    def delete_monograph(self, reason="Duplicate"):
        self.client.force_login(self.superuser)
        page = self.client.get(f"{MONOGRAPH_ADMIN}{self.form.pk}/delete/")
        action, data = find_form(page, 'name="edit_summary"')
        data["edit_summary"] = reason
        self.assertEqual(self.client.post(action, data).status_code, 302)

    def test_a_deleted_monograph_is_listed_with_its_reason(self):
        self.delete_monograph("Merged into magnesium bisglycinate")
        page = self.client.get(f"{MONOGRAPH_ADMIN}deleted/")
        self.assertContains(page, "Magnesium glycinate")
        self.assertContains(page, "Merged into magnesium bisglycinate")
        self.assertContains(
            page, f'action="{MONOGRAPH_ADMIN}deleted/{self.form.pk}/recover/"'
        )
        # Linked from the monograph list.
        self.assertContains(
            self.client.get(MONOGRAPH_ADMIN), f'href="{MONOGRAPH_ADMIN}deleted/"'
        )

    def test_recovering_a_deleted_monograph_brings_back_its_rows(self):
        self.delete_monograph()
        # Recovering undoes a deletion: reviewers may, as they may delete.
        self.client.force_login(self.reviewer)
        page = self.client.get(f"{MONOGRAPH_ADMIN}deleted/")
        action, data = find_form(page, f"deleted/{self.form.pk}/recover/")
        ids = newest_history_ids()

        response = self.client.post(action, data, follow=True)

        self.assertContains(
            response,
            "Recovered Magnesium glycinate. It needs review before readers see it again.",
        )
        self.assertEqual(response.request["PATH_INFO"], change_url(self.form))
        form = MagnesiumForm.objects.get(pk=self.form.pk)
        self.assertEqual(form.summary, "Gentle on the gut.")
        self.assertEqual(form.status, MagnesiumForm.Status.DRAFT)
        self.assertEqual(
            list(form.synonyms.values_list("name", flat=True)),
            ["Magnesium bisglycinate"],
        )
        self.assertEqual(cited_keys(form.doses.get()), ["schuette1994"])
        self.assertEqual(cited_keys(form.evidence.get()), ["schuette1994"])
        self.assertEqual(form.faqs.get().question, "Can I take it with food?")
        self.assertEqual(form.precautions.count(), 1)

        revision = Revision.objects.for_form(form.pk).order_by("-number").first()
        self.assertRegex(
            revision.summary, r"^Recovered after deletion, as of revision \d+$"
        )
        self.assertEqual(revision.user, self.reviewer)
        records = records_since(ids)
        self.assertTrue(records)
        for record in records:
            with self.subTest(record=type(record).__name__):
                self.assertEqual(record.history_change_reason, revision.summary)
                self.assertEqual(record.history_user, self.reviewer)

        self.assertNotContains(
            self.client.get(f"{MONOGRAPH_ADMIN}deleted/"), "Magnesium glycinate"
        )
        # Readers wait for a reviewer: the page says it was withdrawn.
        self.assertEqual(Client().get("/forms/magnesium-glycinate/").status_code, 410)

    def test_a_recovery_is_reviewed_against_what_readers_saw_before_the_deletion(
        self,
    ):
        published = self.form.published_revision
        self.assertIsNotNone(published)
        self.delete_monograph()
        deletion = Revision.objects.latest_for(self.form.pk)
        self.client.force_login(self.reviewer)
        page = self.client.get(f"{MONOGRAPH_ADMIN}deleted/")
        action, data = find_form(page, f"deleted/{self.form.pk}/recover/")
        self.client.post(action, data)

        review = self.client.get(f"{MONOGRAPH_ADMIN}{self.form.pk}/review/")
        self.assertContains(
            review,
            f"Changes against revision {published.number}, what readers "
            f"saw until revision {deletion.number} deleted the monograph: "
            "approving publishes it again",
        )
        # The recovery restored what was published: nothing shows as new.
        self.assertNotContains(review, "<ins>")
        self.assertNotContains(review, "never published")

    def test_a_deleted_row_comes_back_by_reverting(self):
        data = open_change_form(self.client, self.form)
        data["doses-0-DELETE"] = "on"
        data["edit_summary"] = "The dose was for another form"
        self.assertEqual(self.client.post(change_url(self.form), data).status_code, 302)
        self.assertFalse(Dose.objects.filter(pk=self.dose.pk).exists())
        before = Revision.objects.for_form(self.form.pk).order_by("-number")[1]

        page = self.client.get(revisions_url(self.form.pk))
        self.assertContains(page, "The dose was for another form")
        action, post = confirm(
            self.client, self.form.pk, before.number, reason="The dose was right"
        )
        response = self.client.post(action, post, follow=True)

        self.assertContains(response, f"is back to revision {before.number}")
        dose = Dose.objects.get(pk=self.dose.pk)
        self.assertEqual((dose.minimum_mg, dose.maximum_mg), (125, 300))
        self.assertEqual(cited_keys(dose), ["schuette1994"])
        revision = Revision.objects.for_form(self.form.pk).order_by("-number").first()
        self.assertEqual(
            revision.summary,
            f"Reverted to revision {before.number}: The dose was right",
        )
        self.assertEqual(revision.user, self.editor)

        # Posted again, the stale confirmation changes nothing twice.
        again = self.client.post(action, post, follow=True)
        self.assertContains(again, "is the same as the current content")
        # And the revisions page no longer offers it.
        self.assertNotContains(
            self.client.get(revisions_url(self.form.pk)),
            f"Revert to revision {before.number}<",
        )


class RevertConfirmationTests(MonographSetup, TestCase):
    def setUp(self):
        super().setUp()
        data = open_change_form(self.client, self.form)
        data.update(summary="Rewritten summary.", edit_summary="Rewrite")
        self.assertEqual(self.client.post(change_url(self.form), data).status_code, 302)
        self.url = f"{revisions_url(self.form.pk)}{self.first_revision.number}/revert/"

    def test_the_confirmation_shows_what_changes_and_asks_why(self):
        page = self.client.get(self.url)
        self.assertContains(page, "What will change")
        self.assertContains(page, "Gentle")
        self.assertContains(page, 'name="reason"')
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Rewritten summary.")

    def test_a_revert_without_a_reason_is_refused(self):
        action, data = confirm(self.client, self.form.pk, self.first_revision.number)
        data["reason"] = "  "
        response = self.client.post(action, data)
        self.assertContains(response, "Give a reason", status_code=400)
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Rewritten summary.")

    def test_a_revert_confirmed_after_a_later_save_shows_the_changes_again(self):
        action, data = confirm(self.client, self.form.pk, self.first_revision.number)
        # Meanwhile another editor saves: the page showed a diff without it.
        other = open_change_form(self.client, self.form)
        other.update(dosage_notes="A note saved meanwhile.", edit_summary="Meanwhile")
        self.assertEqual(
            self.client.post(change_url(self.form), other).status_code, 302
        )
        revisions = Revision.objects.count()

        response = self.client.post(action, data)

        self.assertContains(response, "after you opened this page", status_code=409)
        self.assertContains(response, "A note saved meanwhile.", status_code=409)
        self.assertContains(
            response, 'value="Back to the reviewed text"', status_code=409
        )
        self.assertEqual(Revision.objects.count(), revisions)
        # Confirmed from the page as it is now, it is done.
        _, again = find_form(response, 'name="reason"')
        done = self.client.post(action, again, follow=True)
        self.assertContains(done, "is back to revision")

    def test_an_undo_confirmed_after_a_later_save_shows_the_changes_again(self):
        number = Revision.objects.latest_number(self.form.pk)
        action, data = confirm(self.client, self.form.pk, number, verb="undo")
        other = open_change_form(self.client, self.form)
        other.update(usage="Usage saved meanwhile.", edit_summary="Meanwhile")
        self.client.post(change_url(self.form), other)
        revisions = Revision.objects.count()
        response = self.client.post(action, data)
        self.assertContains(response, "after you opened this page", status_code=409)
        self.assertEqual(Revision.objects.count(), revisions)

    def test_revert_is_not_offered_to_what_the_monograph_already_holds(self):
        latest = Revision.objects.latest_number(self.form.pk)
        page = self.client.get(revisions_url(self.form.pk))
        self.assertNotContains(page, f"Revert to revision {latest}<")
        response = self.client.get(f"{revisions_url(self.form.pk)}{latest}/revert/")
        self.assertRedirects(response, revisions_url(self.form.pk))

    def test_anonymous_readers_are_sent_to_log_in(self):
        for verb in ("revert", "undo"):
            url = f"{revisions_url(self.form.pk)}{self.first_revision.number}/{verb}/"
            response = Client().get(url)
            self.assertEqual(response.status_code, 302)
            self.assertIn("/admin/login/", response["Location"])

    def test_an_unknown_revision_is_a_404(self):
        self.assertEqual(
            self.client.get(f"{revisions_url(self.form.pk)}999/revert/").status_code,
            404,
        )


class UndoTests(MonographSetup, TestCase):
    def save(self, **changes):
        data = open_change_form(self.client, self.form)
        data.update(changes)
        self.assertEqual(self.client.post(change_url(self.form), data).status_code, 302)
        return Revision.objects.latest_number(self.form.pk)

    def undo(self, number, reason="Not what the trial found"):
        action, data = confirm(self.client, self.form.pk, number, reason, verb="undo")
        return self.client.post(action, data, follow=True)

    def test_undo_reverses_one_revision_and_keeps_later_edits(self):
        summary_edit = self.save(summary="Wrong summary.", edit_summary="Summary")
        self.save(usage="Later usage.", edit_summary="Usage")
        page = self.client.get(revisions_url(self.form.pk))
        self.assertContains(page, f"Undo revision {summary_edit}<")

        response = self.undo(summary_edit)

        self.assertContains(
            response, f"The changes of revision {summary_edit} are undone"
        )
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Gentle on the gut.")
        self.assertEqual(self.form.usage, "Later usage.")
        latest = Revision.objects.latest_for(self.form.pk)
        self.assertEqual(
            latest.summary,
            f"Undid revision {summary_edit} by Erin Editor: Not what the trial found",
        )

    def test_undo_of_an_added_row_removes_it_and_of_a_deletion_brings_it_back(self):
        data = open_change_form(self.client, self.form)
        add_inline_row(data, "faqs", question="New question?", answer="New answer.")
        data["doses-0-DELETE"] = "on"
        data["edit_summary"] = "FAQ in, dose out"
        self.client.post(change_url(self.form), data)
        both = Revision.objects.latest_number(self.form.pk)
        self.save(usage="Later usage.", edit_summary="Usage")

        self.undo(both)

        self.assertFalse(FAQ.objects.filter(question="New question?").exists())
        dose = Dose.objects.get(pk=self.dose.pk)
        self.assertEqual(cited_keys(dose), ["schuette1994"])
        self.form.refresh_from_db()
        self.assertEqual(self.form.usage, "Later usage.")

    def test_undo_is_refused_where_a_later_edit_changed_the_same_field(self):
        first = self.save(summary="Second summary.", edit_summary="Summary")
        self.save(summary="Third summary.", edit_summary="Summary again")
        page = self.client.get(f"{revisions_url(self.form.pk)}{first}/undo/")
        self.assertContains(page, "cannot be undone automatically")
        self.assertContains(page, "Summary")
        self.assertNotContains(page, 'name="reason"')
        response = self.client.post(
            f"{revisions_url(self.form.pk)}{first}/undo/", {"reason": "Try"}
        )
        self.assertEqual(response.status_code, 200)
        self.form.refresh_from_db()
        self.assertEqual(self.form.summary, "Third summary.")

    def test_the_first_revision_cannot_be_undone(self):
        response = self.client.get(
            f"{revisions_url(self.form.pk)}{self.first_revision.number}/undo/",
            follow=True,
        )
        self.assertContains(response, "created the monograph")


class ReviewPageSummaryTests(MonographSetup, TestCase):
    def test_the_review_page_lists_every_revision_it_approves(self):
        data = open_change_form(self.client, self.form)
        data.update(summary="One.", edit_summary="First pending edit")
        self.client.post(change_url(self.form), data)
        data = open_change_form(self.client, self.form)
        data.update(usage="Two.", edit_summary="Second pending edit")
        self.client.post(change_url(self.form), data)
        self.client.force_login(self.reviewer)
        page = self.client.get(f"{MONOGRAPH_ADMIN}{self.form.pk}/review/")
        self.assertContains(page, "Revisions this approves")
        self.assertContains(page, "First pending edit")
        self.assertContains(page, "Second pending edit")
