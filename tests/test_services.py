from django.test import SimpleTestCase, TestCase

from monographs.history import change_context
from monographs.models import MagnesiumForm
from monographs.schema import ROW_KINDS
from monographs.services.merging import (
    BOTH_CHANGED,
    DELETED_BY_ME,
    DELETED_BY_THEM,
    FORM,
    Slot,
    document_apply,
    merge_documents,
)
from tests import factories


class MonographSaveTests(TestCase):
    def test_a_copy_loaded_before_approval_does_not_undo_it(self):
        editor = factories.EditorFactory()
        form = factories.MagnesiumFormFactory(summary="First.")
        stale = MagnesiumForm.objects.get(pk=form.pk)
        factories.publish(form)
        with change_context(reason="Later edit", user=editor):
            stale.summary = "Second."
            stale.save()
        form.refresh_from_db()
        self.assertIsNotNone(form.published_revision)
        self.assertEqual(form.published_revision.number, 1)
        self.assertEqual(form.status, MagnesiumForm.Status.PUBLISHED_WITH_CHANGES)
        self.assertContains(self.client.get(form.get_absolute_url()), "First.")


def document(form=None, **rows):
    """A small document: the form's fields and rows by kind."""
    return {
        "form": {"name": "Magnesium glycinate", "summary": "Base.", **(form or {})},
        "rows": {kind.name: rows.get(kind.name, []) for kind in ROW_KINDS},
        "citations": {},
        "topics": {"indication": {}, "side_effect": {}},
    }


def dose(row_id, **values):
    return {
        "id": row_id,
        "population": "Adults",
        "purpose": "General",
        "minimum_mg": 100,
        "maximum_mg": 300,
        "timing": "",
        "notes": "",
        "exceeds_ul_acknowledged": False,
        "position": 0,
        "citations": [],
        **values,
    }


class MergeDocumentsTests(SimpleTestCase):
    """monographs.services.merging: pure three-way merges of documents."""

    def test_changes_to_different_fields_merge(self):

        base = document({"usage": "Sleep."})
        theirs = document({"usage": "Sleep.", "summary": "Theirs."})
        mine = {"form": {"summary": "Base.", "usage": "Sleep and cramps."}}
        result = merge_documents(base, theirs, mine)
        self.assertTrue(result.clean)
        self.assertEqual(result.take_theirs, {Slot(FORM, None, "summary"): "Theirs."})
        self.assertEqual(result.merged, ["Summary"])

    def test_the_same_change_on_both_sides_is_no_conflict(self):

        result = merge_documents(
            document(), document({"summary": "Same."}), {"form": {"summary": "Same."}}
        )
        self.assertTrue(result.clean)
        self.assertEqual(result.take_theirs, {})

    def test_different_changes_to_one_field_conflict(self):

        result = merge_documents(
            document(), document({"summary": "Theirs."}), {"form": {"summary": "Mine."}}
        )
        [conflict] = result.conflicts
        self.assertEqual(conflict.reason, BOTH_CHANGED)
        self.assertEqual(
            (conflict.base, conflict.theirs, conflict.mine),
            ("Base.", "Theirs.", "Mine."),
        )

    def test_posted_strings_compare_with_stored_values(self):

        base = document(doses=[dose(1)])
        theirs = document(doses=[dose(1, notes="Their note.")])
        mine = {
            "rows": {
                "doses": {
                    1: {
                        "minimum_mg": "100",
                        "maximum_mg": "300",
                        "exceeds_ul_acknowledged": False,
                        "notes": "\r\n",
                        "citations": [],
                    }
                }
            }
        }
        result = merge_documents(base, theirs, mine)
        self.assertTrue(result.clean)
        self.assertEqual(list(result.merged), ["Doses “Adults”: Notes"])

    def test_rows_added_and_deleted(self):

        base = document(doses=[dose(1), dose(2), dose(3), dose(4)])
        theirs = document(
            doses=[dose(3, notes="Changed."), dose(4), dose(5, population="Children")]
        )
        mine = {
            "rows": {
                "doses": {1: {"notes": ""}, 2: {"notes": "Mine."}, 3: None, 4: None}
            }
        }
        result = merge_documents(base, theirs, mine)
        self.assertEqual(result.dropped_rows, [("doses", 1)])
        self.assertEqual(result.orphaned_rows, [("doses", 2)])
        self.assertEqual([row["id"] for row in result.their_new_rows["doses"]], [5])
        self.assertEqual(
            [(c.slot.row_id, c.reason) for c in result.conflicts],
            [(2, DELETED_BY_THEM), (3, DELETED_BY_ME)],
        )

    def test_document_apply_undoes_one_revision(self):

        before = document({"usage": "Old."}, doses=[dose(1)])
        after = document({"usage": "New."}, doses=[dose(1), dose(2)])
        later = document(
            {"usage": "New.", "summary": "Later."}, doses=[dose(1), dose(2), dose(3)]
        )
        mine = {
            "form": later["form"],
            "rows": {"doses": {row["id"]: row for row in later["rows"]["doses"]}},
        }
        result = merge_documents(after, before, mine)
        undone = document_apply(later, result, theirs=before)
        self.assertEqual(undone["form"]["usage"], "Old.")
        self.assertEqual(undone["form"]["summary"], "Later.")
        self.assertEqual([row["id"] for row in undone["rows"]["doses"]], [1, 3])
