from django.core.management import call_command
from django.test import TestCase

from monographs.history import change_context
from monographs.models import (
    Citation,
    Dose,
    Evidence,
    Interaction,
    MagnesiumForm,
    Publication,
    Revision,
    Synonym,
)
from monographs.services import seed_load
from tests import factories

HISTORY_MODELS = [MagnesiumForm, Synonym, Citation, Evidence, Dose, Interaction]


def history_count():
    return sum(model.history.count() for model in HISTORY_MODELS)


class SeedLoadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.first = seed_load()

    def test_loads_every_form_of_the_reference_table(self):
        self.assertEqual(MagnesiumForm.objects.count(), 14)
        oxide = MagnesiumForm.objects.get(slug="magnesium-oxide")
        self.assertEqual(str(oxide.elemental_mg_percent), "60.30")
        self.assertEqual(oxide.category, MagnesiumForm.Category.INORGANIC)

    def test_both_seed_documents_are_one_glycinate_monograph(self):
        form = MagnesiumForm.objects.by_name("Magnesium Bisglycinate")
        self.assertEqual(form.name, "Magnesium glycinate")
        self.assertEqual(
            set(form.synonyms.values_list("name", flat=True)),
            {"Magnesium bisglycinate", "Magnesium diglycinate", "Chelated magnesium"},
        )
        # From the clinical summary (000): the uses, restated as studies
        # (shared/reference/studies.md), and the dose range.
        sleep = form.evidence.get(indication__slug="sleep-quality")
        self.assertEqual(
            list(sleep.studies.values_list("name", "outcome")),
            [
                ("Rawji 2024", "self-reported sleep quality"),
                ("Mah 2021", "sleep onset latency"),
                ("Mah 2021", "total sleep time"),
            ],
        )
        rawji = sleep.studies.get(name="Rawji 2024")
        self.assertEqual((rawji.studies_improved, rawji.studies_included), (5, 8))
        self.assertEqual(
            list(rawji.citations.values_list("key", flat=True)), ["rawji2024"]
        )
        anxiety = form.evidence.get(indication__slug="anxiety").studies.get()
        self.assertEqual((anxiety.studies_improved, anxiety.studies_included), (5, 7))
        self.assertEqual(anxiety.salt, "several")
        self.assertTrue(form.doses.filter(minimum_mg=125, maximum_mg=300).exists())
        # From the bisglycinate page (004): FAQs, side effects, disclaimer.
        self.assertEqual(form.faqs.count(), 5)
        self.assertEqual(
            form.side_effects.filter(seriousness="seek-attention").count(), 4
        )
        self.assertIn("does not constitute medical advice", form.disclaimer)

    def test_seed_fixes_the_creatinine_clearance_unit(self):
        kidney = MagnesiumForm.objects.get(slug="magnesium-glycinate").precautions.get(
            label="Kidney disease"
        )
        self.assertIn("20 mL/min", kidney.text)
        self.assertNotIn("mg/dL", kidney.text)

    def test_every_form_lists_the_reference_interactions(self):
        for form in MagnesiumForm.objects.all():
            self.assertEqual(form.interactions.count(), 7)
        tetracyclines = Interaction.objects.filter(
            drug_class="Tetracycline antibiotics"
        ).first()
        self.assertIn("2 h before or 4–6 h after", tetracyclines.management)

    def test_citations_are_the_checked_ones(self):
        schuette = Citation.objects.get(key="schuette1994")
        self.assertEqual(schuette.pmid, "7815675")
        self.assertEqual(schuette.doi, "10.1177/0148607194018005430")
        lindberg = Citation.objects.get(key="lindberg1990")
        self.assertEqual(lindberg.title, "")
        for citation in Citation.objects.all():
            citation.full_clean()

    def test_no_page_cites_what_the_reference_says_to_complete_first(self):
        """citations.md: lindberg1990 had only its PMID checked, "fill the rest
        from PubMed before citing"; slutsky2010 its PMID, journal and year."""
        from monographs.selectors import published_citations

        cited = {use.citation.key for use in published_citations().values()}
        self.assertNotIn("lindberg1990", cited)
        slutsky = Citation.objects.get(key="slutsky2010")
        self.assertEqual((slutsky.authors, slutsky.title), ("", ""))
        lindberg = Citation.objects.get(key="lindberg1990")
        self.assertEqual((lindberg.authors, lindberg.year), ("", None))

    def test_no_dose_without_a_source_above_the_upper_limit(self):
        glycinate = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        self.assertNotIn("100–400 mg", glycinate.dosage_notes)
        self.assertNotIn("twice daily", glycinate.dosage_notes)

    def test_every_marker_in_the_seed_resolves(self):
        from monographs.markdown import citation_keys

        keys = set(Citation.objects.values_list("key", flat=True))
        for form in MagnesiumForm.objects.all():
            texts = [form.summary, form.usage, form.mechanism, form.dosage_notes]
            texts += [
                form.composition_note,
                form.absorption_notes,
                form.tolerability_notes,
            ]
            texts += list(form.evidence.values_list("summary", flat=True))
            texts += list(form.precautions.values_list("text", flat=True))
            texts += list(form.doses.values_list("notes", flat=True))
            texts += list(form.studies.values_list("notes", flat=True))
            texts.append(form.editor_notes)
            for text in texts:
                self.assertLessEqual(set(citation_keys(text)), keys, text)

    def test_load_is_recorded_with_a_reason(self):
        reasons = {
            reason
            for model in HISTORY_MODELS
            for reason in model.history.values_list("history_change_reason", flat=True)
        }
        self.assertEqual(reasons, {"Loaded the seed content"})

    def test_second_load_changes_and_records_nothing(self):
        before = history_count()
        revisions = Revision.objects.count()
        report = seed_load()
        self.assertEqual(report.created, 0)
        self.assertEqual(report.skipped, [])
        self.assertEqual(history_count(), before)
        self.assertEqual(Revision.objects.count(), revisions)

    def test_every_form_names_its_salt_in_the_reference_table(self):
        from monographs.reference import SALTS_BY_KEY

        for form in MagnesiumForm.objects.all():
            with self.subTest(form=form.name):
                self.assertEqual(form.reference_salt.name, form.name)
                self.assertEqual(
                    form.reference_salt.basis.elemental_mg_percent,
                    form.elemental_mg_percent,
                )
        self.assertEqual(len(SALTS_BY_KEY), 14)

    def test_the_sulfate_lists_epsom_salt_as_its_heptahydrate(self):
        sulfate = MagnesiumForm.objects.get(slug="magnesium-sulfate")
        hydrate = sulfate.reference_salt.hydrate_named("Epsom salt")
        self.assertEqual(str(hydrate.elemental_mg_percent), "9.9")
        self.assertIn("MgSO4·7H2O: 9.9%", sulfate.composition_note)

    def test_notes_for_editors_are_in_the_staff_only_field(self):
        form = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        self.assertIn("could not be identified", form.editor_notes)
        reader_texts = [
            *form.doses.values_list("notes", flat=True),
            *form.precautions.values_list("text", flat=True),
            *form.evidence.values_list("summary", flat=True),
            *form.studies.values_list("notes", flat=True),
        ]
        for text in reader_texts:
            self.assertNotIn("An editor should", text)
            self.assertNotIn("Source not identified", text)

    def test_seeded_monographs_are_published_without_a_reviewer(self):
        publication = Publication.objects.get(form__slug="magnesium-glycinate")
        self.assertIsNone(publication.approved_by)
        self.assertFalse(publication.withdrawn)

    def test_load_never_overwrites_or_approves_an_editors_draft(self):
        editor = factories.EditorFactory()
        form = MagnesiumForm.objects.get(slug="magnesium-oxide")
        published = form.published_revision
        with change_context(reason="Editor's draft", user=editor):
            form.formula_basis = "MgO2"
            form.save()
        report = seed_load()
        self.assertEqual(report.created, 0)
        form.refresh_from_db()
        self.assertEqual(form.formula_basis, "MgO2")
        self.assertEqual(form.published_revision, published)
        self.assertEqual(form.status, MagnesiumForm.Status.PUBLISHED_WITH_CHANGES)

    def test_a_renamed_slug_or_key_is_reported_not_duplicated(self):
        editor = factories.EditorFactory()
        with change_context(reason="Renamed", user=editor):
            form = MagnesiumForm.objects.get(slug="magnesium-glycinate")
            form.slug = "magnesium-glycinate-chelate"
            form.save()
            citation = Citation.objects.get(key="schuette1994")
            citation.key = "schuette-1994"
            citation.save()
        report = seed_load()
        # The form is found by its name; the citation's PMID is taken.
        self.assertEqual(MagnesiumForm.objects.filter(name=form.name).count(), 1)
        self.assertEqual(
            Publication.objects.filter(slug="magnesium-glycinate").count(), 1
        )
        self.assertEqual(report.created, 0)
        self.assertTrue(any("schuette1994" in problem for problem in report.skipped))

    def test_command_reports_counts(self):
        from io import StringIO

        out = StringIO()
        call_command("load_seed", stdout=out, stderr=StringIO())
        self.assertIn("0 created", out.getvalue())


class SeedAfterEditorsTests(TestCase):
    """What editors and reviewers did stands, whatever the seed holds."""

    @classmethod
    def setUpTestData(cls):
        seed_load()
        cls.reviewer = factories.ReviewerFactory()

    def test_a_deleted_monograph_is_not_brought_back(self):
        from monographs import services

        citrate = MagnesiumForm.objects.get(slug="magnesium-citrate")
        services.monograph_delete(form=citrate, user=self.reviewer, reason="Merged")
        report = seed_load()
        self.assertFalse(
            MagnesiumForm.objects.filter(name="Magnesium citrate").exists()
        )
        self.assertTrue(any("Magnesium citrate" in p for p in report.skipped))
        self.assertEqual(self.client.get("/forms/magnesium-citrate/").status_code, 410)

    def test_a_renamed_published_monograph_is_not_duplicated(self):
        with change_context(reason="Renamed", user=self.reviewer):
            oxide = MagnesiumForm.objects.get(slug="magnesium-oxide")
            oxide.name, oxide.slug = "Magnesium oxide (heavy)", "magnesium-oxide-heavy"
            oxide.save()
        report = seed_load()
        self.assertEqual(report.created, 0)
        self.assertFalse(MagnesiumForm.objects.filter(slug="magnesium-oxide").exists())
        self.assertEqual(self.client.get("/forms/magnesium-oxide/").status_code, 200)
