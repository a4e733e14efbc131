"""monographs.importer.parse_file on hostile files: bounded in size, time and
YAML, and refusing Markdown the site would not show."""

import os
import time

from django.test import SimpleTestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monographs.importer import (
    MAX_FILE_BYTES,
    MAX_FRONT_MATTER_DEPTH,
    ImportProblem,
    ParsedMonograph,
    parse_file,
)
from monographs.markdown import MAX_MARKDOWN_CHARS, MAX_NESTING_DEPTH
from tests.importing import TemporaryFolderMixin, page, write
from tests.stall import STALL_SECONDS


def billion_laughs():
    """Front matter whose last line stands for 10^9 copies of one string."""
    lines = ["---", "title: Magnesium laughs", 'a: &a ["lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        previous, name = "abcdefghij"[level - 1], "abcdefghij"[level]
        aliases = ",".join([f"*{previous}"] * 10)
        lines.append(f"{name}: &{name} [{aliases}]")
    lines += ["synonyms: *j", "---", "", "### Usage", "Laughter.", ""]
    return "\n".join(lines)


class ProblemMixin(TemporaryFolderMixin):
    def problem(self, name, content, **kwargs):
        path = write(self.folder, name, content)
        start = time.perf_counter()
        with self.assertRaises(ImportProblem) as caught:
            parse_file(path, **kwargs)
        self.seconds = time.perf_counter() - start
        self.assertEqual(caught.exception.path, path)
        return caught.exception

    def timed_parse(self, name, content):
        path = write(self.folder, name, content)
        start = time.perf_counter()
        parsed = parse_file(path)
        return time.perf_counter() - start, parsed


class FrontMatterYamlTests(ProblemMixin, SimpleTestCase):
    def test_the_bomb_is_no_bigger_than_the_probes(self):
        self.assertLessEqual(len(billion_laughs().encode()), 561)

    def test_an_alias_bomb_is_refused_quickly(self):
        problem = self.problem("laughs.md", billion_laughs())
        self.assertLess(self.seconds, STALL_SECONDS)
        # The first anchor, on the file's third line.
        self.assertEqual(problem.line, 3)
        self.assertIn("anchor &a", problem.message)
        self.assertIn("aliases and anchors are not allowed", problem.message)
        self.assertTrue(str(problem).startswith(f"{problem.path}:3: front matter"))

    def test_an_alias_is_refused_with_its_line(self):
        problem = self.problem(
            "alias.md",
            "---\ntitle: Magnesium malate\nsynonyms:\n- Malate\n- *other\n---\n",
        )
        self.assertEqual(problem.line, 5)
        self.assertIn("alias *other", problem.message)

    def test_deep_nesting_is_refused_not_a_crash(self):
        depth = 5000
        problem = self.problem(
            "deep.md",
            "---\ntitle: Magnesium deep\nsynonyms: "
            + "[" * depth
            + "]" * depth
            + "\n---\n",
        )
        self.assertLess(self.seconds, STALL_SECONDS)
        self.assertEqual(problem.line, 3)
        self.assertIn(
            f"more than {MAX_FRONT_MATTER_DEPTH} levels deep", problem.message
        )

    def test_values_python_cannot_read_are_problems_not_crashes(self):
        for value, words in [
            ("2020-13-45", "month must be in 1..12"),
            ("1" * 5000, "digits"),
        ]:
            with self.subTest(value=value[:12]):
                problem = self.problem(
                    "value.md", f"---\ntitle: Magnesium odd\nfounded: {value}\n---\n"
                )
                self.assertIn("malformed front matter", problem.message)
                self.assertIn(words, problem.message)

    def test_ordinary_front_matter_is_still_read(self):
        _, parsed = self.timed_parse(
            "rows.md",
            "---\ntitle: Magnesium malate\nsynonyms: [Malate, 'Mg malate']\n"
            "doses:\n- population: adults\n  minimum_mg: 100\n  maximum_mg: 350\n"
            "---\n\n### Usage\nFor fatigue.\n",
        )
        self.assertEqual(parsed.synonyms, ["Malate", "Mg malate"])
        self.assertEqual(parsed.doses[0]["maximum_mg"], 350)


class LinearParsingTests(ProblemMixin, SimpleTestCase):
    """Files that took seconds to minutes, each now read in well under a second."""

    def test_a_60_kb_heading_line(self):
        # "^#{2,3}\s+(.*?)\s*#*$" retried every split of the run of spaces:
        # 75 s for this file.
        content = page(
            "Magnesium malate", "## Usage" + " " * 60_000 + "x\nFor fatigue."
        )
        self.assertGreater(len(content), 60_000)
        seconds, parsed = self.timed_parse("heading.md", content)
        self.assertLess(seconds, STALL_SECONDS)
        self.assertIn("Usage" + " " * 60_000 + "x", [name for name, _ in parsed.other])

    def test_headings_keep_their_names(self):
        _, parsed = self.timed_parse(
            "names.md",
            page(
                "Magnesium malate",
                "## Usage ##\nFor fatigue.\n\n### Storage  #\nDry.\n\n#### Deeper\nText.",
            ),
        )
        self.assertEqual(parsed.fields["usage"], "For fatigue.")
        self.assertEqual(parsed.other, [("Storage", "Dry.\n\n#### Deeper\nText.")])

    def test_many_title_lines_before_the_first_section(self):
        # Each "# " line joined all the text before it again: over a minute.
        content = page("Magnesium malate", "Intro.\n" + "# Again\n" * 50_000)
        problem = self.problem("titles.md", content)
        self.assertLess(self.seconds, STALL_SECONDS)
        self.assertEqual(problem.line, 7)
        self.assertIn("the text before the first section", problem.message)

    def test_a_side_effect_full_of_parentheses(self):
        content = page(
            "Magnesium malate", "### Side Effects\n- Nausea " + "(" * 30_000 + "\n"
        )
        seconds, parsed = self.timed_parse("parens.md", content)
        self.assertLess(seconds, STALL_SECONDS)
        effect, note = parsed.side_effects[0]
        self.assertTrue(effect.name.startswith("Nausea ((("))
        self.assertEqual(note, "")

    def test_side_effect_notes_are_read_as_before(self):
        _, parsed = self.timed_parse(
            "notes.md",
            page(
                "Magnesium malate",
                "### Side Effects\n- Nausea (mild (rarely) severe).\n- Cramp (x) y\n"
                "- Rash (see (a)) (b)\n",
            ),
        )
        self.assertEqual(
            [(effect.name, note) for effect, note in parsed.side_effects],
            [
                ("Nausea (mild (rarely) severe)", ""),
                ("Cramp (x) y", ""),
                ("Rash", "see (a)) (b"),
            ],
        )

    def test_a_paragraph_of_a_quarter_million_lines(self):
        # Each line used to be added to a growing string, copying it again.
        content = page("Magnesium malate", "### Precautions\n" + "a\n" * 250_000)
        problem = self.problem("lines.md", content)
        self.assertLess(self.seconds, STALL_SECONDS)
        self.assertIn("section 'Precautions'", problem.message)
        self.assertIn("characters long", problem.message)


class FileSizeTests(ProblemMixin, SimpleTestCase):
    def test_a_file_over_the_default_limit_is_refused(self):
        content = page("Magnesium malate", "### Usage\n" + "x" * MAX_FILE_BYTES)
        problem = self.problem("big.md", content)
        self.assertLess(self.seconds, STALL_SECONDS)
        self.assertIn(f"the limit is {MAX_FILE_BYTES:,} bytes", problem.message)
        self.assertIsNone(problem.line)

    def test_a_file_just_under_the_limit_is_read_in_time(self):
        body = (
            "### Usage\n" + ("Magnesium is absorbed in the small intestine.\n\n") * 2000
        )
        content = page("Magnesium malate", body)
        self.assertLess(len(content), MAX_FILE_BYTES)
        seconds, parsed = self.timed_parse("large.md", content)
        self.assertLess(seconds, STALL_SECONDS)
        self.assertEqual(parsed.fields["usage"].count("absorbed"), 2000)

    def test_something_other_than_a_file_is_refused(self):
        pipe = self.folder / "pipe.md"
        os.mkfifo(pipe)
        with self.assertRaises(ImportProblem) as caught:
            parse_file(pipe)
        self.assertIn("not a regular file", caught.exception.message)


class MarkdownSectionTests(ProblemMixin, SimpleTestCase):
    """Markdown the renderer would refuse is an import problem naming where."""

    deep = "- " * (MAX_NESTING_DEPTH + 5) + "x"

    def test_a_section(self):
        problem = self.problem(
            "deep.md",
            page("Magnesium malate", f"### Usage\nFine.\n\n### Dosage\n{self.deep}"),
        )
        self.assertEqual(problem.line, 10)
        self.assertIn("section 'Dosage'", problem.message)
        self.assertIn("nests lists, quotes or indentation", problem.message)

    def test_a_section_too_long(self):
        problem = self.problem(
            "long.md",
            page(
                "Magnesium malate", "### Usage\n" + "word " * (MAX_MARKDOWN_CHARS // 4)
            ),
        )
        self.assertEqual(problem.line, 7)
        self.assertIn(f"the limit is {MAX_MARKDOWN_CHARS:,}", problem.message)

    def test_the_text_before_the_first_section(self):
        problem = self.problem(
            "summary.md",
            page("Magnesium malate", f"Intro.\n{self.deep}\n\n### Usage\nx"),
        )
        self.assertEqual(problem.line, 7)
        self.assertIn("the text before the first section", problem.message)

    def test_a_precaution(self):
        problem = self.problem(
            "precaution.md",
            page("Magnesium malate", f"### Precautions\n* **Kidneys:** {'[' * 40}"),
        )
        self.assertEqual(problem.line, 8)
        self.assertIn("precaution 'Kidneys'", problem.message)

    def test_an_faq_answer(self):
        problem = self.problem(
            "faq.md",
            page("Magnesium malate", f"### FAQs\n* **Q: Safe?** A: {'[' * 40}"),
        )
        self.assertIn("the answer to 'Safe?'", problem.message)

    def test_a_side_effect_note(self):
        problem = self.problem(
            "effect.md",
            page("Magnesium malate", f"### Side Effects\n- Nausea ({'[' * 40})"),
        )
        self.assertIn("the note of a side effect", problem.message)

    def test_a_front_matter_fact(self):
        problem = self.problem(
            "fact.md",
            "---\ntitle: Magnesium malate\ncategory: organic-salt\n"
            f"absorption_notes: '{'[' * 40}'\n---\n",
        )
        self.assertEqual(problem.line, 4)
        self.assertIn("front matter 'absorption_notes'", problem.message)

    def test_a_front_matter_row(self):
        problem = self.problem(
            "row.md",
            "---\ntitle: Magnesium malate\ndoses:\n- population: adults\n"
            "- population: children\n"
            f"  notes: '{'[' * 40}'\n---\n",
        )
        self.assertEqual(problem.line, 5)
        self.assertIn("front matter 'doses', row 2, 'notes'", problem.message)

    def test_the_sections_kept_under_other_sections(self):
        # Each fits on its own; together they are too long for one field.
        words = "word " * (MAX_MARKDOWN_CHARS // 10)
        body = "".join(f"### Extra {index}\n{words}\n\n" for index in range(3))
        problem = self.problem("other.md", page("Magnesium malate", body))
        self.assertEqual(problem.line, 7)
        self.assertIn("the sections kept under 'other sections'", problem.message)

    def test_a_clinical_summary_section(self):
        problem = self.problem(
            "summary.txt",
            f"Magnesium Malate\n\nDosing\n{'[' * 40}\n",
        )
        self.assertEqual(problem.line, 3)
        self.assertIn("section 'Dosing'", problem.message)


# Files in the front-matter layout with YAML and Markdown that may be
# anything: valid, broken, or built to be slow.
YAML_VALUES = st.sampled_from(
    ["x", "[a, b]", "{a: 1}", "&a x", "*a", "[[[[", "2020-13-45", "'unclosed", "1e9999",
     "!!binary x", "- a", "? x", "|\n  block", "null", "~", "0x1F", "@x", "`x"]
)  # fmt: skip
LINES = st.sampled_from(
    ["### Usage", "## Dosage", "### Side Effects", "### Precautions", "### FAQs",
     "### Other", "# Title", "- Nausea (mild)", "* **Label:** text", "* **Q: Why?** A: x",
     "**Disclaimer:** x", "[", "(", "`", "    indented", "", "## ##", "- " * 30 + "x",
     "text [@a] *em*", "1. numbered", "> quote", "---"]
)  # fmt: skip


@st.composite
def monograph_files(draw):
    front = draw(st.lists(st.tuples(st.sampled_from(
        ["title", "synonyms", "doses", "evidence", "category", "absorption_notes", "x"]
    ), YAML_VALUES), max_size=6))  # fmt: skip
    body = draw(st.lists(LINES, max_size=40))
    repeat = draw(st.integers(1, 500))
    if draw(st.booleans()):
        head = [
            "---",
            "title: Magnesium fuzz",
            *(f"{key}: {value}" for key, value in front),
            "---",
        ]
    else:
        head = ["Magnesium Fuzz"]
    tail = draw(st.lists(LINES, max_size=3))
    return "\n".join(head + body + tail * repeat)


class ParserFuzzTests(TemporaryFolderMixin, SimpleTestCase):
    @settings(
        max_examples=150,
        # Generous: files parse in milliseconds; a stall would take seconds.
        deadline=None,  # a stall fails the STALL_SECONDS guard instead
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(content=monograph_files())
    def test_a_file_parses_or_is_a_problem_quickly(self, content):
        path = write(self.folder, "fuzz.md", content)
        start = time.perf_counter()
        try:
            parsed = parse_file(path)
        except ImportProblem as problem:
            self.assertEqual(problem.path, path)
            self.assertTrue(problem.message)
        else:
            self.assertIsInstance(parsed, ParsedMonograph)
        self.assertLess(time.perf_counter() - start, STALL_SECONDS)
