"""manage.py export_monographs, and importing what it wrote."""

from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.test import TestCase

from monographs.history import change_context
from monographs.importer import parse_file
from monographs.models import (
    FormSideEffect,
    MagnesiumForm,
    Publication,
    ReviewEvent,
    Revision,
    SearchDocument,
)
from monographs.services import seed_load
from tests import factories
from tests.importing import (
    GLYCINATE_SUMMARY,
    TemporaryFolderMixin,
    run_export,
    run_import,
)

PUBLISHED_USAGE = "Taken mostly for sleep and for cramps."
DRAFT_USAGE = "An editor's rewrite, not reviewed yet."


def files_in(folder):
    return sorted(
        str(path.relative_to(folder))
        for path in Path(folder).rglob("*")
        if path.is_file()
    )


def create_glycinate():
    """A published monograph with every part the 004 layout has."""
    with change_context(reason="Wrote the monograph"):
        form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            category=MagnesiumForm.Category.AMINO_ACID_CHELATE,
            formula_basis="Mg(C2H4NO2)2",
            elemental_mg_percent=Decimal("14.10"),
            summary="A chelate that is gentle on the gut.",
            usage=PUBLISHED_USAGE,
            mechanism="Glycine carries magnesium across the gut wall.",
            dosage_notes="Doses are stated as elemental magnesium.\n\n- 125 to 300 mg a day",
            precaution_notes="Check with your doctor first.",
            disclaimer="This page is general information, not medical advice.",
        )
        factories.SynonymFactory(
            form=form, name="Magnesium bisglycinate", slug="magnesium-bisglycinate"
        )
        factories.FormSideEffectFactory(
            form=form,
            side_effect=factories.SideEffectFactory(name="Nausea", slug="nausea"),
            frequency=FormSideEffect.Frequency.UNCOMMON,
            seriousness=FormSideEffect.Seriousness.MILD,
            notes="Less than with the oxide",
        )
        factories.FormSideEffectFactory(
            form=form,
            side_effect=factories.SideEffectFactory(
                name="Irregular heartbeat", slug="irregular-heartbeat"
            ),
            frequency=FormSideEffect.Frequency.RARE,
            seriousness=FormSideEffect.Seriousness.SEEK_ATTENTION,
        )
        factories.PrecautionFactory(
            form=form,
            label="Kidney disease",
            text="Avoid if creatinine clearance is below 20 mL/min.",
            position=0,
        )
        factories.PrecautionFactory(
            form=form, label="Pregnancy", text="Ask your doctor.", position=1
        )
        factories.FAQFactory(
            form=form,
            question="Can I take it with food?",
            answer="Yes, it may upset the stomach less.",
            position=0,
        )
        factories.FAQFactory(
            form=form,
            question="Does it make you sleepy?",
            answer="Not as a rule.",
            position=1,
        )
    factories.publish(form)
    return form


def empty_site():
    """A new site's database: no monograph, and no history of one (a deleted
    monograph would keep its address)."""
    MagnesiumForm.objects.all().delete()
    Publication.objects.all().delete()
    SearchDocument.objects.all().delete()
    ReviewEvent.objects.all().delete()
    for model in apps.get_app_config("monographs").get_models():
        if model.__name__.startswith("Historical"):
            model.objects.all().delete()
    Revision.objects.all().delete()


class ExportTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()
        with change_context(reason="Wrote the monograph"):
            cls.oxide = factories.MagnesiumFormFactory(
                name="Magnesium oxide",
                slug="magnesium-oxide",
                category=MagnesiumForm.Category.INORGANIC,
                elemental_mg_percent=Decimal("60.30"),
            )
        factories.publish(cls.oxide)
        with change_context(reason="Started a monograph"):
            cls.lactate = factories.MagnesiumFormFactory(
                name="Magnesium lactate",
                slug="magnesium-lactate",
                usage="Lactate draft usage.",
            )

    def test_writes_one_file_per_published_form_by_first_letter(self):
        out = run_export(self.folder)
        self.assertEqual(
            files_in(self.folder),
            ["g/magnesium-glycinate.md", "o/magnesium-oxide.md"],
        )
        self.assertIn(f"Wrote 2 files to {self.folder}.", out)

    def test_file_is_in_the_layout_of_the_seed_page(self):
        run_export(self.folder)
        text = (self.folder / "g" / "magnesium-glycinate.md").read_text()
        self.assertTrue(
            text.startswith(
                "---\nlayout: minimal-medicine\ntitle: Magnesium glycinate\n"
            ),
            text[:200],
        )
        self.assertIn("category: amino-acid-chelate\n", text)
        self.assertIn("elemental_mg_percent: 14.1\n", text)
        self.assertIn("formula_basis: Mg(C2H4NO2)2\n", text)
        self.assertIn("\n# Magnesium glycinate\n", text)
        self.assertIn(f"### Usage\n{PUBLISHED_USAGE}\n", text)
        self.assertIn("### How it Works\n", text)
        self.assertIn("* Nausea (Less than with the oxide)", text)
        self.assertIn("* **Kidney disease:** Avoid if creatinine clearance", text)
        self.assertIn(
            "* **Q: Can I take it with food?** A: Yes, it may upset the stomach less.",
            text,
        )
        self.assertIn(
            "**Disclaimer:** This page is general information, not medical advice.",
            text,
        )

    def test_exported_file_reads_back_as_the_same_parts(self):
        run_export(self.folder)
        parsed = parse_file(self.folder / "g" / "magnesium-glycinate.md")
        self.assertEqual(parsed.title, "Magnesium glycinate")
        self.assertEqual(parsed.warnings, [])
        self.assertEqual(parsed.fields["usage"], PUBLISHED_USAGE)
        self.assertEqual(
            [
                (effect.name, effect.serious, note)
                for effect, note in parsed.side_effects
            ],
            [
                ("Nausea", False, "Less than with the oxide"),
                ("Irregular heartbeat", True, ""),
            ],
        )
        self.assertEqual(
            parsed.precautions,
            [
                ("Kidney disease", "Avoid if creatinine clearance is below 20 mL/min."),
                ("Pregnancy", "Ask your doctor."),
            ],
        )
        self.assertEqual(len(parsed.faqs), 2)
        self.assertEqual(
            parsed.fields["disclaimer"],
            "This page is general information, not medical advice.",
        )

    def test_exports_the_published_text_not_a_later_draft(self):
        form = MagnesiumForm.objects.get(pk=self.glycinate.pk)
        with change_context(reason="Rewrote the usage"):
            form.usage = DRAFT_USAGE
            form.save()
        run_export(self.folder)
        text = (self.folder / "g" / "magnesium-glycinate.md").read_text()
        self.assertIn(PUBLISHED_USAGE, text)
        self.assertNotIn(DRAFT_USAGE, text)

    def test_unpublished_drafts_are_exported_only_with_drafts(self):
        run_export(self.folder)
        self.assertNotIn("m/magnesium-lactate.md", files_in(self.folder))
        drafts = self.folder / "drafts"
        out = run_export(drafts, "--drafts")
        self.assertIn("l/magnesium-lactate.md", files_in(drafts))
        self.assertIn("Wrote 3 files", out)
        text = (drafts / "l" / "magnesium-lactate.md").read_text()
        self.assertIn("Lactate draft usage.", text)

    def test_drafts_export_the_latest_revision(self):
        form = MagnesiumForm.objects.get(pk=self.glycinate.pk)
        with change_context(reason="Rewrote the usage"):
            form.usage = DRAFT_USAGE
            form.save()
        run_export(self.folder, "--drafts")
        text = (self.folder / "g" / "magnesium-glycinate.md").read_text()
        self.assertIn(DRAFT_USAGE, text)


class RoundTripTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()

    def test_importing_an_export_changes_nothing(self):
        run_export(self.folder)
        revisions = Revision.objects.count()
        run = run_import(self.folder)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn("0 created, 0 updated, 1 unchanged, 0 failed.", run.out)
        self.assertEqual(Revision.objects.count(), revisions)
        self.assertEqual("", run.err)

    def test_importing_an_export_with_dry_run_shows_no_diff(self):
        run_export(self.folder)
        run = run_import(self.folder, "--dry-run")
        self.assertIn(
            "Would have: 0 created, 0 updated, 1 unchanged, 0 failed.", run.out
        )
        self.assertNotIn("would be", run.out)

    def test_paragraphs_survive_an_export_round_trip(self):
        form = MagnesiumForm.objects.get(pk=self.glycinate.pk)
        with change_context(reason="Wrote longer notes"):
            form.precaution_notes = "Check with your doctor first.\n\nKeep a list."
            form.disclaimer = "General information.\n\nNot medical advice."
            form.save()
            factories.PrecautionFactory(
                form=form,
                label="Diuretics",
                text="Some spare magnesium.\n\nSome lose it.",
                position=2,
            )
            factories.FAQFactory(
                form=form,
                question="How long does it take?",
                answer="A few weeks.\n\nLonger if you were deficient.",
                position=2,
            )
        factories.publish(form)
        run_export(self.folder)
        revisions = Revision.objects.count()
        run = run_import(self.folder, "--dry-run")
        self.assertIn("0 created, 0 updated, 1 unchanged, 0 failed.", run.out)
        run_import(self.folder)
        self.assertEqual(Revision.objects.count(), revisions)

    def test_a_clinical_summary_import_survives_an_export_round_trip(self):
        factories.ReviewerFactory(username="rita")
        run = run_import(GLYCINATE_SUMMARY, "--publish", "--as", "rita")
        self.assertIn("1 updated", run.out)
        run_export(self.folder)
        revisions = Revision.objects.count()
        run = run_import(self.folder)
        self.assertIn("0 created, 0 updated, 1 unchanged, 0 failed.", run.out)
        self.assertNotIn("unknown section", run.err)
        self.assertEqual(Revision.objects.count(), revisions)

    def test_an_export_imported_into_an_empty_site_keeps_the_page(self):
        run_export(self.folder)
        empty_site()
        run = run_import(self.folder)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn("1 created", run.out)
        form = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        self.assertEqual(form.name, "Magnesium glycinate")
        self.assertEqual(form.category, MagnesiumForm.Category.AMINO_ACID_CHELATE)
        self.assertEqual(form.elemental_mg_percent, Decimal("14.10"))
        self.assertEqual(form.formula_basis, "Mg(C2H4NO2)2")
        for name in (
            "summary",
            "usage",
            "mechanism",
            "dosage_notes",
            "precaution_notes",
            "disclaimer",
        ):
            self.assertEqual(getattr(form, name), getattr(self.glycinate, name), name)
        self.assertEqual(
            sorted(
                form.side_effects.values_list(
                    "side_effect__name", "seriousness", "notes"
                )
            ),
            [
                ("Irregular heartbeat", "seek-attention", ""),
                ("Nausea", "mild", "Less than with the oxide"),
            ],
        )
        self.assertEqual(
            list(form.precautions.values_list("label", flat=True)),
            ["Kidney disease", "Pregnancy"],
        )
        self.assertEqual(
            list(form.faqs.values_list("question", flat=True)),
            ["Can I take it with food?", "Does it make you sleepy?"],
        )

    def test_an_export_imported_into_an_empty_site_keeps_what_the_layout_lacks(self):
        form = MagnesiumForm.objects.get(pk=self.glycinate.pk)
        with change_context(reason="Wrote the notes"):
            form.composition_note = "Often sold buffered with magnesium oxide."
            form.absorption_notes = "Absorbed as an intact chelate in part."
            form.tolerability_notes = "Gentler on the gut than citrate."
            form.save()
            factories.DoseFactory(form=form, minimum_mg=125, maximum_mg=300)
        factories.publish(form)
        run_export(self.folder)
        empty_site()
        run_import(self.folder)
        imported = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        self.assertEqual(
            {
                "composition_note": imported.composition_note,
                "absorption_notes": imported.absorption_notes,
                "tolerability_notes": imported.tolerability_notes,
                "synonyms": list(imported.synonyms.values_list("name", flat=True)),
                "doses": list(imported.doses.values_list("minimum_mg", "maximum_mg")),
            },
            {
                "composition_note": "Often sold buffered with magnesium oxide.",
                "absorption_notes": "Absorbed as an intact chelate in part.",
                "tolerability_notes": "Gentler on the gut than citrate.",
                "synonyms": ["Magnesium bisglycinate"],
                "doses": [(125, 300)],
            },
        )


class SeedRoundTripTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()

    def test_exporting_and_importing_the_seed_changes_nothing(self):
        out = run_export(self.folder)
        published = MagnesiumForm.objects.published().count()
        self.assertIn(f"Wrote {published} files", out)
        self.assertEqual(len(files_in(self.folder)), published)
        self.assertIn("g/magnesium-glycinate.md", files_in(self.folder))
        revisions = Revision.objects.count()
        run = run_import(self.folder)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(
            f"0 created, 0 updated, {published} unchanged, 0 failed.", run.out
        )
        self.assertEqual(Revision.objects.count(), revisions)

    def test_the_seeded_glycinate_exports_its_faqs_and_serious_side_effects(self):
        run_export(self.folder)
        parsed = parse_file(self.folder / "g" / "magnesium-glycinate.md")
        self.assertEqual(len(parsed.faqs), 5)
        self.assertEqual(
            sum(1 for effect, _ in parsed.side_effects if effect.serious), 4
        )
        self.assertIn("does not constitute medical advice", parsed.fields["disclaimer"])
