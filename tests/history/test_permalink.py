"""Permalinks: /forms/<slug>/revisions/<n>/ shows the monograph exactly as it was."""

from django.test import TestCase

from monographs.history import change_context
from tests import factories
from tests.history.helpers import (
    approve,
    create_monograph,
    edit,
    page_text,
    request_changes,
    revision,
    shows_time,
)


class PermalinkTests(TestCase):
    """Revision 1 (approved) has every kind of row; revision 2 (approved) rewrites the summary."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory(
            first_name="Rita", last_name="Reviewer"
        )
        cls.citation = factories.CitationFactory(
            key="sleep2019", title="Magnesium and sleep in older adults"
        )
        cls.indication = factories.IndicationFactory(name="Sleep quality")
        cls.symptom = factories.SideEffectFactory(name="Loose stools")
        with change_context(reason="Wrote the monograph", user=cls.editor):
            cls.form = factories.MagnesiumFormFactory(
                name="Magnesium glycinate",
                slug="magnesium-glycinate",
                summary="Glycinate is gentle on the stomach.",
            )
            cls.evidence = factories.EvidenceFactory(
                form=cls.form,
                indication=cls.indication,
                summary="Two small trials found better sleep.",
            )
            cls.evidence.citations.add(cls.citation)
            cls.side_effect = factories.FormSideEffectFactory(
                form=cls.form, side_effect=cls.symptom, notes="Only at high doses."
            )
            cls.dose = factories.DoseFactory(
                form=cls.form, population="Adults", notes="Take with the evening meal."
            )
            cls.interaction = factories.InteractionFactory(
                form=cls.form, drug_class="Bisphosphonates"
            )
            cls.precaution = factories.PrecautionFactory(
                form=cls.form, label="Kidney disease", text="Ask a doctor first."
            )
            cls.faq = factories.FAQFactory(
                form=cls.form, question="Does it cause drowsiness?", answer="Rarely."
            )
        approve(cls.form, cls.reviewer)
        edit(
            cls.form,
            cls.editor,
            "Rewrote the summary",
            summary="Glycinate is a chelate of glycine.",
        )
        approve(cls.form, cls.reviewer)

    def permalink(self, number):
        return f"/forms/{self.form.slug}/revisions/{number}/"

    def test_shows_the_text_of_that_revision(self):
        old = self.client.get(self.permalink(1))
        self.assertEqual(old.status_code, 200)
        self.assertContains(old, "Glycinate is gentle on the stomach.")
        self.assertNotContains(old, "chelate of glycine")
        new = self.client.get(self.permalink(2))
        self.assertContains(new, "Glycinate is a chelate of glycine.")
        self.assertNotContains(new, "gentle on the stomach")

    def test_shows_every_row_and_citation_of_that_revision(self):
        text = page_text(self.client.get(self.permalink(1)))
        for expected in [
            "Sleep quality",
            "Two small trials found better sleep.",
            "Loose stools",
            "Only at high doses.",
            "Take with the evening meal.",
            "Bisphosphonates",
            "Kidney disease",
            "Ask a doctor first.",
            "Does it cause drowsiness?",
            "Magnesium and sleep in older adults",
        ]:
            self.assertIn(expected, text)

    def test_banner_gives_the_revision_date_and_links_to_the_current_version(self):
        first = revision(self.form, 1)
        response = self.client.get(self.permalink(1))
        self.assertContains(response, 'class="banner" role="status"')
        self.assertContains(response, "Revision 1 of Magnesium glycinate, as saved on")
        banner = response.content.decode().split('class="banner"', 1)[1]
        banner = banner.split("</div>", 1)[0]
        self.assertTrue(shows_time(banner, first.created_at), banner)
        self.assertContains(
            response,
            '<a href="/forms/magnesium-glycinate/">Read the current version</a>',
        )
        self.assertContains(response, "Wrote the monograph")
        self.assertContains(response, '<meta name="robots" content="noindex">')

    def test_stays_the_same_after_a_child_row_is_edited(self):
        with change_context(reason="Reworded rows", user=self.editor):
            self.dose.notes = "Take at any time of day."
            self.dose.save()
            self.evidence.summary = "Trials disagree."
            self.evidence.save()
        approve(self.form, self.reviewer)
        text = page_text(self.client.get(self.permalink(1)))
        self.assertIn("Take with the evening meal.", text)
        self.assertIn("Two small trials found better sleep.", text)
        self.assertNotIn("any time of day", text)
        self.assertNotIn("Trials disagree", text)

    def test_stays_the_same_after_a_child_row_is_deleted(self):
        with change_context(reason="Removed rows", user=self.editor):
            self.faq.delete()
            self.precaution.delete()
            self.evidence.delete()
        approve(self.form, self.reviewer)
        text = page_text(self.client.get(self.permalink(1)))
        self.assertIn("Does it cause drowsiness?", text)
        self.assertIn("Ask a doctor first.", text)
        self.assertIn("Two small trials found better sleep.", text)
        self.assertIn("Magnesium and sleep in older adults", text)
        current = page_text(self.client.get(self.permalink(3)))
        self.assertNotIn("Does it cause drowsiness?", current)

    def test_does_not_show_rows_added_later(self):
        with change_context(reason="Added a FAQ", user=self.editor):
            factories.FAQFactory(form=self.form, question="Is it vegan?")
        approve(self.form, self.reviewer)
        self.assertNotContains(self.client.get(self.permalink(2)), "Is it vegan?")
        self.assertContains(self.client.get(self.permalink(3)), "Is it vegan?")

    def test_keeps_the_old_title_after_the_citation_is_edited(self):
        with change_context(reason="Corrected the title", user=self.editor):
            self.citation.title = "Magnesium supplementation and insomnia"
            self.citation.save()
        response = self.client.get(self.permalink(1))
        self.assertContains(response, "Magnesium and sleep in older adults")
        self.assertNotContains(response, "insomnia")

    def test_keeps_the_citation_after_it_is_deleted(self):
        with change_context(reason="Removed a duplicate source", user=self.editor):
            self.citation.delete()
        response = self.client.get(self.permalink(1))
        self.assertContains(response, "Magnesium and sleep in older adults")

    def test_keeps_the_old_name_of_an_indication_renamed_later(self):
        with change_context(reason="Renamed", user=self.editor):
            self.indication.name = "Insomnia"
            self.indication.save()
        response = self.client.get(self.permalink(1))
        self.assertContains(response, "Sleep quality")
        self.assertNotContains(response, "Insomnia")

    def test_an_unapproved_revision_is_404_for_readers_and_visible_to_staff(self):
        edit(self.form, self.editor, "Draft", summary="Unreviewed wording.")
        self.assertEqual(self.client.get(self.permalink(3)).status_code, 404)
        self.client.force_login(self.editor)
        response = self.client.get(self.permalink(3))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Unreviewed wording.")

    def test_a_revision_sent_back_is_404_for_readers(self):
        edit(self.form, self.editor, "Draft", summary="Disputed wording.")
        request_changes(self.form, self.reviewer, "Not yet.")
        self.assertEqual(self.client.get(self.permalink(3)).status_code, 404)

    def test_unknown_revision_numbers_are_404(self):
        self.client.force_login(self.editor)
        for number in [0, 3, 99, 10**30]:
            with self.subTest(number=number):
                self.assertEqual(
                    self.client.get(self.permalink(number)).status_code, 404
                )

    def test_a_number_from_another_forms_history_is_404(self):
        other = create_monograph(self.editor, name="Magnesium other")
        for number in range(2, 6):
            edit(other, self.editor, f"Edit {number}", summary=f"Other {number}.")
        approve(other, self.reviewer)
        self.assertEqual(self.client.get(self.permalink(5)).status_code, 404)
        self.assertEqual(
            self.client.get(f"/forms/{other.slug}/revisions/5/").status_code, 200
        )

    def test_a_citation_created_in_the_same_save_is_shown(self):
        with change_context(reason="Cited a new source", user=self.editor):
            form = factories.MagnesiumFormFactory(name="Magnesium citrate")
            citation = factories.CitationFactory(
                key="citrate2021", title="Citrate bioavailability trial"
            )
            dose = factories.DoseFactory(form=form, notes="With water.")
            dose.citations.add(citation)
        approve(form, self.reviewer)
        response = self.client.get(f"/forms/{form.slug}/revisions/1/")
        self.assertContains(response, "Citrate bioavailability trial")
        self.assertContains(
            self.client.get(f"/forms/{form.slug}/"), "Citrate bioavailability trial"
        )


class UnpublishedPermalinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.form = create_monograph(cls.editor, summary="Never reviewed.")

    def test_readers_get_404_for_a_never_published_monograph(self):
        response = self.client.get(f"/forms/{self.form.slug}/revisions/1/")
        self.assertEqual(response.status_code, 404)

    def test_staff_see_it_without_a_link_to_a_current_version(self):
        self.client.force_login(self.editor)
        response = self.client.get(f"/forms/{self.form.slug}/revisions/1/")
        self.assertContains(response, "Never reviewed.")
