"""Dosing by age and hydrate (issue 15): upper limits per age band, and the
label-weight calculator, which works without script."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import SimpleTestCase, TestCase
from django.urls import reverse

from monographs.calculator import CalculatorError, calculate, example_hydrate
from monographs.models import Dose, MagnesiumForm
from monographs.reference import SALTS_BY_KEY, UPPER_LIMIT_MG
from monographs.services import seed_load
from tests import factories
from tests.public.helpers import forget_cached_pages, page_tree

SULFATE = "/forms/magnesium-sulfate/"


def words(node):
    return " ".join(node.text().split())


class UpperLimitByAgeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory()

    def dose(self, **values):
        return factories.DoseFactory.build(form=self.form, **values)

    def test_the_limits_are_intakes_by_age_band(self):
        self.assertEqual(
            [UPPER_LIMIT_MG[band] for band in Dose.AgeBand],
            [None, 65, 110, 350, 350, 350],
        )

    def test_a_toddlers_100_mg_is_refused_without_acknowledgement(self):
        dose = self.dose(age_band=Dose.AgeBand.AGE_1_3, minimum_mg=50, maximum_mg=100)
        with self.assertRaisesMessage(
            ValidationError,
            "100 mg/day is above the 65 mg/day Tolerable Upper Intake Level for "
            "supplemental magnesium (Children, 1–3 years)",
        ):
            dose.full_clean()
        dose.exceeds_ul_acknowledged = True
        dose.full_clean()

    def test_each_band_is_checked_at_its_own_limit(self):
        for band, limit in [
            (Dose.AgeBand.AGE_1_3, 65),
            (Dose.AgeBand.AGE_4_8, 110),
            (Dose.AgeBand.AGE_9_13, 350),
            (Dose.AgeBand.ADULTS, 350),
        ]:
            with self.subTest(band=band):
                self.dose(age_band=band, minimum_mg=1, maximum_mg=limit).full_clean()
                with self.assertRaises(ValidationError):
                    self.dose(
                        age_band=band, minimum_mg=1, maximum_mg=limit + 1
                    ).full_clean()

    def test_no_limit_is_established_for_infants(self):
        dose = self.dose(age_band=Dose.AgeBand.INFANTS, minimum_mg=10, maximum_mg=20)
        with self.assertRaisesMessage(ValidationError, "No Tolerable Upper Intake"):
            dose.full_clean()
        dose.exceeds_ul_acknowledged = True
        dose.full_clean()

    def test_pregnancy_and_lactation_only_from_14_years(self):
        dose = self.dose(
            age_band=Dose.AgeBand.AGE_9_13, life_stage=Dose.LifeStage.PREGNANCY
        )
        with self.assertRaisesMessage(ValidationError, "recorded from 14 years"):
            dose.full_clean()
        with self.assertRaises(IntegrityError), transaction.atomic():
            dose.save()
        self.dose(
            age_band=Dose.AgeBand.AGE_14_18, life_stage=Dose.LifeStage.LACTATION
        ).full_clean()

    def test_the_page_flags_a_dose_above_its_bands_limit(self):
        dose = factories.DoseFactory(
            form=self.form,
            population="Children 4–8 years",
            age_band=Dose.AgeBand.AGE_4_8,
            minimum_mg=100,
            maximum_mg=200,
            exceeds_ul_acknowledged=True,
            notes="Under medical supervision only.",
        )
        factories.publish(self.form)
        tree = page_tree(self.client.get(self.form.get_absolute_url()))
        row = words(tree.by_id("dosing"))
        self.assertIn("Children, 4–8 years", row)
        self.assertIn("Above the 110 mg/day upper limit", row)
        self.assertEqual(dose.upper_limit_mg, 110)


class HydrateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()
        cls.sulfate = MagnesiumForm.objects.get(slug="magnesium-sulfate")

    def setUp(self):
        forget_cached_pages()

    def test_the_reference_table_lists_the_hydrates_of_forms_csv(self):
        sulfate = SALTS_BY_KEY["sulfate"]
        self.assertEqual(
            [(h.label, h.elemental_mg_percent) for h in sulfate.hydrates],
            [
                ("MgSO4 (anhydrous)", Decimal("20.2")),
                ("MgSO4·7H2O (heptahydrate)", Decimal("9.9")),
            ],
        )
        self.assertEqual(len(SALTS_BY_KEY["glycinate"].hydrates), 1)

    def test_epsom_salt_names_the_heptahydrate(self):
        hydrate, name = example_hydrate(self.sulfate, self.sulfate.synonyms.all())
        self.assertEqual(
            (name, hydrate.elemental_mg_percent), ("Epsom salt", Decimal("9.9"))
        )

    def test_the_epsom_salt_example_is_at_9_9_percent(self):
        tree = page_tree(self.client.get(SULFATE))
        example = words(tree.by_id("label-weight"))
        self.assertIn(
            "Epsom salt is MgSO4·7H2O (heptahydrate), 9.9% magnesium by weight, so "
            "500 mg of it holds about 50 mg of elemental magnesium, and 1,000 mg "
            "about 99 mg.",
            example,
        )
        self.assertNotIn("about 101 mg of elemental", example)

    def test_every_form_page_lists_its_hydrates(self):
        tree = page_tree(self.client.get(SULFATE))
        table = tree.find("table", class_="hydrates")
        rows = [
            [words(cell) for cell in row.children if not isinstance(cell, str)]
            for row in table.find("tbody").find_all("tr")
        ]
        self.assertEqual(
            rows,
            [
                ["MgSO4 (anhydrous)", "20.2%", "101 mg"],
                ["MgSO4·7H2O (heptahydrate) (Epsom salt)", "9.9%", "50 mg"],
            ],
        )


class CalculatorTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()
        cls.sulfate = MagnesiumForm.objects.get(slug="magnesium-sulfate")

    def setUp(self):
        forget_cached_pages()

    def test_label_weight_to_elemental_mg_and_mmol(self):
        result = calculate(self.sulfate, {"label_mg": "500", "hydrate": "heptahydrate"})
        self.assertEqual(result.elemental_mg, Decimal("49.5"))
        self.assertEqual(result.mmol, Decimal("2.04"))
        basis = calculate(self.sulfate, {"label_mg": "1000"})
        self.assertEqual(basis.elemental_mg, Decimal("202.0"))

    def test_thousands_are_read_as_the_page_writes_them(self):
        for text, weight in [
            ("1,000", "1000"),
            ("12,500.5", "12500.5"),
            ("100,000", "100000"),
            (" 2,000 ", "2000"),
        ]:
            with self.subTest(text=text):
                result = calculate(self.sulfate, {"label_mg": text})
                self.assertEqual(result.label_mg, Decimal(weight))
        for text in ["1,5", "1,00", "1,000,000", ",500", "1,0000", "100,001"]:
            with self.subTest(text=text), self.assertRaises(CalculatorError):
                calculate(self.sulfate, {"label_mg": text})

    def test_the_page_answers_a_get_form_without_script(self):
        response = self.client.get(
            SULFATE, {"label_mg": "500", "hydrate": "heptahydrate"}
        )
        self.assertEqual(response.status_code, 200)
        tree = page_tree(response)
        self.assertEqual(
            words(tree.find("p", class_="calculator-result")),
            "500 mg of MgSO4·7H2O (heptahydrate) holds about 49.5 mg of elemental "
            "magnesium (2.04 mmol).",
        )
        form = tree.find("form", class_="calculator")
        self.assertEqual(form.attrs["method"], "get")
        self.assertEqual(
            tree.find("option", selected="").attrs["value"], "heptahydrate"
        )
        # The answer is in the page the server sent: no script computes it.
        self.assertContains(response, 'class="calculator-result"')

    def test_each_query_is_its_own_page(self):
        first = self.client.get(SULFATE, {"label_mg": "500"})
        second = self.client.get(SULFATE, {"label_mg": "1000"})
        self.assertContains(first, "holds about 101.0 mg")
        self.assertContains(second, "holds about 202.0 mg")
        self.assertNotContains(self.client.get(SULFATE), "calculator-result")

    def test_bad_input_is_a_400_that_says_why(self):
        for query, message in [
            ({"label_mg": "abc"}, "Enter the weight on the label in milligrams"),
            ({"label_mg": "-5"}, "a number above 0"),
            ({"label_mg": "0"}, "a number above 0"),
            ({"label_mg": "1e9"}, "Enter the weight"),
            ({"label_mg": "100001"}, "up to 100,000"),
            ({"label_mg": "500", "hydrate": "octahydrate"}, "choose one from the list"),
        ]:
            with self.subTest(query=query):
                response = self.client.get(SULFATE, query)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, 'aria-invalid="true"', status_code=400)
                self.assertNotContains(response, "calculator-result", status_code=400)

    def test_the_calculator_refuses_unknown_hydrates_directly(self):
        with self.assertRaises(CalculatorError):
            calculate(self.sulfate, {"hydrate": "x" * 500})


class StudyAdminTests(TestCase):
    """The studies inline offers only the monograph's own uses."""

    def test_the_use_select_lists_this_monographs_uses_only(self):
        form = factories.MagnesiumFormFactory()
        own = factories.EvidenceFactory(
            form=form, indication=factories.IndicationFactory(name="Own use")
        )
        factories.EvidenceFactory(indication=factories.IndicationFactory(name="Other"))
        factories.StudyFactory(evidence=own)
        self.client.force_login(factories.SuperuserFactory())
        response = self.client.get(
            reverse("admin:monographs_magnesiumform_change", args=[form.pk])
        )
        self.assertEqual(response.status_code, 200)
        tree = page_tree(response)
        select = tree.find("select", name="studies-0-evidence")
        options = [words(option) for option in select.find_all("option")]
        self.assertIn("Own use", options)
        self.assertNotIn("Other", options)


class ShownFiguresTests(SimpleTestCase):
    def test_percentages_are_shown_as_the_reference_writes_them(self):
        from monographs.templatetags.monographs import percent

        for stored, shown in [
            (Decimal("14.10"), "14.1"),
            (Decimal("12.00"), "12.0"),
            (Decimal("60.30"), "60.3"),
            (Decimal("8.25"), "8.25"),
            (Decimal("100.00"), "100.0"),
            ("16.20", "16.2"),
        ]:
            with self.subTest(stored=stored):
                self.assertEqual(percent(stored), shown)

    def test_elemental_mg_rounds_halves_up(self):
        from types import SimpleNamespace

        from monographs.templatetags.monographs import elemental_mg

        glycinate = SimpleNamespace(elemental_mg_in=lambda mg: Decimal("70.5"))
        orotate = SimpleNamespace(elemental_mg_in=lambda mg: Decimal("36.5"))
        self.assertEqual(elemental_mg(glycinate, 500), 71)
        self.assertEqual(elemental_mg(orotate, 500), 37)
