"""monographs.importer.parse_file on the two seed layouts and on broken files."""

import re

from django.test import SimpleTestCase

from monographs.importer import ImportProblem, parse_file
from tests.importing import (
    BISGLYCINATE_PAGE,
    GLYCINATE_SUMMARY,
    TemporaryFolderMixin,
    page,
    write,
)


class FrontMatterLayoutTests(SimpleTestCase):
    """The layout of shared/seeds/004_*.txt."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parsed = parse_file(BISGLYCINATE_PAGE)

    def test_title_comes_from_the_front_matter(self):
        self.assertEqual(self.parsed.title, "Magnesium Bisglycinate")

    def test_generic_name_becomes_a_synonym(self):
        self.assertEqual(self.parsed.synonyms, ["Magnesium Bisglycinate"])

    def test_usage_dosage_and_how_it_works_fill_their_fields(self):
        fields = self.parsed.fields
        self.assertTrue(
            fields["usage"].startswith(
                "Magnesium bisglycinate is primarily used as a dietary supplement"
            )
        )
        self.assertTrue(
            fields["usage"].endswith("if you have a diagnosed medical condition.")
        )
        self.assertIn("100mg to 400mg of elemental magnesium", fields["dosage_notes"])
        self.assertTrue(
            fields["mechanism"].startswith(
                "Magnesium bisglycinate is a chelated form of magnesium"
            )
        )
        # Nothing of the title or of the next section leaks into a field.
        for name in ("usage", "dosage_notes", "mechanism"):
            self.assertNotIn("#", fields[name])

    def test_side_effects_keep_the_common_and_the_serious_list_apart(self):
        effects = [
            (effect.name, effect.serious, note)
            for effect, note in self.parsed.side_effects
        ]
        self.assertEqual(
            effects,
            [
                ("Diarrhea", False, ""),
                ("Nausea", False, ""),
                ("Stomach upset", False, ""),
                ("Vomiting", False, ""),
                (
                    "Severe diarrhea",
                    True,
                    "potentially indicating a dangerously high magnesium level",
                ),
                ("Low blood pressure", True, ""),
                ("Irregular heartbeat", True, ""),
                ("Muscle weakness", True, ""),
            ],
        )

    def test_advice_after_the_side_effect_lists_is_kept_and_reported(self):
        self.assertIn(
            (
                "Side Effects",
                "If you experience any adverse effects, stop taking the supplement "
                "and consult a healthcare professional immediately.",
            ),
            self.parsed.other,
        )
        self.assertTrue(
            any(
                "004_6e5d669d74d2bdc6.txt:" in warning and "Side Effects" in warning
                for warning in self.parsed.warnings
            ),
            self.parsed.warnings,
        )

    def test_precautions_are_labelled_rows(self):
        labels = [label for label, _ in self.parsed.precautions]
        self.assertEqual(
            labels,
            [
                "Interactions",
                "Kidney Disease",
                "Pregnancy and Breastfeeding",
                "Other Conditions",
            ],
        )
        kidney = dict(self.parsed.precautions)["Kidney Disease"]
        self.assertTrue(kidney.startswith("Individuals with kidney disease"))
        self.assertNotIn("**", kidney)

    def test_faqs_are_question_and_answer_rows(self):
        self.assertEqual(len(self.parsed.faqs), 5)
        question, answer = self.parsed.faqs[1]
        self.assertEqual(question, "How should I store magnesium bisglycinate?")
        self.assertEqual(
            answer,
            "Store it in a cool, dry place, away from direct sunlight and "
            "moisture, as per the label instructions.",
        )
        for question, answer in self.parsed.faqs:
            self.assertTrue(question.endswith("?"), question)
            self.assertNotIn("**", question + answer)

    def test_disclaimer_paragraph_is_the_disclaimer_not_part_of_the_faqs(self):
        disclaimer = self.parsed.fields["disclaimer"]
        self.assertTrue(
            disclaimer.startswith("This information is for general knowledge")
        )
        self.assertIn("does not constitute medical advice", disclaimer)
        self.assertNotIn("Disclaimer", disclaimer)
        last_answer = self.parsed.faqs[-1][1]
        self.assertTrue(last_answer.endswith("operate machinery."), last_answer)
        for name, text in self.parsed.fields.items():
            if name != "disclaimer":
                self.assertNotIn("does not constitute medical advice", text)

    def test_no_unknown_sections_in_the_seed_page(self):
        headings = {heading for heading, _ in self.parsed.other}
        self.assertEqual(headings, {"Side Effects"})


class FrontMatterFactsTests(TemporaryFolderMixin, SimpleTestCase):
    def test_category_and_percentage_are_read_from_the_front_matter(self):
        path = write(
            self.folder,
            "lactate.md",
            page(
                "Magnesium lactate",
                "### Usage\nFor cramps.",
                category="organic-salt",
                elemental_mg_percent=12.0,
                formula_basis="Mg(C3H5O3)2",
            ),
        )
        parsed = parse_file(path)
        self.assertEqual(
            parsed.facts,
            {
                "category": "organic-salt",
                "elemental_mg_percent": 12.0,
                "formula_basis": "Mg(C3H5O3)2",
            },
        )
        self.assertEqual(parsed.fields["usage"], "For cramps.")

    def test_text_before_the_first_section_is_the_summary(self):
        path = write(
            self.folder,
            "citrate.md",
            page(
                "Magnesium citrate",
                "A salt of citric acid.\n\n### Usage\nLaxative.",
            ),
        )
        parsed = parse_file(path)
        self.assertEqual(parsed.fields["summary"], "A salt of citric acid.")
        self.assertEqual(parsed.title, "Magnesium citrate")


class ClinicalSummaryLayoutTests(SimpleTestCase):
    """The layout of shared/seeds/000_*.txt."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parsed = parse_file(GLYCINATE_SUMMARY)

    def test_title_line_names_the_form(self):
        self.assertEqual(self.parsed.title, "Magnesium Glycinate")

    def test_dosing_section_becomes_the_dosage_notes(self):
        dosage = self.parsed.fields["dosage_notes"]
        self.assertIn(
            "- Typical supplemental doses range from 125-300 mg of elemental "
            "magnesium per day [@todo-ref-5]",
            dosage,
        )
        self.assertIn("(12-24 mmol daily) [@todo-ref-3]", dosage)
        self.assertNotIn("Avoid in patients", dosage)

    def test_precautions_section_becomes_the_precaution_notes(self):
        notes = self.parsed.fields["precaution_notes"]
        self.assertIn("creatinine clearance <20 mg/dL", notes)
        self.assertIn(
            "- Excessive doses may cause diarrhea or gastrointestinal discomfort",
            notes,
        )

    def test_uses_sections_become_the_usage(self):
        usage = self.parsed.fields["usage"]
        self.assertIn("- Energy production", usage)
        self.assertIn("Sleep Improvement", usage)
        self.assertIn("Anxiety Management", usage)
        self.assertNotIn("Typical supplemental doses", usage)

    def test_text_under_the_title_is_the_summary(self):
        self.assertTrue(
            self.parsed.fields["summary"].startswith(
                "Magnesium glycinate is primarily used as a dietary supplement"
            )
        )

    def test_trailing_reference_numbers_become_unresolved_markers(self):
        texts = "\n".join(self.parsed.fields.values())
        texts += "\n" + "\n".join(text for _, text in self.parsed.other)
        self.assertEqual(
            sorted(set(re.findall(r"\[@todo-ref-(\d+)\]", texts))),
            ["1", "2", "3", "4", "5", "6"],
        )
        # No line still ends in a bare reference number.
        for line in texts.splitlines():
            self.assertIsNone(re.search(r"[^\d\s]\s+\d{1,2}$", line), line)

    def test_numbers_inside_the_text_are_not_taken_for_references(self):
        texts = "\n".join(self.parsed.fields.values())
        self.assertIn("125-300 mg", texts)
        self.assertIn("<20 mg/dL", texts)
        self.assertNotIn("[@todo-ref-125", texts)
        self.assertNotIn("[@todo-ref-20]", texts)

    def test_each_unresolved_reference_is_reported_with_its_line(self):
        references = [
            warning for warning in self.parsed.warnings if "reference" in warning
        ]
        self.assertEqual(len(references), 13)
        self.assertIn(
            "000_4e731b9c852b6ae8.txt:29: reference 5 is not listed in the file",
            "\n".join(references),
        )
        self.assertTrue(
            all("[@todo-ref-" in warning for warning in references), references
        )

    def test_unknown_heading_is_kept_and_reported(self):
        headings = [heading for heading, _ in self.parsed.other]
        self.assertEqual(headings, ["Clinical Pearls"])
        pearls = dict(self.parsed.other)["Clinical Pearls"]
        self.assertIn("vitamin D therapy", pearls)
        self.assertIn(
            "000_4e731b9c852b6ae8.txt:36: unknown section 'Clinical Pearls'",
            "\n".join(self.parsed.warnings),
        )

    def test_no_structured_rows_in_a_summary(self):
        self.assertIsNone(self.parsed.side_effects)
        self.assertIsNone(self.parsed.precautions)
        self.assertIsNone(self.parsed.faqs)


class ParseProblemTests(TemporaryFolderMixin, SimpleTestCase):
    """Every problem names the file and, where there is one, the line."""

    def problem(self, name, content, **kwargs):
        path = write(self.folder, name, content)
        with self.assertRaises(ImportProblem) as caught:
            parse_file(path, **kwargs)
        self.assertEqual(caught.exception.path, path)
        return caught.exception

    def test_malformed_front_matter_names_its_line(self):
        problem = self.problem(
            "bad-yaml.md",
            "---\nlayout: minimal-medicine\ntitle: [Magnesium oxide\n---\n\n"
            "### Usage\nLaxative.\n",
        )
        self.assertIn("malformed front matter", problem.message)
        self.assertIn(problem.line, (3, 4))
        self.assertTrue(str(problem).startswith(f"{problem.path}:{problem.line}: "))

    def test_front_matter_never_closed(self):
        problem = self.problem(
            "unclosed.md", "---\ntitle: Magnesium oxide\n\n### Usage\nLaxative.\n"
        )
        self.assertEqual(problem.line, 1)
        self.assertIn("never closed", problem.message)

    def test_front_matter_without_a_title(self):
        problem = self.problem(
            "untitled.md", "---\nlayout: minimal-medicine\n---\n\n### Usage\nx\n"
        )
        self.assertIn("no 'title'", problem.message)
        self.assertEqual(problem.line, 2)

    def test_front_matter_that_is_not_key_value_lines(self):
        problem = self.problem("list.md", "---\n- one\n- two\n---\n\n### Usage\nx\n")
        self.assertIn("'key: value'", problem.message)

    def test_empty_file(self):
        problem = self.problem("empty.md", b"")
        self.assertIn("empty", problem.message)
        self.assertIn("empty.md", str(problem))

    def test_file_of_blank_lines_is_empty(self):
        problem = self.problem("blank.md", "\n  \n\t\n")
        self.assertIn("empty", problem.message)

    def test_latin1_file_names_the_line_of_the_first_bad_byte(self):
        content = page(
            "Magnesium malate", "### Usage\nFor fatigue.\n\n### Dosage\nCaf\u00e9 dose."
        ).encode("latin-1")
        problem = self.problem("latin1.md", content)
        self.assertEqual(problem.line, 11)
        self.assertIn("not UTF-8", problem.message)
        self.assertIn("0xe9", problem.message)

    def test_crlf_line_endings_read_like_lf(self):
        text = page(
            "Magnesium malate",
            "### Usage\nFor fatigue.\nAnd muscle pain.\n\n"
            "### Precautions\n* **Kidney disease:** Ask a doctor.\n",
        )
        crlf = parse_file(write(self.folder, "crlf.md", text.replace("\n", "\r\n")))
        lf = parse_file(write(self.folder, "lf.md", text))
        self.assertEqual(crlf.fields, lf.fields)
        self.assertEqual(crlf.precautions, [("Kidney disease", "Ask a doctor.")])
        self.assertNotIn("\r", crlf.fields["usage"])

    def test_duplicated_section_names_both_lines(self):
        problem = self.problem(
            "twice.md",
            page(
                "Magnesium malate",
                "### Usage\nFor fatigue.\n\n### Dosage\n200 mg.\n\n### Usage\nAgain.",
            ),
        )
        self.assertEqual(problem.line, 13)
        self.assertIn("'Usage' appears twice (first at line 7)", problem.message)

    def test_file_over_the_size_limit(self):
        problem = self.problem(
            "big.md",
            page("Magnesium malate", "### Usage\n" + "x" * 2000),
            max_bytes=1000,
        )
        self.assertIn("the limit is 1,000 bytes", problem.message)
        self.assertIn("big.md", str(problem))

    def test_clinical_summary_must_start_with_a_title(self):
        problem = self.problem("bullet.txt", "- Energy production 1\n- More\n")
        self.assertEqual(problem.line, 1)
        self.assertIn("title", problem.message)


class UnknownSectionTests(TemporaryFolderMixin, SimpleTestCase):
    def test_unknown_heading_is_kept_under_other_and_reported_with_its_line(self):
        path = write(
            self.folder,
            "storage.md",
            page(
                "Magnesium malate",
                "### Usage\nFor fatigue.\n\n### Storage\nKeep it dry.\n",
            ),
        )
        parsed = parse_file(path)
        self.assertEqual(parsed.other, [("Storage", "Keep it dry.")])
        self.assertEqual(parsed.fields["usage"], "For fatigue.")
        self.assertEqual(
            parsed.warnings,
            [
                f"{path}:10: unknown section 'Storage' kept under 'other sections' "
                "for an editor to place"
            ],
        )
