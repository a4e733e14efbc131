import json
import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import TestCase

from monographs.models import Citation, Dose, Evidence, MagnesiumForm, Revision
from monographs.models.fields import FastJSONDecoder, FastJSONEncoder
from tests import factories


class MagnesiumFormTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        factories.SynonymFactory(
            form=cls.form, name="Magnesium bisglycinate", slug="magnesium-bisglycinate"
        )
        factories.SynonymFactory(
            form=cls.form, name="Magnesium diglycinate", slug="magnesium-diglycinate"
        )

    def test_synonyms_resolve_to_the_form(self):
        for name in [
            "Magnesium glycinate",
            "Magnesium Bisglycinate",
            "bisglycinate",
            "diglycinate",
            "magnesium-diglycinate",
        ]:
            with self.subTest(name=name):
                self.assertEqual(MagnesiumForm.objects.by_name(name), self.form)

    def test_unknown_name_resolves_to_nothing(self):
        self.assertIsNone(MagnesiumForm.objects.by_name("Magnesium unobtainium"))

    def test_elemental_percent_must_be_above_zero_and_at_most_100(self):
        for value in [Decimal("0"), Decimal("-1"), Decimal("100.01")]:
            with self.subTest(value=value):
                form = factories.MagnesiumFormFactory.build(elemental_mg_percent=value)
                with self.assertRaisesMessage(
                    ValidationError, "above 0 and at most 100"
                ):
                    form.full_clean(exclude=["category"])
                with self.assertRaises(IntegrityError), transaction.atomic():
                    form.save()

    def test_slug_is_unique(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            factories.MagnesiumFormFactory(slug="magnesium-glycinate")

    def test_slug_may_not_reuse_a_synonym(self):
        form = factories.MagnesiumFormFactory.build(slug="magnesium-bisglycinate")
        with self.assertRaisesMessage(ValidationError, "already used by a synonym"):
            form.full_clean(exclude=["category"])

    def test_synonym_may_not_reuse_a_form_slug(self):
        synonym = factories.SynonymFactory.build(
            form=self.form, slug="magnesium-glycinate"
        )
        with self.assertRaisesMessage(ValidationError, "A form already has this slug"):
            synonym.full_clean()

    def test_elemental_mg_in_salt_weight(self):
        self.assertEqual(self.form.elemental_mg_in(1000), Decimal("141"))

    def test_absolute_url(self):
        self.assertEqual(self.form.get_absolute_url(), "/forms/magnesium-glycinate/")


class DoseTests(TestCase):
    def test_minimum_above_maximum_is_refused(self):
        dose = factories.DoseFactory.build(
            form=factories.MagnesiumFormFactory(), minimum_mg=400, maximum_mg=300
        )
        with self.assertRaisesMessage(
            ValidationError, "minimum dose is above the maximum"
        ):
            dose.full_clean()
        with self.assertRaises(IntegrityError), transaction.atomic():
            dose.save()

    def test_equal_minimum_and_maximum_is_allowed(self):
        dose = factories.DoseFactory(minimum_mg=300, maximum_mg=300)
        dose.full_clean()
        self.assertEqual(Dose.objects.count(), 1)


class EvidenceTests(TestCase):
    def test_a_domain_rated_down_needs_a_reason(self):
        evidence = factories.EvidenceFactory.build(
            form=factories.MagnesiumFormFactory(),
            indication=factories.IndicationFactory(),
            certainty=Evidence.Certainty.MODERATE,
            indirectness=1,
        )
        with self.assertRaisesMessage(ValidationError, "Say why the evidence is"):
            evidence.full_clean()
        with self.assertRaises(IntegrityError), transaction.atomic():
            evidence.save()

    def test_one_evidence_row_per_form_and_indication(self):
        evidence = factories.EvidenceFactory()
        with self.assertRaises(IntegrityError), transaction.atomic():
            Evidence.objects.create(
                form=evidence.form,
                indication=evidence.indication,
                direction=Evidence.Direction.NO_EFFECT,
                certainty=Evidence.Certainty.LOW,
            )


class CitationTests(TestCase):
    def test_pmid_is_digits_only(self):
        citation = factories.CitationFactory.build(pmid="PMID7815675")
        with self.assertRaisesMessage(ValidationError, "A PMID is digits only"):
            citation.full_clean()

    def test_doi_must_look_like_a_doi(self):
        for doi in ["11.1000/x", "10.1/x", "doi 10.1000", "10.1000/"]:
            with self.subTest(doi=doi):
                citation = factories.CitationFactory.build(doi=doi)
                with self.assertRaisesMessage(
                    ValidationError, "10.<registrant>/<suffix>"
                ):
                    citation.full_clean()

    def test_doi_url_prefix_is_removed(self):
        citation = factories.CitationFactory.build(
            doi="https://doi.org/10.1177/01486071"
        )
        citation.full_clean()
        self.assertEqual(citation.doi, "10.1177/01486071")

    def test_year_must_be_plausible(self):
        for year in [1066, 2999]:
            with self.subTest(year=year):
                citation = factories.CitationFactory.build(year=year)
                with self.assertRaisesMessage(ValidationError, "Enter a year between"):
                    citation.full_clean()

    def test_implausible_year_is_refused_by_the_database(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            factories.CitationFactory(year=1066)

    def test_key_is_unique(self):
        factories.CitationFactory(key="schuette1994")
        with self.assertRaises(IntegrityError), transaction.atomic():
            factories.CitationFactory(key="schuette1994")

    def test_pmid_and_doi_are_unique_when_given(self):
        factories.CitationFactory(pmid="7815675", doi="10.1177/X")
        with self.assertRaises(IntegrityError), transaction.atomic():
            factories.CitationFactory(pmid="7815675")
        with self.assertRaises(IntegrityError), transaction.atomic():
            factories.CitationFactory(doi="10.1177/x")
        factories.CitationFactory(pmid="", doi="")
        factories.CitationFactory(pmid="", doi="")
        self.assertEqual(Citation.objects.filter(pmid="").count(), 2)

    def test_a_citation_must_be_findable(self):
        citation = Citation(key="nothing", authors="Doe J")
        with self.assertRaisesMessage(ValidationError, "at least a title, PMID"):
            citation.full_clean()


class FastJSONTests(TestCase):
    """The revisions' JSON columns go through orjson, and mean what json means."""

    def test_encodes_the_same_value_as_json(self):
        value = {"text": "Magnésium\n\u2028<b>", "n": [1, -2, None, True], "1": {}}
        encoded = json.dumps(value, cls=FastJSONEncoder)
        self.assertEqual(json.loads(encoded), value)
        self.assertEqual(json.loads(encoded, cls=FastJSONDecoder), value)

    def test_what_orjson_refuses_goes_to_json(self):
        self.assertEqual(
            json.dumps({1: 2**70}, cls=FastJSONEncoder), '{"1": 1180591620717411303424}'
        )
        self.assertTrue(math.isnan(json.loads("NaN", cls=FastJSONDecoder)))
        with self.assertRaises(TypeError):
            json.dumps({"when": Decimal("1.5")}, cls=FastJSONEncoder)

    def test_a_revision_stores_and_reads_its_document(self):
        form = factories.MagnesiumFormFactory(summary="Über alles: “quoted”.")
        revision = Revision.objects.with_document().filter(form=form).latest("number")
        self.assertEqual(revision.document["form"]["summary"], "Über alles: “quoted”.")
        self.assertEqual(
            Revision.objects.filter(
                document__form__summary="Über alles: “quoted”."
            ).count(),
            1,
        )


class BidiControlTests(TestCase):
    """A name holding a character that reorders the text around it reads as
    something it is not ("pidolate \u202etest" shows as "pidolate tset")."""

    def test_names_refuse_characters_that_reorder_text(self):
        from monographs.models import Indication, SideEffect, Synonym

        form = factories.MagnesiumFormFactory()
        for instance in (
            MagnesiumForm(
                name="Magnesium \u202etest", slug="mg-x", elemental_mg_percent=5
            ),
            Synonym(form=form, name="Bis\u2067glycinate", slug="bis-x"),
            Indication(name="Sleep\u200f", slug="sleep-x"),
            SideEffect(name="\u202aNausea", slug="nausea-x"),
        ):
            with self.subTest(model=type(instance).__name__):
                with self.assertRaises(ValidationError) as caught:
                    instance.full_clean()
                self.assertIn("name", caught.exception.message_dict)
                self.assertIn("reorders", caught.exception.message_dict["name"][0])

    def test_other_scripts_and_emoji_are_fine(self):
        form = MagnesiumForm(
            name="Magnésium glycinate 镁 ✓ 👩‍⚕️", slug="mg-ok", elemental_mg_percent=5
        )
        form.full_clean(exclude=["category"])
