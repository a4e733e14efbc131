from django.test import TestCase

from monographs.history import change_context
from monographs.models import Evidence, MagnesiumForm
from tests import factories


class ContentHistoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.StaffFactory(username="ed")
        cls.citation = factories.CitationFactory(key="rawji2024")
        cls.other_citation = factories.CitationFactory(key="schuette1994")

    def test_create_is_recorded_with_reason_and_author(self):
        with change_context(reason="New monograph", user=self.editor):
            form = factories.MagnesiumFormFactory(name="Magnesium malate")
        record = form.history.get()
        self.assertEqual(record.history_type, "+")
        self.assertEqual(record.history_change_reason, "New monograph")
        self.assertEqual(record.history_user, self.editor)
        self.assertEqual(record.name, "Magnesium malate")

    def test_update_keeps_the_old_and_the_new_value(self):
        form = factories.MagnesiumFormFactory(summary="Old summary.")
        with change_context(reason="Clarify summary", user=self.editor):
            form.summary = "New summary."
            form.save()
        latest, first = form.history.all()[:2]
        self.assertEqual(latest.history_type, "~")
        self.assertEqual(latest.summary, "New summary.")
        self.assertEqual(first.summary, "Old summary.")
        self.assertEqual(latest.history_change_reason, "Clarify summary")
        delta = latest.diff_against(first)
        self.assertEqual([change.field for change in delta.changes], ["summary"])

    def test_delete_is_recorded_and_the_row_can_be_rebuilt(self):
        form = factories.MagnesiumFormFactory(name="Magnesium orotate")
        pk = form.pk
        with change_context(reason="Duplicate of another form", user=self.editor):
            form.delete()
        self.assertFalse(MagnesiumForm.objects.filter(pk=pk).exists())
        record = MagnesiumForm.history.filter(id=pk).latest()
        self.assertEqual(record.history_type, "-")
        self.assertEqual(record.history_change_reason, "Duplicate of another form")
        self.assertEqual(record.instance.name, "Magnesium orotate")

    def test_child_row_changes_are_recorded(self):
        evidence = factories.EvidenceFactory(outcome="sleep latency")
        pk = evidence.pk
        with change_context(reason="Name the outcome", user=self.editor):
            evidence.outcome = "sleep onset latency"
            evidence.save()
            evidence.delete()
        types = list(
            Evidence.history.filter(id=pk).values_list("history_type", flat=True)
        )
        self.assertEqual(types, ["-", "~", "+"])

    def test_citation_changes_are_recorded_per_revision(self):
        evidence = factories.EvidenceFactory()
        with change_context(reason="Add source", user=self.editor):
            evidence.citations.add(self.citation)
        with change_context(reason="Swap source", user=self.editor):
            evidence.citations.remove(self.citation)
            evidence.citations.add(self.other_citation)
        records = list(evidence.history.all())
        cited = [
            sorted(row.citation.key for row in record.citations.all())
            for record in records
        ]
        self.assertEqual(cited[-1], [])
        self.assertIn(["rawji2024"], cited)
        self.assertEqual(cited[0], ["schuette1994"])
        self.assertEqual(records[0].history_change_reason, "Swap source")

    def test_explicit_reason_on_an_instance_wins_over_the_context(self):
        form = factories.MagnesiumFormFactory()
        with change_context(reason="Batch edit", user=self.editor):
            form._change_reason = "Fix typo"
            form.summary = "Fixed."
            form.save()
        self.assertEqual(form.history.first().history_change_reason, "Fix typo")

    def test_context_is_cleared_afterwards(self):
        with change_context(reason="Inside", user=self.editor):
            pass
        form = factories.MagnesiumFormFactory()
        record = form.history.get()
        self.assertIsNone(record.history_change_reason)
        self.assertIsNone(record.history_user)
