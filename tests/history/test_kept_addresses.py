"""An address a monograph was published or deleted at stays its own for good.

Its permanent links (/forms/<slug>/revisions/<n>/) and history are found by
that address: if another monograph could take it, they would start showing
that other monograph.
"""

from django.core.exceptions import ValidationError
from django.test import TestCase

from monographs import services
from monographs.models import MagnesiumForm, Synonym
from monographs.services import WorkflowError
from tests import factories
from tests.history.helpers import approve, create_monograph, edit, fresh, page_text


class KeptAddressTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory(
            first_name="Rita", last_name="Reviewer"
        )
        cls.chloride = create_monograph(
            cls.editor, name="Magnesium chloride", slug="magnesium-chloride"
        )
        approve(cls.chloride, cls.reviewer)
        cls.carbonate = create_monograph(
            cls.editor, name="Magnesium carbonate", slug="magnesium-carbonate"
        )
        approve(cls.carbonate, cls.reviewer)

    def assertRefused(self, instance):
        with self.assertRaises(ValidationError) as caught:
            instance.full_clean()
        self.assertIn("slug", caught.exception.message_dict)
        return caught.exception.message_dict["slug"][0]

    def test_a_former_address_cannot_be_taken_by_another_monograph(self):
        edit(self.chloride, self.editor, "Shorter address", slug="mg-chloride")
        approve(self.chloride, self.reviewer)
        carbonate = fresh(self.carbonate)
        carbonate.slug = "magnesium-chloride"
        message = self.assertRefused(carbonate)
        self.assertIn("Magnesium chloride", message)
        # Its permanent link still shows chloride, through the redirect.
        response = self.client.get(
            "/forms/magnesium-chloride/revisions/1/", follow=True
        )
        self.assertIn("Magnesium chloride, revision 1", page_text(response))

    def test_a_new_monograph_cannot_take_a_former_address(self):
        edit(self.chloride, self.editor, "Shorter address", slug="mg-chloride")
        approve(self.chloride, self.reviewer)
        self.assertRefused(
            MagnesiumForm(
                name="Magnesium pidolate",
                slug="magnesium-chloride",
                elemental_mg_percent=8,
            )
        )

    def test_a_synonym_cannot_take_a_former_address(self):
        edit(self.chloride, self.editor, "Shorter address", slug="mg-chloride")
        approve(self.chloride, self.reviewer)
        self.assertRefused(
            Synonym(
                form=fresh(self.carbonate), name="Chloride", slug="magnesium-chloride"
            )
        )

    def test_a_deleted_monographs_address_is_kept_for_its_recovery(self):
        services.monograph_delete(
            form=fresh(self.chloride), user=self.reviewer, reason="Duplicate"
        )
        carbonate = fresh(self.carbonate)
        carbonate.slug = "magnesium-chloride"
        self.assertIn("Magnesium chloride", self.assertRefused(carbonate))

    def test_a_monograph_may_go_back_to_its_own_former_address(self):
        edit(self.chloride, self.editor, "Shorter address", slug="mg-chloride")
        approve(self.chloride, self.reviewer)
        chloride = fresh(self.chloride)
        chloride.slug = "magnesium-chloride"
        chloride.full_clean()

    def test_an_address_never_published_is_free(self):
        draft = create_monograph(self.editor, name="Magnesium draft", slug="mg-draft")
        edit(draft, self.editor, "Renamed before review", slug="mg-draft-2")
        carbonate = fresh(self.carbonate)
        carbonate.slug = "mg-draft"
        carbonate.full_clean()

    def test_recovery_names_a_monograph_that_took_the_address(self):
        services.monograph_delete(
            form=fresh(self.chloride), user=self.reviewer, reason="Duplicate"
        )
        # As data from before the rule could be: saved without validation.
        edit(self.carbonate, self.editor, "Took the address", slug="magnesium-chloride")
        with self.assertRaisesMessage(
            WorkflowError,
            "Magnesium carbonate has taken this monograph's address since it was "
            "deleted: give Magnesium carbonate another address first.",
        ):
            services.monograph_recover(form_id=self.chloride.pk, user=self.reviewer)
