"""A run's index of the forms answers as the database does.

ImportRun.form_by_name stands in for MagnesiumForm.objects.by_name, and
FormNames.constraints_validate for MagnesiumForm.validate_constraints, in a
folder import: both must give the same answers, the same errors.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.test import TestCase

from monographs.models import MagnesiumForm
from monographs.services.importing_bulk import FormNames, ImportRun
from tests import factories


class FormByNameTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        glycinate = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        factories.SynonymFactory(
            form=glycinate, name="Bisglycinate", slug="bisglycinate"
        )
        factories.MagnesiumFormFactory(name="Oxide", slug="oxide")
        citrate = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate"
        )
        # A synonym naming another form: two forms match one name.
        factories.SynonymFactory(form=citrate, name="Oxide", slug="oxide-2")
        factories.MagnesiumFormFactory(name="Magnésium lactate", slug="lactate")

    NAMES = [
        "Magnesium glycinate",
        "magnesium GLYCINATE",
        "  Magnesium glycinate  ",
        "glycinate",
        "magnesium-glycinate",
        "Bisglycinate",
        "bisglycinate",
        "Magnesium bisglycinate",
        "Oxide",
        "Magnesium oxide",
        "magnesium citrate",
        "Citrate",
        "Magnésium lactate",
        "MAGNÉSIUM LACTATE",
        "Lactate",
        "Magnesium lactate",
        "Nothing of the kind",
        "",
    ]

    def test_the_index_finds_what_by_name_finds(self):
        run = ImportRun()
        for name in self.NAMES:
            with self.subTest(name=name):
                self.assertEqual(
                    run.form_by_name(name), MagnesiumForm.objects.by_name(name)
                )

    def test_forms_and_synonyms_a_kept_file_wrote_are_found(self):
        run = ImportRun()
        run.form_by_name("anything")  # the index is read
        form = factories.MagnesiumFormFactory(name="Magnesium new", slug="new")
        synonym = factories.SynonymFactory(form=form, name="Newer", slug="newer")
        run.file_started()
        run.form_written(form, [synonym])
        run.file_ended(kept=False)
        self.assertIsNone(run.form_by_name("Magnesium new"))
        run.file_started()
        run.form_written(form, [synonym])
        run.file_ended(kept=True)
        for name in ["Magnesium new", "new", "Newer", "magnesium newer"]:
            with self.subTest(name=name):
                self.assertEqual(run.form_by_name(name), form)
                self.assertEqual(MagnesiumForm.objects.by_name(name), form)


class ConstraintTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.existing = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )

    def errors(self, check, form):
        try:
            check(exclude=set())
        except ValidationError as error:
            return error.message_dict
        return None

    def test_the_same_errors_as_validate_constraints(self):
        names = FormNames.read()
        cases = [
            {"name": "Magnesium glycinate", "slug": "other"},
            {"name": "Other", "slug": "magnesium-glycinate"},
            {"name": "Magnesium glycinate", "slug": "magnesium-glycinate"},
            {"name": "magnesium glycinate", "slug": "other"},
            {"name": "Other", "slug": "other", "elemental_mg_percent": Decimal(0)},
            {"name": "Other", "slug": "other", "elemental_mg_percent": Decimal(100)},
            {
                "name": "Other",
                "slug": "other",
                "elemental_mg_percent": Decimal("100.01"),
            },
            {"name": "Other", "slug": "other", "elemental_mg_percent": None},
            {"name": "Other", "slug": "other"},
        ]
        for values in cases:
            form = MagnesiumForm(
                category="organic-salt",
                **{"elemental_mg_percent": Decimal("12.5"), **values},
            )
            with self.subTest(values=values):
                self.assertEqual(
                    self.errors(
                        lambda exclude, form=form: names.constraints_validate(
                            form, exclude=exclude
                        ),
                        form,
                    ),
                    self.errors(form.validate_constraints, form),
                )
        # The form itself is no clash.
        self.assertIsNone(
            self.errors(
                lambda exclude: names.constraints_validate(
                    self.existing, exclude=exclude
                ),
                self.existing,
            )
        )
