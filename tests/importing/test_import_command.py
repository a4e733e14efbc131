"""manage.py import_monographs: matching, history, feedback, bad input and review."""

from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from monographs.history import change_context
from monographs.models import (
    FAQ,
    FormSideEffect,
    MagnesiumForm,
    Precaution,
    ReviewEvent,
    Revision,
    SideEffect,
    Synonym,
)
from monographs.services import seed_load
from tests import factories
from tests.importing import (
    BISGLYCINATE_PAGE,
    GLYCINATE_SUMMARY,
    TemporaryFolderMixin,
    page,
    run_import,
    write,
)

PUBLISHED_USAGE = "Published usage text."
IMPORTED_USAGE = "Imported usage text."
HISTORY_MODELS = [MagnesiumForm, Synonym, FormSideEffect, Precaution, FAQ, SideEffect]


def create_glycinate():
    """Magnesium glycinate with the synonym Magnesium bisglycinate, published."""
    with change_context(reason="Wrote the monograph"):
        form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            category=MagnesiumForm.Category.AMINO_ACID_CHELATE,
            elemental_mg_percent=Decimal("14.10"),
            usage=PUBLISHED_USAGE,
        )
        factories.SynonymFactory(
            form=form, name="Magnesium bisglycinate", slug="magnesium-bisglycinate"
        )
    factories.publish(form)
    return form


def fresh(form):
    return MagnesiumForm.objects.get(pk=form.pk)


def revision_count(form):
    return Revision.objects.for_form(form.pk).count()


def history_count():
    return sum(model.history.count() for model in HISTORY_MODELS)


def new_form_page(title, body="### Usage\nA new form.", **front):
    front.setdefault("category", "organic-salt")
    front.setdefault("elemental_mg_percent", 10.5)
    return page(title, body, **front)


def summary_line(created=0, updated=0, unchanged=0, failed=0):
    return (
        f"{created} created, {updated} updated, {unchanged} unchanged, {failed} failed"
    )


class MatchingTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()

    def test_bisglycinate_page_updates_magnesium_glycinate(self):
        run = run_import(BISGLYCINATE_PAGE)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(summary_line(updated=1) + ".", run.out)
        self.assertFalse(
            MagnesiumForm.objects.filter(name__iexact="Magnesium bisglycinate").exists()
        )
        self.assertEqual(MagnesiumForm.objects.count(), 1)
        form = fresh(self.glycinate)
        self.assertTrue(
            form.usage.startswith("Magnesium bisglycinate is primarily used")
        )
        self.assertIn("100mg to 400mg", form.dosage_notes)
        self.assertTrue(
            form.mechanism.startswith("Magnesium bisglycinate is a chelated")
        )
        self.assertIn("does not constitute medical advice", form.disclaimer)
        self.assertEqual(
            list(form.synonyms.values_list("slug", flat=True)),
            ["magnesium-bisglycinate"],
        )

    def test_side_effect_lists_become_rows_with_their_seriousness(self):
        run_import(BISGLYCINATE_PAGE)
        rows = {
            row.side_effect.name: row
            for row in FormSideEffect.objects.filter(form=self.glycinate)
        }
        self.assertEqual(len(rows), 8)
        for name in ("Diarrhea", "Nausea", "Stomach upset", "Vomiting"):
            self.assertEqual(rows[name].seriousness, "mild", name)
        for name in (
            "Severe diarrhea",
            "Low blood pressure",
            "Irregular heartbeat",
            "Muscle weakness",
        ):
            self.assertEqual(rows[name].seriousness, "seek-attention", name)
        self.assertEqual(
            rows["Severe diarrhea"].notes,
            "potentially indicating a dangerously high magnesium level",
        )

    def test_precautions_and_faqs_become_rows_in_file_order(self):
        run_import(BISGLYCINATE_PAGE)
        self.assertEqual(
            list(self.glycinate.precautions.values_list("label", flat=True)),
            [
                "Interactions",
                "Kidney Disease",
                "Pregnancy and Breastfeeding",
                "Other Conditions",
            ],
        )
        questions = list(self.glycinate.faqs.values_list("question", flat=True))
        self.assertEqual(len(questions), 5)
        self.assertEqual(
            questions[0], "Can I take magnesium bisglycinate on an empty stomach?"
        )

    def test_leftover_side_effect_advice_is_kept_in_other_sections(self):
        run = run_import(BISGLYCINATE_PAGE)
        self.assertIn(
            "If you experience any adverse effects",
            fresh(self.glycinate).other_sections,
        )
        self.assertIn("warning: ", run.err)
        self.assertIn("004_6e5d669d74d2bdc6.txt", run.err)

    def test_clinical_summary_updates_the_form_of_its_title(self):
        run = run_import(GLYCINATE_SUMMARY)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(summary_line(updated=1), run.out)
        form = fresh(self.glycinate)
        self.assertIn(
            "125-300 mg of elemental magnesium per day [@todo-ref-5]", form.dosage_notes
        )
        self.assertIn("creatinine clearance", form.precaution_notes)
        self.assertIn("- Energy production", form.usage)
        self.assertIn("#### Clinical Pearls", form.other_sections)

    def test_unresolved_references_are_reported(self):
        run = run_import(GLYCINATE_SUMMARY)
        self.assertIn(
            f"warning: {GLYCINATE_SUMMARY}:29: reference 5 is not listed in the file: "
            "marked [@todo-ref-5] for an editor to resolve",
            run.err,
        )
        self.assertEqual(run.err.count("is not listed in the file"), 13)

    def test_a_new_form_needs_category_and_percentage(self):
        path = write(
            self.folder, "lactate.md", page("Magnesium lactate", "### Usage\nx")
        )
        run = run_import(path)
        self.assertEqual(run.code, 1)
        self.assertIn(
            f"error: {path}: no form is called 'Magnesium lactate'; to create it, "
            "give category and elemental_mg_percent in the front matter",
            run.err,
        )
        self.assertIn(summary_line(failed=1), run.out)
        self.assertFalse(
            MagnesiumForm.objects.filter(slug="magnesium-lactate").exists()
        )

    def test_the_error_names_only_what_is_missing(self):
        path = write(
            self.folder,
            "lactate.md",
            page("Magnesium lactate", "### Usage\nx", category="organic-salt"),
        )
        run = run_import(path)
        self.assertIn("give elemental_mg_percent in the front matter", run.err)

    def test_a_new_form_is_created_from_its_front_matter(self):
        path = write(
            self.folder,
            "lactate.md",
            new_form_page(
                "Magnesium lactate",
                "A lactate salt.\n\n### Usage\nFor cramps.",
                elemental_mg_percent=12.0,
                formula_basis="Mg(C3H5O3)2",
            ),
        )
        run = run_import(path)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(summary_line(created=1), run.out)
        form = MagnesiumForm.objects.get(slug="magnesium-lactate")
        self.assertEqual(form.name, "Magnesium lactate")
        self.assertEqual(form.category, "organic-salt")
        self.assertEqual(form.elemental_mg_percent, Decimal("12.00"))
        self.assertEqual(form.formula_basis, "Mg(C3H5O3)2")
        self.assertEqual(form.summary, "A lactate salt.")
        self.assertEqual(form.usage, "For cramps.")

    def test_a_form_is_found_by_its_name_when_its_slug_differs(self):
        form = factories.MagnesiumFormFactory(
            name="Magnesium malate", slug="mg-malate", usage="Old usage."
        )
        path = write(
            self.folder, "malate.md", page("Magnesium malate", "### Usage\nNew usage.")
        )
        run = run_import(path)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(summary_line(updated=1), run.out)
        self.assertEqual(fresh(form).usage, "New usage.")

    def test_front_matter_facts_update_an_existing_form(self):
        path = write(
            self.folder,
            "glycinate.md",
            page(
                "Magnesium glycinate",
                "### Usage\nx",
                category="amino-acid-salt",
                elemental_mg_percent=12.5,
                formula_basis="C4H8MgN2O4",
            ),
        )
        run = run_import(path)
        self.assertIn(summary_line(updated=1), run.out)
        form = fresh(self.glycinate)
        self.assertEqual(
            (form.category, form.elemental_mg_percent, form.formula_basis),
            ("amino-acid-salt", Decimal("12.50"), "C4H8MgN2O4"),
        )

    def test_files_in_hidden_folders_are_skipped(self):
        write(self.folder, ".git/config", "[core]\n\trepositoryformatversion = 0\n")
        write(self.folder, ".git/HEAD", "ref: refs/heads/main\n")
        write(
            self.folder,
            "g/magnesium-glycinate.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        run = run_import(self.folder)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(summary_line(updated=1) + ".", run.out)
        self.assertNotIn(".git", run.err)


class SeedMatchingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        seed_load()

    def test_both_seed_documents_update_the_seeded_glycinate(self):
        forms = MagnesiumForm.objects.count()
        for document in (GLYCINATE_SUMMARY, BISGLYCINATE_PAGE):
            run = run_import(document)
            self.assertEqual(run.code, 0, run.err)
            self.assertIn(summary_line(updated=1) + ".", run.out)
        self.assertEqual(MagnesiumForm.objects.count(), forms)
        glycinate = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        self.assertTrue(
            glycinate.usage.startswith("Magnesium bisglycinate is primarily used")
        )
        self.assertIn("[@todo-ref-3]", glycinate.precaution_notes)
        self.assertEqual(
            glycinate.side_effects.filter(seriousness="seek-attention").count(), 4
        )

    def test_two_files_of_one_monograph_in_one_run_are_refused(self):
        # Each would overwrite the other's sections on every run: the second
        # is refused with a message naming the first, so a rerun is stable.
        run_import(GLYCINATE_SUMMARY, BISGLYCINATE_PAGE)
        glycinate = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        revisions = revision_count(glycinate)
        run = run_import(GLYCINATE_SUMMARY, BISGLYCINATE_PAGE)
        self.assertEqual(run.code, 1)
        self.assertIn(f"{BISGLYCINATE_PAGE}: describes Magnesium glycinate", run.err)
        self.assertIn(GLYCINATE_SUMMARY.name, run.err)
        self.assertIn(summary_line(unchanged=1, failed=1) + ".", run.out)
        self.assertEqual(revision_count(glycinate), revisions)


class HistoryTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()
        cls.editor = factories.EditorFactory(username="eddie")

    def test_importing_the_same_file_twice_records_nothing_the_second_time(self):
        first = run_import(BISGLYCINATE_PAGE)
        self.assertIn(summary_line(updated=1), first.out)
        revisions = Revision.objects.count()
        records = history_count()
        second = run_import(BISGLYCINATE_PAGE)
        self.assertEqual(second.code, 0, second.err)
        self.assertIn(summary_line(unchanged=1) + ".", second.out)
        self.assertEqual(Revision.objects.count(), revisions)
        self.assertEqual(history_count(), records)

    def test_a_new_form_imported_twice_is_created_then_unchanged(self):
        path = write(self.folder, "lactate.md", new_form_page("Magnesium lactate"))
        self.assertIn(summary_line(created=1), run_import(path).out)
        revisions = Revision.objects.count()
        self.assertIn(summary_line(unchanged=1), run_import(path).out)
        self.assertEqual(Revision.objects.count(), revisions)

    def test_an_import_is_one_revision_with_the_reason_on_every_row(self):
        before = revision_count(self.glycinate)
        last_records = {
            model: model.history.order_by("-history_id")
            .values_list("history_id", flat=True)
            .first()
            or 0
            for model in HISTORY_MODELS
        }
        run_import(BISGLYCINATE_PAGE)
        self.assertEqual(revision_count(self.glycinate), before + 1)
        revision = Revision.objects.for_form(self.glycinate.pk).order_by("-number")[0]
        self.assertEqual(revision.summary, "Imported from 004_6e5d669d74d2bdc6.txt")
        written = []
        for model, last in last_records.items():
            written += list(
                model.history.filter(history_id__gt=last).values_list(
                    "history_change_reason", flat=True
                )
            )
        # The form, 8 side effects, 8 new side-effect topics, 4 precautions, 5 FAQs…
        self.assertGreater(len(written), 20)
        self.assertEqual(set(written), {"Imported from 004_6e5d669d74d2bdc6.txt"})
        for model in HISTORY_MODELS:
            if model is SideEffect:
                continue
            self.assertEqual(
                set(
                    model.history.filter(history_id__gt=last_records[model])
                    .values_list("revision_id", flat=True)
                    .distinct()
                )
                - {revision.pk},
                set(),
                model,
            )

    def test_each_file_of_a_folder_is_its_own_revision(self):
        write(self.folder, "lactate.md", new_form_page("Magnesium lactate"))
        write(self.folder, "sub/malate.md", new_form_page("Magnesium malate"))
        run = run_import(self.folder)
        self.assertIn(summary_line(created=2), run.out)
        for slug, name in [
            ("magnesium-lactate", "lactate.md"),
            ("magnesium-malate", "malate.md"),
        ]:
            form = MagnesiumForm.objects.get(slug=slug)
            self.assertEqual(
                list(
                    Revision.objects.for_form(form.pk).values_list("summary", flat=True)
                ),
                [f"Imported from {name}"],
            )

    def test_the_account_given_with_as_is_the_author(self):
        path = write(
            self.folder,
            "glycinate.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        run_import(path, "--as", "eddie")
        revision = Revision.objects.for_form(self.glycinate.pk).order_by("-number")[0]
        self.assertEqual(revision.user, self.editor)
        self.assertEqual(revision.summary, "Imported from glycinate.md")

    def test_the_history_page_shows_the_published_import(self):
        factories.ReviewerFactory(username="rita")
        run_import(BISGLYCINATE_PAGE, "--publish", "--as", "rita")
        response = self.client.get("/forms/magnesium-glycinate/history/")
        self.assertContains(response, "Imported from 004_6e5d669d74d2bdc6.txt")


class DryRunTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()

    def test_dry_run_shows_a_diff_and_writes_nothing(self):
        path = write(
            self.folder,
            "glycinate.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        revisions = Revision.objects.count()
        records = history_count()
        run = run_import(path, "--dry-run")
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(f"{path}: Magnesium glycinate would be updated", run.out)
        self.assertIn("Usage:", run.out)
        self.assertIn(f"-{PUBLISHED_USAGE}", run.out)
        self.assertIn(f"+{IMPORTED_USAGE}", run.out)
        self.assertIn(
            "Dry run, nothing written. Would have: " + summary_line(updated=1), run.out
        )
        form = fresh(self.glycinate)
        self.assertEqual(form.usage, PUBLISHED_USAGE)
        self.assertEqual(form.status, MagnesiumForm.Status.PUBLISHED)
        self.assertEqual(Revision.objects.count(), revisions)
        self.assertEqual(history_count(), records)

    def test_dry_run_lists_rows_that_would_be_added(self):
        run = run_import(BISGLYCINATE_PAGE, "--dry-run")
        added = [line.strip() for line in run.out.splitlines() if "+ " in line]
        self.assertTrue(
            any(line.endswith("Magnesium glycinate: Nausea") for line in added), added
        )
        self.assertIn("+ Precautions: Magnesium glycinate: Kidney Disease", added)
        self.assertIn("+ FAQs: How should I store magnesium bisglycinate?", added)
        self.assertFalse(self.glycinate.side_effects.exists())
        self.assertFalse(self.glycinate.faqs.exists())
        self.assertFalse(SideEffect.objects.filter(slug="nausea").exists())

    def test_dry_run_names_the_side_effects_section_in_plain_english(self):
        run = run_import(BISGLYCINATE_PAGE, "--dry-run")
        self.assertIn("Magnesium glycinate: Nausea", run.out)
        self.assertNotIn("Side effect of a forms", run.out)

    def test_dry_run_of_a_new_form_creates_nothing(self):
        path = write(self.folder, "lactate.md", new_form_page("Magnesium lactate"))
        revisions = Revision.objects.count()
        run = run_import(path, "--dry-run")
        self.assertIn(f"{path}: Magnesium lactate would be created", run.out)
        self.assertIn("Would have: " + summary_line(created=1), run.out)
        self.assertFalse(
            MagnesiumForm.objects.filter(slug="magnesium-lactate").exists()
        )
        self.assertEqual(Revision.objects.count(), revisions)

    def test_dry_run_of_an_unchanged_file_prints_no_diff(self):
        run_import(BISGLYCINATE_PAGE)
        run = run_import(BISGLYCINATE_PAGE, "--dry-run")
        self.assertIn("Would have: " + summary_line(unchanged=1), run.out)
        self.assertNotIn("would be", run.out)


class ProgressAndSummaryTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()
        factories.MagnesiumFormFactory(name="Magnesium oxide", slug="magnesium-oxide")

    def write_new_forms(self, count):
        for number in range(count):
            write(
                self.folder,
                f"forms/form-{number:02}.md",
                new_form_page(f"Magnesium generated {number:02}"),
            )

    def test_a_progress_bar_appears_with_twenty_files(self):
        self.write_new_forms(20)
        run = run_import(self.folder)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn("1/20 files", run.err)
        self.assertIn(f"[{'#' * 30}] 20/20 files", run.err)
        # The rate so far, and the time the rest will take at that rate.
        self.assertRegex(run.err, r"1/20 files, \d+\.\d files/s, \d+ s left")
        self.assertRegex(run.err, r"20/20 files, \d+\.\d files/s, 0 s left")
        self.assertIn(summary_line(created=20) + ".", run.out)
        self.assertNotIn("files", run.out.replace(summary_line(created=20), ""))

    def test_time_left_reads_naturally(self):
        from monographs.management.commands.import_monographs import _duration

        self.assertEqual(_duration(41.6), "42 s")
        self.assertEqual(_duration(185), "3 min 5 s")
        self.assertEqual(_duration(3720), "1 h 2 min")

    def test_no_progress_bar_with_three_files(self):
        self.write_new_forms(3)
        run = run_import(self.folder)
        self.assertIn(summary_line(created=3), run.out)
        self.assertNotIn("/3 files", run.err)
        self.assertNotIn("[", run.err)

    def test_summary_counts_created_updated_unchanged_and_failed(self):
        write(self.folder, "a-new.md", new_form_page("Magnesium lactate"))
        write(
            self.folder,
            "b-changed.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        write(self.folder, "c-same.md", page("Magnesium oxide", "A test form."))
        write(self.folder, "d-empty.md", "")
        run = run_import(self.folder)
        self.assertEqual(run.code, 1)
        self.assertIn(
            summary_line(created=1, updated=1, unchanged=1, failed=1) + ".", run.out
        )

    def test_verbose_run_names_each_file_and_its_outcome(self):
        path = write(
            self.folder,
            "glycinate.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        run = run_import(path, verbosity=2)
        self.assertIn(f"{path}: Magnesium glycinate updated", run.out)

    def test_a_path_that_does_not_exist_fails_by_name(self):
        missing = self.folder / "missing.md"
        run = run_import(missing)
        self.assertEqual(run.code, 1)
        self.assertIn(f"error: {missing}: no such file", run.err)


class BadInputTests(TemporaryFolderMixin, TestCase):
    """Each broken file fails by name and line; the good file next to it is imported."""

    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()
        with change_context(reason="Wrote the monograph"):
            cls.malate = factories.MagnesiumFormFactory(
                name="Magnesium malate", slug="magnesium-malate", usage="Malate usage."
            )
        factories.publish(cls.malate)

    def assert_fails_alone(self, name, content, expected, **options):
        """Import ``content`` as ``name`` next to a good file; check what happened."""
        path = write(self.folder, name, content)
        good = write(
            self.folder,
            "z-good.md",
            page("Magnesium glycinate", f"### Usage\nUsage after {name}."),
        )
        forms = MagnesiumForm.objects.count()
        malate_revisions = revision_count(self.malate)
        run = run_import(path, good, **options)
        self.assertEqual(run.code, 1, run.out + run.err)
        self.assertIn(f"error: {path}{expected}", run.err)
        self.assertIn(summary_line(updated=1, failed=1) + ".", run.out)
        # Nothing of the broken file was written…
        self.assertEqual(MagnesiumForm.objects.count(), forms)
        self.assertEqual(revision_count(self.malate), malate_revisions)
        self.assertEqual(fresh(self.malate).usage, "Malate usage.")
        self.assertEqual(fresh(self.malate).status, MagnesiumForm.Status.PUBLISHED)
        # …and the good file was imported all the same.
        self.assertEqual(fresh(self.glycinate).usage, f"Usage after {name}.")
        return run

    def test_malformed_front_matter(self):
        self.assert_fails_alone(
            "indent.md",
            "---\nlayout: minimal-medicine\ntitle: Magnesium malate\n"
            "category: organic-salt\n  oops: indented\n---\n\n### Usage\nNew.\n",
            ":5: malformed front matter: mapping values are not allowed here",
        )

    def test_front_matter_that_is_never_closed(self):
        self.assert_fails_alone(
            "unclosed.md",
            "---\ntitle: Magnesium malate\n\n### Usage\nNew.\n",
            ":1: front matter opened with '---' is never closed",
        )

    def test_front_matter_without_a_title(self):
        self.assert_fails_alone(
            "untitled.md",
            "---\nlayout: minimal-medicine\n---\n\n### Usage\nNew.\n",
            ":2: front matter has no 'title'",
        )

    def test_empty_file(self):
        self.assert_fails_alone("empty.md", b"", ": the file is empty")

    def test_latin1_file(self):
        content = page("Magnesium malate", "### Usage\nCaf\u00e9 au lait.").encode(
            "latin-1"
        )
        run = self.assert_fails_alone(
            "latin1.md", content, ":8: not UTF-8 text (byte 0xe9"
        )
        self.assertIn("save the file as UTF-8", run.err)

    def test_binary_file(self):
        self.assert_fails_alone(
            "picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ":1: not UTF-8 text"
        )

    def test_duplicated_section(self):
        self.assert_fails_alone(
            "twice.md",
            page(
                "Magnesium malate",
                "### Usage\nNew.\n\n### Dosage\n200 mg.\n\n### Usage\nAgain.",
            ),
            ":13: section 'Usage' appears twice (first at line 7)",
        )

    def test_file_over_the_size_limit(self):
        content = page("Magnesium malate", "### Usage\n" + "New. " * 1000)
        size = len(content.encode())
        self.assert_fails_alone(
            "big.md",
            content,
            f": file is {size:,} bytes; the limit is 4,000 bytes",
            max_size=4000,
        )

    def test_clinical_summary_without_a_title_line(self):
        self.assert_fails_alone(
            "bullets.txt",
            "- Energy production 1\n- Nerve function 2\n",
            ":1: the first line should be the monograph's title",
        )

    def test_new_form_without_its_facts(self):
        self.assert_fails_alone(
            "lactate.md",
            page("Magnesium lactate", "### Usage\nNew."),
            ": no form is called 'Magnesium lactate'",
        )

    def test_new_form_with_an_unknown_category(self):
        run = self.assert_fails_alone(
            "lactate.md",
            page(
                "Magnesium lactate",
                "### Usage\nNew.",
                category="metal",
                elemental_mg_percent=12,
            ),
            ": ",
        )
        self.assertIn("'metal' is not a valid choice", run.err)

    def test_an_unknown_category_is_named_in_the_message(self):
        path = write(
            self.folder,
            "lactate.md",
            page(
                "Magnesium lactate",
                "### Usage\nNew.",
                category="metal",
                elemental_mg_percent=12,
            ),
        )
        run = run_import(path)
        self.assertEqual(run.code, 1)
        # Which of the file's values is wrong: the front matter's category.
        self.assertIn("category", run.err.split(f"{path}", 1)[1])

    def test_new_form_with_a_percentage_above_100(self):
        run = self.assert_fails_alone(
            "lactate.md",
            page(
                "Magnesium lactate",
                "### Usage\nNew.",
                category="organic-salt",
                elemental_mg_percent=150,
            ),
            ": ",
        )
        self.assertIn(
            "elemental_mg_percent: Enter a percentage above 0 and at most 100.", run.err
        )

    def test_new_form_with_a_percentage_that_is_not_a_number(self):
        run = self.assert_fails_alone(
            "lactate.md",
            page(
                "Magnesium lactate",
                "### Usage\nNew.",
                category="organic-salt",
                elemental_mg_percent="about twelve",
            ),
            ": ",
        )
        self.assertIn("elemental_mg_percent", run.err)

    def test_a_row_that_fails_validation_leaves_the_whole_file_unwritten(self):
        question = "Is it " + "very " * 60 + "safe?"
        run = self.assert_fails_alone(
            "long-faq.md",
            page(
                "Magnesium malate",
                "### Usage\nNew malate usage.\n\n### FAQs\n"
                f"* **Q: {question}** A: Yes.",
            ),
            ": ",
        )
        self.assertIn("at most 300 characters", run.err)
        self.assertFalse(FAQ.objects.filter(form=self.malate).exists())

    def test_a_row_that_fails_validation_is_named_in_the_message(self):
        question = "Is it " + "very " * 60 + "safe?"
        path = write(
            self.folder,
            "long-faq.md",
            page(
                "Magnesium malate",
                f"### Usage\nNew.\n\n### FAQs\n* **Q: {question}** A: Yes.",
            ),
        )
        run = run_import(path)
        message = run.err.split(f"{path}", 1)[1]
        # Which of the file's values is too long: the FAQ question.
        self.assertIn("question", message.lower())

    def test_unknown_heading_is_kept_and_reported_but_imports(self):
        path = write(
            self.folder,
            "storage.md",
            page("Magnesium malate", "### Usage\nNew.\n\n### Storage\nKeep it dry."),
        )
        run = run_import(path)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(summary_line(updated=1) + ".", run.out)
        self.assertIn(
            f"warning: {path}:10: unknown section 'Storage' kept under 'other "
            "sections' for an editor to place",
            run.err,
        )
        form = fresh(self.malate)
        self.assertEqual(form.usage, "New.")
        self.assertEqual(form.other_sections, "#### Storage\n\nKeep it dry.")

    def test_crlf_line_endings_import_like_lf(self):
        text = page(
            "Magnesium malate",
            "### Usage\nFirst line.\nSecond line.\n\n"
            "### Precautions\n* **Kidney disease:** Ask a doctor first.",
        )
        path = write(self.folder, "windows.md", text.replace("\n", "\r\n"))
        run = run_import(path)
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(summary_line(updated=1) + ".", run.out)
        form = fresh(self.malate)
        self.assertEqual(form.usage, "First line.\nSecond line.")
        self.assertEqual(
            list(form.precautions.values_list("label", "text")),
            [("Kidney disease", "Ask a doctor first.")],
        )
        # The LF copy of the same file is the same content: nothing to change.
        lf = write(self.folder, "unix.md", text)
        self.assertIn(summary_line(unchanged=1), run_import(lf).out)

    def test_utf8_with_a_byte_order_mark_imports(self):
        path = write(
            self.folder,
            "bom.md",
            b"\xef\xbb\xbf" + page("Magnesium malate", "### Usage\nNew.").encode(),
        )
        run = run_import(path)
        self.assertEqual(run.code, 0, run.err)
        self.assertEqual(fresh(self.malate).usage, "New.")


class StrictTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()

    def test_strict_stops_at_the_first_failure(self):
        write(self.folder, "a-empty.md", "")
        write(
            self.folder,
            "b-good.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        revisions = Revision.objects.count()
        with self.assertRaisesMessage(
            CommandError, "Stopped at the first failure (--strict)."
        ):
            run_import(self.folder, "--strict")
        self.assertEqual(fresh(self.glycinate).usage, PUBLISHED_USAGE)
        self.assertEqual(Revision.objects.count(), revisions)

    def test_strict_reports_the_failure_and_the_early_stop(self):
        broken = write(self.folder, "a-empty.md", "")
        write(self.folder, "b-good.md", page("Magnesium glycinate", "### Usage\nx"))
        out, err = StringIO(), StringIO()
        with self.assertRaises(CommandError):
            call_command(
                "import_monographs",
                str(self.folder),
                "--strict",
                stdout=out,
                stderr=err,
            )
        self.assertIn(f"error: {broken}: the file is empty", err.getvalue())
        self.assertIn(summary_line(failed=1) + " (stopped early).", out.getvalue())

    def test_strict_keeps_the_files_before_the_failure(self):
        write(
            self.folder,
            "a-good.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        write(self.folder, "b-empty.md", "")
        write(self.folder, "c-new.md", new_form_page("Magnesium lactate"))
        with self.assertRaises(CommandError):
            run_import(self.folder, "--strict")
        self.assertEqual(fresh(self.glycinate).usage, IMPORTED_USAGE)
        self.assertFalse(
            MagnesiumForm.objects.filter(slug="magnesium-lactate").exists()
        )

    def test_strict_keeps_the_files_before_a_failure_after_writing(self):
        # New forms wait for the batch to end; the third file fails after
        # its form is written, so the batch is imported again, file by file.
        write(self.folder, "a-new.md", new_form_page("Magnesium aspartate"))
        write(self.folder, "b-new.md", new_form_page("Magnesium lactate"))
        write(
            self.folder,
            "c-late.md",
            page(
                "Magnesium late",
                "### Usage\nx",
                category="organic-salt",
                elemental_mg_percent=10,
                studies="[{evidence: Nothing, name: A, outcome: B}]",
            ),
        )
        write(self.folder, "d-new.md", new_form_page("Magnesium orotate"))
        out, err = StringIO(), StringIO()
        with self.assertRaises(CommandError):
            call_command(
                "import_monographs",
                str(self.folder),
                "--strict",
                stdout=out,
                stderr=err,
            )
        self.assertIn("c-late.md: study 'A' belongs to the use", err.getvalue())
        self.assertEqual(err.getvalue().count("error:"), 1)
        self.assertIn(
            summary_line(created=2, failed=1) + " (stopped early).", out.getvalue()
        )
        names = set(MagnesiumForm.objects.values_list("name", flat=True))
        self.assertTrue({"Magnesium aspartate", "Magnesium lactate"} <= names)
        self.assertFalse({"Magnesium late", "Magnesium orotate"} & names)
        for name in ("Magnesium aspartate", "Magnesium lactate"):
            form = MagnesiumForm.objects.get(name=name)
            self.assertEqual(Revision.objects.for_form(form.pk).count(), 1)


class ReviewTests(TemporaryFolderMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.glycinate = create_glycinate()
        cls.reviewer = factories.ReviewerFactory(username="rita")
        cls.editor = factories.EditorFactory(username="eddie")

    def setUp(self):
        super().setUp()
        self.path = write(
            self.folder,
            "glycinate.md",
            page("Magnesium glycinate", f"### Usage\n{IMPORTED_USAGE}"),
        )
        self.published = fresh(self.glycinate).published_revision

    def public_page(self, slug="magnesium-glycinate"):
        return self.client.get(f"/forms/{slug}/")

    def assert_nothing_written(self):
        form = fresh(self.glycinate)
        self.assertEqual(form.usage, PUBLISHED_USAGE)
        self.assertEqual(form.status, MagnesiumForm.Status.PUBLISHED)
        self.assertEqual(revision_count(form), 1)
        self.assertEqual(ReviewEvent.objects.count(), 1)

    def test_imported_content_is_a_draft_readers_do_not_see(self):
        run = run_import(self.path)
        self.assertEqual(run.code, 0, run.err)
        form = fresh(self.glycinate)
        self.assertEqual(form.usage, IMPORTED_USAGE)
        self.assertEqual(form.status, MagnesiumForm.Status.PUBLISHED_WITH_CHANGES)
        self.assertEqual(form.published_revision, self.published)
        response = self.public_page()
        self.assertContains(response, PUBLISHED_USAGE)
        self.assertNotContains(response, IMPORTED_USAGE)
        self.assertEqual(ReviewEvent.objects.count(), 1)

    def test_a_new_form_imported_as_a_draft_is_not_public(self):
        path = write(self.folder, "lactate.md", new_form_page("Magnesium lactate"))
        run_import(path)
        form = MagnesiumForm.objects.get(slug="magnesium-lactate")
        self.assertEqual(form.status, MagnesiumForm.Status.DRAFT)
        self.assertIsNone(form.published_revision)
        self.assertEqual(self.public_page("magnesium-lactate").status_code, 404)

    def test_publish_as_a_reviewer_publishes_the_import(self):
        run = run_import(self.path, "--publish", "--as", "rita")
        self.assertEqual(run.code, 0, run.err)
        form = fresh(self.glycinate)
        self.assertEqual(form.status, MagnesiumForm.Status.PUBLISHED)
        latest = Revision.objects.for_form(form.pk).order_by("-number")[0]
        self.assertEqual(form.published_revision, latest)
        self.assertEqual(latest.user, self.reviewer)
        event = ReviewEvent.objects.filter(form=form).order_by("-pk")[0]
        self.assertEqual(event.action, ReviewEvent.Action.APPROVED)
        self.assertEqual(event.user, self.reviewer)
        self.assertEqual(event.revision, latest)
        response = self.public_page()
        self.assertContains(response, IMPORTED_USAGE)
        self.assertNotContains(response, PUBLISHED_USAGE)

    def test_publish_creates_a_public_page_for_a_new_form(self):
        path = write(
            self.folder,
            "lactate.md",
            new_form_page("Magnesium lactate", "### Usage\nLactate for cramps."),
        )
        run_import(path, "--publish", "--as", "rita")
        self.assertContains(
            self.public_page("magnesium-lactate"), "Lactate for cramps."
        )

    def test_publish_as_an_editor_is_refused_and_writes_nothing(self):
        with self.assertRaisesMessage(
            CommandError,
            "'eddie' is not a reviewer: only reviewers may publish imports.",
        ):
            run_import(self.path, "--publish", "--as", "eddie")
        self.assert_nothing_written()

    def test_publish_without_as_is_refused_and_writes_nothing(self):
        with self.assertRaisesMessage(
            CommandError, "--publish needs --as <reviewer username>."
        ):
            run_import(self.path, "--publish")
        self.assert_nothing_written()

    def test_publish_as_an_unknown_account_is_refused(self):
        with self.assertRaisesMessage(CommandError, "No account is called 'nobody'."):
            run_import(self.path, "--publish", "--as", "nobody")
        self.assert_nothing_written()

    def test_dry_run_with_publish_publishes_nothing(self):
        run = run_import(self.path, "--dry-run", "--publish", "--as", "rita")
        self.assertEqual(run.code, 0, run.err)
        self.assert_nothing_written()
        self.assertContains(self.public_page(), PUBLISHED_USAGE)

    def test_publishing_a_file_already_imported_as_a_draft_publishes_it(self):
        run_import(self.path)
        run = run_import(self.path, "--publish", "--as", "rita")
        self.assertEqual(run.code, 0, run.err)
        self.assertContains(self.public_page(), IMPORTED_USAGE)
        self.assertEqual(fresh(self.glycinate).status, MagnesiumForm.Status.PUBLISHED)
