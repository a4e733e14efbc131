"""Studies as rows: validation, computed findings, GRADE words, documents."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import TestCase

from monographs.diffs import compare
from monographs.documents import document_build, document_load
from monographs.findings import (
    Applicability,
    applicability_of,
    grade_phrase,
    grade_statement,
    summaries,
    use_findings,
)
from monographs.history import change_context
from monographs.importer import parse_file
from monographs.models import Evidence, Revision, Study
from monographs.services import seed_load
from tests import factories
from tests.importing import TemporaryFolderMixin, run_export, run_import


class StudyValidationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(salt="glycinate")
        cls.use = factories.EvidenceFactory(form=cls.form)

    def study(self, **values):
        return factories.StudyFactory.build(evidence=self.use, form=self.form, **values)

    def assertRefused(self, study, message):
        """Refused by clean() with ``message``, and by the database too."""
        with self.assertRaisesMessage(ValidationError, message):
            study.full_clean()
        with self.assertRaises(IntegrityError), transaction.atomic():
            study.save()

    def test_a_complete_study_is_accepted(self):
        study = self.study(
            design=Study.Design.META_ANALYSIS,
            participants=151,
            studies_included=3,
            effect_estimate=Decimal("-17.36"),
            ci_lower=Decimal("-27.27"),
            ci_upper=Decimal("-7.44"),
            effect_unit="minutes",
        )
        study.full_clean()
        study.save()
        self.assertTrue(study.pooled)

    def test_the_interval_must_contain_the_estimate(self):
        self.assertRefused(
            self.study(
                effect_estimate=Decimal("5"),
                ci_lower=Decimal("-27.27"),
                ci_upper=Decimal("-7.44"),
                effect_unit="minutes",
            ),
            "does not contain the estimate",
        )

    def test_an_estimate_needs_its_unit(self):
        self.assertRefused(
            self.study(effect_estimate=Decimal("1.5")), "Say what the estimate measures"
        )

    def test_only_a_review_includes_studies(self):
        self.assertRefused(
            self.study(design=Study.Design.RCT, studies_included=8),
            "Only a review includes other studies",
        )

    def test_no_more_improved_than_included(self):
        self.assertRefused(
            self.study(
                design=Study.Design.SYSTEMATIC_REVIEW,
                studies_included=8,
                studies_improved=9,
            ),
            "more studies improved than were included",
        )

    def test_the_hydrate_must_be_one_of_the_salts(self):
        study = self.study(salt="sulfate", hydrate="heptahydrate")
        study.full_clean()
        with self.assertRaisesMessage(ValidationError, "Not a form of this salt"):
            self.study(salt="glycinate", hydrate="heptahydrate").full_clean()

    def test_the_use_must_be_of_the_same_monograph(self):
        other_use = factories.EvidenceFactory()
        study = factories.StudyFactory.build(evidence=other_use, form=self.form)
        with self.assertRaisesMessage(ValidationError, "this monograph's own form"):
            study.full_clean()


class CertaintyRatingTests(TestCase):
    def rating(self, **values):
        return factories.EvidenceFactory.build(
            form=factories.MagnesiumFormFactory(),
            indication=factories.IndicationFactory(),
            **values,
        )

    def test_the_level_cannot_be_above_what_the_downgrades_leave(self):
        evidence = self.rating(
            certainty=Evidence.Certainty.MODERATE,
            indirectness=1,
            indirectness_reason="Trials of oxide.",
            imprecision=1,
            imprecision_reason="12 patients.",
        )
        with self.assertRaisesMessage(ValidationError, "can be at most Low"):
            evidence.full_clean()

    def test_each_downgrade_keeps_its_reason(self):
        evidence = self.rating(
            certainty=Evidence.Certainty.VERY_LOW,
            indirectness=2,
            indirectness_reason="Absorption of one dose, not deficiency.",
            imprecision=1,
            imprecision_reason="One trial of 12 patients.",
        )
        evidence.full_clean()
        self.assertEqual(evidence.levels_down, 3)
        self.assertEqual(
            evidence.downgrades,
            [
                ("indirectness", 2, "Absorption of one dose, not deficiency."),
                ("imprecision", 1, "One trial of 12 patients."),
            ],
        )

    def test_a_named_rater_needs_a_date(self):
        evidence = self.rating(rated_by="Grace Hopper")
        with self.assertRaisesMessage(ValidationError, "Give the date of the rating"):
            evidence.full_clean()
        with self.assertRaises(IntegrityError), transaction.atomic():
            evidence.save()


class GradeWordsTests(TestCase):
    """GRADE's plain-language statements: the verb follows the certainty."""

    def test_each_level_has_its_words(self):
        use = factories.EvidenceFactory.build(
            form=factories.MagnesiumFormFactory.build(name="Magnesium glycinate"),
            indication=factories.IndicationFactory.build(name="Sleep quality"),
            direction=Evidence.Direction.BENEFIT,
        )
        expected = {
            Evidence.Certainty.HIGH: "Magnesium glycinate improves sleep quality.",
            Evidence.Certainty.MODERATE: (
                "Magnesium glycinate probably improves sleep quality."
            ),
            Evidence.Certainty.LOW: "Magnesium glycinate may improve sleep quality.",
            Evidence.Certainty.VERY_LOW: (
                "The evidence is very uncertain about the effect of Magnesium "
                "glycinate on sleep quality."
            ),
        }
        for level, words in expected.items():
            with self.subTest(level=level):
                use.certainty = level
                self.assertEqual(grade_statement(use, use.form.name), words)

    def test_no_effect_and_harm_read_as_grade_says(self):
        use = factories.EvidenceFactory.build(
            form=factories.MagnesiumFormFactory.build(name="Magnesium oxide"),
            indication=factories.IndicationFactory.build(name="Cramps"),
            outcome="cramp frequency",
            direction=Evidence.Direction.NO_EFFECT,
            certainty=Evidence.Certainty.MODERATE,
        )
        self.assertEqual(
            grade_statement(use, "Magnesium oxide"),
            "Magnesium oxide probably results in little to no difference in cramp "
            "frequency.",
        )
        use.direction, use.certainty = Evidence.Direction.HARM, Evidence.Certainty.LOW
        self.assertEqual(grade_phrase(use), "may worsen")
        use.certainty = Evidence.Certainty.VERY_LOW
        self.assertEqual(grade_phrase(use), "very uncertain")


class FindingsTests(TestCase):
    """Tallies and applicability are counted from the studies, never typed."""

    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(salt="glycinate")
        cls.use = factories.EvidenceFactory(form=cls.form)

    def add(self, **values):
        return factories.StudyFactory(evidence=self.use, **values)

    def test_tally_counts_trials_and_what_reviews_included(self):
        self.add(outcome="Sleep quality", participants=40)
        self.add(outcome="sleep  quality", participants=20, result="no-difference")
        self.add(
            outcome="Sleep quality",
            design=Study.Design.SYSTEMATIC_REVIEW,
            studies_included=8,
            studies_improved=5,
        )
        (summary,) = summaries(list(self.use.studies.all()), self.form)
        self.assertEqual(summary.study_count, 10)
        self.assertEqual(summary.improved, 6)
        self.assertEqual(summary.tally, "6 of 10 studies found an improvement")
        self.assertEqual(summary.participants, 60)
        self.assertEqual(summary.participants_unreported, 1)

    def test_a_review_that_does_not_say_how_many_improved_is_not_guessed(self):
        self.add(
            design=Study.Design.META_ANALYSIS,
            studies_included=3,
            effect_estimate=Decimal("-17.36"),
            effect_unit="minutes",
        )
        (summary,) = summaries(list(self.use.studies.all()), self.form)
        self.assertEqual(summary.tally, "3 studies; how many improved was not reported")
        self.assertEqual(
            [s.effect_estimate for s in summary.pooled], [Decimal("-17.36")]
        )

    def test_this_form_is_derived_from_the_salts_studied(self):
        own = self.add(salt="glycinate")
        oxide = self.add(salt="oxide")
        unspecified = self.add(salt="unspecified")
        self.assertEqual(applicability_of([own], self.form), Applicability.DIRECT)
        self.assertEqual(
            applicability_of([oxide, unspecified], self.form), Applicability.INDIRECT
        )
        self.assertEqual(applicability_of([own, oxide], self.form), Applicability.BOTH)
        self.assertEqual(applicability_of([], self.form), Applicability.NONE)

    def test_a_form_without_a_reference_salt_has_no_direct_evidence(self):
        form = factories.MagnesiumFormFactory(salt="")
        use = factories.EvidenceFactory(form=form)
        study = factories.StudyFactory(evidence=use, salt="glycinate")
        self.assertEqual(applicability_of([study], form), Applicability.INDIRECT)

    def test_an_indirect_study_is_never_credited_to_the_form(self):
        self.add(salt="glycinate", result="improved")
        self.add(
            salt="oxide",
            design=Study.Design.SYSTEMATIC_REVIEW,
            studies_included=8,
            studies_improved=5,
        )
        (use,) = use_findings([self.use], list(self.use.studies.all()))
        (credited,) = use.direct_outcomes
        self.assertEqual(credited.tally, "1 of 1 study found an improvement")
        self.assertEqual([s.salt for s in use.indirect_studies], ["oxide"])


class StudyDocumentTests(TestCase):
    """Studies are rows of the monograph's revision like any other."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.citation = factories.CitationFactory(key="mah2021")
        with change_context(reason="Wrote it", user=cls.editor):
            cls.form = factories.MagnesiumFormFactory(salt="glycinate")
            cls.use = factories.EvidenceFactory(
                form=cls.form,
                indication=factories.IndicationFactory(name="Sleep quality"),
            )

    def test_a_study_is_in_the_document_by_its_uses_id(self):
        with change_context(reason="Add Mah 2021", user=self.editor):
            study = factories.StudyFactory(
                evidence=self.use,
                name="Mah 2021",
                salt="unspecified",
                effect_estimate=Decimal("-17.36"),
                effect_unit="minutes",
            )
            study.citations.add(self.citation)
        document = document_build(self.form.pk)
        (row,) = document["rows"]["studies"]
        self.assertEqual(row["evidence"], self.use.pk)
        self.assertEqual(row["effect_estimate"], "-17.36")
        self.assertEqual(row["citations"], [self.citation.pk])
        self.assertIn(str(self.citation.pk), document["citations"])
        revision = Revision.objects.with_document().latest_for(self.form.pk)
        loaded = document_load(revision)
        (loaded_study,) = loaded.studies
        self.assertIs(loaded_study.evidence, loaded.evidence[0])
        self.assertEqual(loaded_study.effect_estimate, Decimal("-17.36"))
        self.assertEqual([c.key for c in loaded_study.cited], ["mah2021"])

    def test_the_diff_shows_a_study_added_and_changed(self):
        before = Revision.objects.with_document().latest_for(self.form.pk)
        with change_context(reason="Add a study", user=self.editor):
            study = factories.StudyFactory(evidence=self.use, name="Mah 2021")
        added = Revision.objects.with_document().latest_for(self.form.pk)
        diff = compare(document_load(before), document_load(added))
        self.assertIn("Studies: 1 added", diff.summary())
        with change_context(reason="Correct the outcome", user=self.editor):
            study.outcome = "Sleep onset latency"
            study.save()
        changed = Revision.objects.with_document().latest_for(self.form.pk)
        diff = compare(document_load(added), document_load(changed))
        (row,) = diff.rows
        self.assertEqual(row.action, "changed")
        self.assertEqual([change.label for change in row.fields], ["Outcome"])

    def test_a_document_written_before_studies_still_loads(self):
        document = document_build(self.form.pk)
        del document["rows"]["studies"]
        for row in document["rows"]["evidence"]:
            # Fields schema 1 had, which the tally and applicability replaced.
            row.update(applicability="indirect", studies_improved=5, studies_total=8)
            for name in ("outcome", "indirectness", "rated_by"):
                row.pop(name)
        del document["form"]["salt"], document["form"]["editor_notes"]
        loaded = document_load(None, document)
        self.assertEqual(loaded.studies, [])
        self.assertEqual(loaded.form.salt, "")
        (use,) = loaded.evidence
        self.assertEqual(use.indirectness, 0)
        self.assertFalse(hasattr(use, "studies_total"))


class StudyImportExportTests(TemporaryFolderMixin, TestCase):
    """Studies travel in the front matter, naming their use."""

    @classmethod
    def setUpTestData(cls):
        seed_load()

    def export_glycinate(self):
        run_export(self.folder)
        return self.folder / "g" / "magnesium-glycinate.md"

    def test_the_export_lists_each_study_under_its_use(self):
        parsed = parse_file(self.export_glycinate())
        mah = [row for row in parsed.studies if row["name"] == "Mah 2021"]
        self.assertEqual(
            [(row["evidence"], row["outcome"]) for row in mah],
            [
                ("Sleep quality", "sleep onset latency"),
                ("Sleep quality", "total sleep time"),
            ],
        )
        self.assertEqual(mah[0]["effect_estimate"], "-17.36")
        self.assertEqual(mah[0]["citations"], ["mah2021"])
        self.assertNotIn("editor_notes", self.export_glycinate().read_text())

    def test_an_edited_study_is_imported_as_a_change(self):
        path = self.export_glycinate()
        path.write_text(
            path.read_text().replace("participants: 12\n", "participants: 13\n")
        )
        run = run_import(path)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn("1 updated", run.out)
        study = Study.objects.get(name="Schuette 1994")
        self.assertEqual(study.participants, 13)

    def test_a_study_of_a_use_the_file_does_not_list_is_refused(self):
        path = self.export_glycinate()
        path.write_text(
            path.read_text().replace(
                "- evidence: Hypomagnesemia\n", "- evidence: Migraine\n"
            )
        )
        run = run_import(path)
        self.assertNotEqual(run.code, 0)
        self.assertIn("belongs to the use 'Migraine'", run.err)

    def test_a_bad_estimate_names_the_field(self):
        path = self.export_glycinate()
        path.write_text(
            path.read_text().replace(
                "effect_estimate: '-17.36'", "effect_estimate: 'minus seventeen'"
            )
        )
        run = run_import(path)
        self.assertNotEqual(run.code, 0)
        self.assertIn("study 'effect_estimate'", run.err)


class RatingDocumentTests(TestCase):
    def test_a_named_rating_and_its_date_travel_in_the_document(self):
        import datetime

        with change_context(reason="Rated", user=factories.EditorFactory()):
            use = factories.EvidenceFactory(
                rated_by="Grace Hopper", rated_on=datetime.date(2026, 11, 29)
            )
        revision = Revision.objects.with_document().latest_for(use.form_id)
        (row,) = revision.document["rows"]["evidence"]
        self.assertEqual(row["rated_on"], "2026-11-29")
        (loaded,) = document_load(revision).evidence
        self.assertEqual(loaded.rated_on, datetime.date(2026, 11, 29))
        factories.publish(use.form)
        response = self.client.get(use.form.get_absolute_url())
        self.assertContains(response, "Rated by Grace Hopper on")
        self.assertContains(response, "29 November 2026")
