"""What a revision is: one save of a monograph, whatever it touches, numbered 1, 2, 3…"""

from django.test import TestCase

from monographs import services
from monographs.history import change_context
from monographs.models import (
    FAQ,
    Dose,
    Evidence,
    Interaction,
    MagnesiumForm,
    Precaution,
    Revision,
)
from tests import factories
from tests.history.helpers import (
    approve,
    create_monograph,
    edit,
    fresh,
    latest,
    revision_rows,
    text_of,
)

HISTORY_TABLES = [MagnesiumForm, Evidence, Dose, Interaction, Precaution, FAQ]


def numbers(form):
    return list(
        Revision.objects.for_form(form.pk)
        .order_by("number")
        .values_list("number", flat=True)
    )


class RevisionNumberingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.first = factories.CitationFactory(key="first2019")
        cls.second = factories.CitationFactory(key="second2020")
        cls.form = create_monograph(cls.editor, summary="One.")
        with change_context(reason="Added the rows", user=cls.editor):
            cls.evidence = factories.EvidenceFactory(form=cls.form)
            cls.evidence.citations.add(cls.first)
            cls.dose = factories.DoseFactory(form=cls.form)
            cls.interaction = factories.InteractionFactory(form=cls.form)
            cls.precaution = factories.PrecautionFactory(form=cls.form)
            cls.faq = factories.FAQFactory(form=cls.form)

    def setUp(self):
        self.client.force_login(self.editor)

    def test_revisions_are_numbered_one_two_three(self):
        edit(self.form, self.editor, "Third", summary="Three.")
        self.assertEqual(numbers(self.form), [1, 2, 3])
        response = self.client.get(f"/forms/{self.form.slug}/history/")
        self.assertEqual(list(revision_rows(response)), [3, 2, 1])

    def test_one_save_touching_form_rows_and_citations_is_one_revision(self):
        before = Revision.objects.count()
        newest_record = {
            model: model.history.order_by("-history_id").first().history_id
            for model in HISTORY_TABLES
        }
        with change_context(reason="One big edit", user=self.editor):
            form = fresh(self.form)
            form.summary = "Rewritten."
            form.save()
            factories.DoseFactory(form=form, population="Older adults")
            self.faq.answer = "Yes, with a meal."
            self.faq.save()
            self.precaution.delete()
            self.evidence.citations.remove(self.first)
            self.evidence.citations.add(self.second)
            self.interaction.citations.set([self.first, self.second])

        self.assertEqual(Revision.objects.count(), before + 1)
        revision = latest(self.form)
        self.assertEqual(revision.number, 3)
        self.assertEqual(revision.summary, "One big edit")
        self.assertEqual(revision.user, self.editor)
        for model, newest in newest_record.items():
            written = model.history.filter(history_id__gt=newest)
            self.assertTrue(written.exists(), model)
            self.assertEqual(
                set(written.values_list("revision__number", flat=True)), {3}, model
            )
        rows = revision_rows(self.client.get(f"/forms/{self.form.slug}/history/"))
        self.assertEqual(list(rows), [3, 2, 1])
        self.assertIn("One big edit", text_of(rows[3]))

    def test_a_citation_change_alone_is_a_revision(self):
        with change_context(reason="Swapped the source", user=self.editor):
            self.evidence.citations.set([self.second])
        self.assertEqual(numbers(self.form), [1, 2, 3])
        self.assertEqual(latest(self.form).summary, "Swapped the source")

    def test_another_forms_numbering_is_independent(self):
        other = create_monograph(self.editor, name="Magnesium other")
        self.assertEqual(numbers(other), [1])
        with change_context(reason="Edited both", user=self.editor):
            form = fresh(self.form)
            form.summary = "Both."
            form.save()
            factories.FAQFactory(form=other, question="Other?")
        self.assertEqual(numbers(self.form), [1, 2, 3])
        self.assertEqual(numbers(other), [1, 2])
        self.assertEqual(latest(other).summary, "Edited both")
        response = self.client.get(f"/forms/{other.slug}/history/")
        self.assertEqual(list(revision_rows(response)), [2, 1])

    def test_a_save_outside_any_context_is_still_a_revision(self):
        factories.FAQFactory(form=self.form, question="Unrecorded?")
        self.assertEqual(numbers(self.form), [1, 2, 3])

    def test_a_revert_of_many_rows_is_one_revision(self):
        with change_context(reason="Pruned", user=self.editor):
            self.faq.delete()
            self.dose.delete()
            self.interaction.delete()
        revision = services.monograph_revert(
            form=self.form, user=self.editor, revision_number=2
        )
        self.assertEqual(revision.number, 4)
        self.assertEqual(numbers(self.form), [1, 2, 3, 4])
        self.assertEqual(revision.summary, "Reverted to revision 2")
        self.assertEqual(self.form.faqs.count(), 1)
        self.assertEqual(self.form.doses.count(), 1)

    def test_deleting_and_recovering_are_one_revision_each(self):
        form_id = self.form.pk
        with change_context(reason="Duplicate", user=self.editor):
            fresh(self.form).delete()
        self.assertEqual(
            list(
                Revision.objects.for_form(form_id)
                .order_by("number")
                .values_list("number", flat=True)
            ),
            [1, 2, 3],
        )
        revision = services.monograph_recover(form_id=form_id, user=self.editor)
        self.assertEqual(revision.number, 4)
        self.assertEqual(fresh(self.form).faqs.count(), 1)


class RevisionSizeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.form = create_monograph(cls.editor, summary="Ten chars.")

    def test_size_grows_and_shrinks_with_the_text(self):
        first = latest(self.form).size
        self.assertGreater(first, len("Ten chars."))
        second = edit(
            self.form, self.editor, "Longer", summary="Ten chars. And five more."
        )
        self.assertEqual(second.size - first, len(" And five more."))
        with change_context(reason="Added a FAQ", user=self.editor):
            factories.FAQFactory(form=self.form, question="Why?", answer="Because.")
        third = latest(self.form)
        self.assertEqual(third.size - second.size, len("Why?Because."))
        approve(self.form, self.reviewer)
        self.assertEqual(latest(self.form).size, third.size)
