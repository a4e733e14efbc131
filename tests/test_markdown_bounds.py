"""The renderer's bounds: what it refuses, how fast it is, and that its
linear processors find what Python-Markdown's own would."""

import time
from types import SimpleNamespace
from unittest import mock

import markdown as python_markdown
from django.core.exceptions import ValidationError
from django.test import SimpleTestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown.inlinepatterns import (
    BACKTICK_RE,
    LINK_RE,
    BacktickInlineProcessor,
    LinkInlineProcessor,
)

from monographs import markdown as renderer
from monographs.markdown import (
    MAX_CITATION_KEYS,
    MAX_MARKDOWN_CHARS,
    MAX_NESTING_DEPTH,
    CitationNumbering,
    LinearBacktickProcessor,
    LinearLinkProcessor,
    markdown_problem,
    render_markdown,
    validate_markdown,
)
from tests.stall import STALL_SECONDS
from tests.test_markdown import Markup, executable_markup

# What the security probe found, each taking seconds or raising before.
PROBES = {
    "nested list markers (RecursionError)": "- " * 1000 + "x",
    "unclosed image openers (36 s)": "![" * 8000,
    "unclosed brackets (18 s)": "[" * 8000,
    "unclosed citation markers (16 s)": "[@a;" * 2000,
}


def fastest(function, *args, **kwargs):
    """The best of three timings of ``function``, in seconds, and its result."""
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        timings.append(time.perf_counter() - start)
    return min(timings), result


def numbering():
    return CitationNumbering([SimpleNamespace(key="a"), SimpleNamespace(key="b")])


def largest_accepted(unit, prefix="x "):
    """``prefix`` and as many repetitions of ``unit`` as markdown_problem accepts."""
    low, high = 0, MAX_MARKDOWN_CHARS // len(unit)
    while low < high:
        middle = (low + high + 1) // 2
        if markdown_problem(prefix + unit * middle) is None:
            low = middle
        else:
            high = middle - 1
    return prefix + unit * low


class ProbeRegressionTests(SimpleTestCase):
    """The probe's inputs are refused at once and still render, as plain text."""

    def test_probes_are_refused_by_validation(self):
        for name, text in PROBES.items():
            with self.subTest(name), self.assertRaises(ValidationError):
                validate_markdown(text)

    def test_probes_are_refused_quickly(self):
        for name, text in PROBES.items():
            with self.subTest(name):
                seconds, _ = fastest(markdown_problem, text)
                self.assertLess(seconds, STALL_SECONDS)

    def test_probes_render_quickly_without_raising(self):
        for name, text in PROBES.items():
            for citations in (None, numbering()):
                with self.subTest(name, citations=citations is not None):
                    seconds, html = fastest(render_markdown, text, numbering=citations)
                    self.assertLess(seconds, STALL_SECONDS)
                    self.assertTrue(str(html).startswith("<p>"))

    def test_probes_render_as_their_own_text(self):
        html = str(render_markdown(PROBES["nested list markers (RecursionError)"]))
        self.assertEqual(Markup(html).tags("ul"), [])
        self.assertIn("- - - x", html)
        self.assertIn("[[[[", str(render_markdown(PROBES["unclosed brackets (18 s)"])))

    def test_probes_with_the_gate_lifted_render_quickly(self):
        # The processors themselves are linear: without markdown_problem in
        # the way, the bracket probes still render as Markdown in time.
        with mock.patch.object(renderer, "markdown_problem", return_value=None):
            for name in (
                "unclosed image openers (36 s)",
                "unclosed brackets (18 s)",
                "unclosed citation markers (16 s)",
            ):
                with self.subTest(name):
                    seconds, html = fastest(
                        render_markdown, PROBES[name], numbering=numbering()
                    )
                    self.assertLess(seconds, STALL_SECONDS)
                    self.assertNotIn("<a", str(html))

    def test_a_failed_render_does_not_spoil_the_next(self):
        # A RecursionError half-way used to leave the thread's converter in a
        # state where every later page rendered as raw Markdown.
        with mock.patch.object(renderer, "markdown_problem", return_value=None):
            render_markdown(PROBES["nested list markers (RecursionError)"])
        self.assertIn("<strong>bold</strong>", str(render_markdown("**bold**")))


class FormerlyQuadraticInputTests(SimpleTestCase):
    """Inputs within the bounds that Python-Markdown took seconds over."""

    CASES = {
        # Each "[" scanned to the end of the paragraph, six times over.
        "unclosed brackets before long text": ("[" + "x " * 2000) * 20,
        # Each link target scanned to the end for a closing quote.
        "titles that never close": '[a](b "c) ' * 1500,
        # Each unclosed "``" scanned to the end for its match.
        "unmatched code spans": "``a`" * 800,
        # The citation pattern retried a long run of spaces from each space.
        "a long run of spaces": "a" + " " * 60_000 + "b",
        # Links whose targets never close.
        "unclosed link targets": "[a](" * 2500,
    }

    def test_they_are_accepted(self):
        for name, text in self.CASES.items():
            with self.subTest(name):
                self.assertIsNone(markdown_problem(text))

    def test_they_render_quickly(self):
        for name, text in self.CASES.items():
            with self.subTest(name):
                seconds, _ = fastest(render_markdown, text, numbering=numbering())
                self.assertLess(seconds, STALL_SECONDS)


class AcceptedWorstCaseTests(SimpleTestCase):
    """The most of each costly construct validation accepts renders fast.

    markdown_problem estimates Python-Markdown's time and accepts up to
    MAX_RENDER_ESTIMATE_MS (100 ms); each case is the largest it accepts.
    """

    UNITS = [
        "a\n\n",  # paragraphs
        "- a\n",  # list items
        "| c | d |\n",  # table cells
        "*a*",  # emphasis, one paragraph
        "[@a] ",  # citations, one paragraph
        "[a](b) ",  # links
        '[x](y "t") ',  # links with titles
        "`a` ",  # code spans
        "a\n=\n",  # setext headings crowded into one paragraph
        "---\n",  # rules crowded into one paragraph
        "*a* [b](c) `d` [@a]\n\n",  # mixed paragraphs
        "[" * MAX_NESTING_DEPTH + "x" + "]" * MAX_NESTING_DEPTH,  # deep brackets
    ]

    def test_the_largest_accepted_text_renders_fast(self):
        for unit in self.UNITS:
            text = largest_accepted(
                unit, prefix="| a | b |\n|---|---|\n" if "|" in unit else "x "
            )
            with self.subTest(unit=unit, length=len(text)):
                seconds, _ = fastest(render_markdown, text, numbering=numbering())
                # About 0.1 s here; five times that on a busy machine.
                self.assertLess(seconds, STALL_SECONDS)


class ValidateMarkdownTests(SimpleTestCase):
    def refusal(self, text):
        with self.assertRaises(ValidationError) as caught:
            validate_markdown(text)
        return caught.exception, " ".join(caught.exception.messages)

    def test_ordinary_markdown_is_accepted(self):
        for text in [
            "",
            None,
            "Plain text.",
            "# Heading\n\nText with *emphasis*, `code` and [a link](https://e.com) [@a].",
            "- one\n- two\n    - nested\n\n1. first\n2. second",
            "> quoted\n> > twice",
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "Interval [0, 1) and a stray [ bracket.",
            "- " * MAX_NESTING_DEPTH + "deep but allowed",
        ]:
            with self.subTest(text=text):
                self.assertIsNone(validate_markdown(text))

    def test_the_seed_monograph_is_accepted_twenty_times_over(self):
        with open("tests/import_samples/004_6e5d669d74d2bdc6.txt") as file:
            page = file.read().split("---", 2)[2]
        text = ((page + "\n\n") * 20)[:MAX_MARKDOWN_CHARS]
        self.assertIsNone(validate_markdown(text))

    def test_too_long(self):
        error, message = self.refusal("a" * (MAX_MARKDOWN_CHARS + 1))
        self.assertEqual(error.code, "markdown_too_long")
        self.assertIn("100,001 characters", message)
        self.assertIn("the limit is 100,000", message)

    def test_lists_nested_too_deep_name_the_line(self):
        error, message = self.refusal("Fine.\n\n" + "- " * 30 + "x")
        self.assertEqual(error.code, "markdown_nested_too_deep")
        self.assertIn("Line 3", message)
        self.assertIn("30 levels", message)
        self.assertIn(f"the limit is {MAX_NESTING_DEPTH}", message)

    def test_quotes_and_indentation_count_as_nesting(self):
        for text in ["> " * 25 + "x", " " * 4 * 25 + "x", "> - " * 13 + "x"]:
            with self.subTest(text=text):
                error, _ = self.refusal(text)
                self.assertEqual(error.code, "markdown_nested_too_deep")

    def test_horizontal_rules_are_not_nesting(self):
        self.assertIsNone(validate_markdown("* " * 40))
        self.assertIsNone(validate_markdown("- " * 40))

    def test_unclosed_brackets_name_the_paragraph_and_the_escape(self):
        error, message = self.refusal("Fine.\n\nAlso fine.\n\n" + "[" * 50)
        self.assertEqual(error.code, "markdown_brackets")
        self.assertIn("line 5", message)
        self.assertIn("\\[", message)

    def test_brackets_nested_too_deep(self):
        depth = MAX_NESTING_DEPTH + 1
        error, _ = self.refusal("[" * depth + "x" + "]" * depth)
        self.assertEqual(error.code, "markdown_brackets")

    def test_escaped_brackets_are_text(self):
        self.assertIsNone(validate_markdown("\\[" * 500))

    def test_brackets_are_counted_per_paragraph(self):
        self.assertIsNone(validate_markdown("[ a\n\n" * 50))

    def test_too_many_citations(self):
        text = " ".join(f"[@k{index}]" for index in range(MAX_CITATION_KEYS + 1))
        error, message = self.refusal(text)
        self.assertEqual(error.code, "markdown_too_many_citations")
        self.assertIn("1,001 different sources", message)

    def test_too_many_paragraphs(self):
        error, message = self.refusal("a\n\n" * 5000)
        self.assertEqual(error.code, "markdown_too_complex")
        self.assertIn("5,000 paragraphs", message)

    def test_too_many_marks(self):
        error, message = self.refusal("*a* " * 5000)
        self.assertIn(error.code, {"markdown_too_complex", "markdown_crowded_marks"})
        self.assertIn("marks", message)

    def test_a_long_paragraph_crowded_with_marks_is_named(self):
        text = "Intro.\n\n" + ("*a*" + "x" * 60) * 1500
        error, message = self.refusal(text)
        self.assertEqual(error.code, "markdown_crowded_marks")
        self.assertIn("line 3", message)
        self.assertIn("split it with blank lines", message)

    def test_crowded_headings_ask_for_blank_lines(self):
        text = "Intro.\n\n" + "x" * 3000 + "\n" + "# Heading\n" * 500
        error, message = self.refusal(text)
        self.assertEqual(error.code, "markdown_crowded_headings")
        self.assertIn("line 3", message)
        self.assertIn("blank line before and after each heading", message)

    def test_the_same_headings_with_blank_lines_are_accepted(self):
        self.assertIsNone(
            validate_markdown("x" * 3000 + "\n\n" + "# Heading\n\n" * 500)
        )

    def test_validation_is_fast_on_the_longest_texts(self):
        for text in [
            "a" * MAX_MARKDOWN_CHARS,
            "a\n" * (MAX_MARKDOWN_CHARS // 2),
            "- " * (MAX_MARKDOWN_CHARS // 2),
            "[]" * (MAX_MARKDOWN_CHARS // 2),
            "[" * MAX_MARKDOWN_CHARS,
            "\\[" * (MAX_MARKDOWN_CHARS // 2),
            "*a*\n\n" * (MAX_MARKDOWN_CHARS // 5),
            " " * MAX_MARKDOWN_CHARS,
            "> " * (MAX_MARKDOWN_CHARS // 2),
            ("[" + "x " * 50) * (MAX_MARKDOWN_CHARS // 101),
        ]:
            with self.subTest(text=text[:20]):
                seconds, _ = fastest(markdown_problem, text)
                self.assertLess(seconds, STALL_SECONDS)


class PlainFallbackTests(SimpleTestCase):
    """What render_markdown shows for text it will not hand to Python-Markdown."""

    def test_refused_text_is_escaped_paragraphs(self):
        text = "<script>alert(1)</script> **not bold**\n\n" + "[" * 50
        html = str(render_markdown(text))
        self.assertEqual(executable_markup(html), [])
        self.assertIn("&lt;script&gt;", html)
        self.assertIn("**not bold**", html)
        self.assertEqual(html.count("<p>"), 2)

    def test_citations_are_still_numbered(self):
        citations = numbering()
        html = str(
            render_markdown(
                "Claim [@b]; again [@a; @b].\n\n" + "[" * 50, numbering=citations
            )
        )
        self.assertIn('<a href="#ref-1" id="cite-1-1"', html)
        self.assertEqual(
            [(number, anchors) for number, _, anchors in citations.references()],
            [(1, ["cite-1-1", "cite-1-2"]), (2, ["cite-2-1"])],
        )

    def test_unknown_citations_are_shown_as_needed(self):
        html = str(render_markdown("[@nosuch] " + "[" * 50, numbering=numbering()))
        self.assertIn("citation needed: nosuch", html)

    def test_without_numbering_markers_are_left_out(self):
        html = str(render_markdown("Claim [@a]. " + "[" * 50))
        self.assertNotIn("[@a]", html)
        self.assertIn("Claim.", html)

    def test_a_render_over_its_cpu_budget_falls_back(self):
        citations = numbering()
        text = "**Claim** [@a].\n\n" * 300
        with (
            mock.patch.object(renderer, "RENDER_CPU_SECONDS", 0),
            self.assertLogs("monographs.markdown", "WARNING") as logs,
        ):
            html = str(render_markdown(text, numbering=citations))
        self.assertIn("took too long", logs.output[0])
        self.assertIn("**Claim**", html)
        # Citations numbered before the render gave up are not counted twice.
        anchors = citations.references()[0][2]
        self.assertEqual(len(anchors), 300)
        self.assertEqual(len(set(anchors)), 300)
        self.assertIn("<strong>", str(render_markdown("**Claim**")))

    def test_a_recursion_error_falls_back(self):
        with (
            mock.patch.object(renderer, "_convert", side_effect=RecursionError),
            self.assertLogs("monographs.markdown", "WARNING") as logs,
        ):
            html = str(render_markdown("- x"))
        self.assertEqual(html, "<p>- x</p>")
        self.assertIn("nests too deeply", logs.output[0])

    def test_any_other_failure_falls_back_and_is_logged(self):
        converter = renderer._converter()
        with (
            mock.patch.object(
                converter.parser.blockprocessors["paragraph"],
                "run",
                side_effect=ValueError("bug"),
            ),
            self.assertLogs("monographs.markdown", "ERROR"),
        ):
            html = str(render_markdown("Some *text*."))
        self.assertEqual(html, "<p>Some *text*.</p>")
        # The converter that failed is replaced.
        self.assertIsNot(renderer._converter(), converter)
        self.assertIn("<em>text</em>", str(render_markdown("Some *text*.")))


# Text made of what Python-Markdown treats specially, including the
# openers that used to be scanned to the end of the paragraph.
TOKENS = [
    "[", "]", "(", ")", "![", "[@a]", "[@b; @a]", "[@a;", "[@nosuch]", "`", "``",
    "*", "**", "_", "__", "\\", "<", ">", "&amp;", "&#", '"', "'", " ", "  ", "\t",
    "\n", "\n\n", "- ", "* ", "1. ", "> ", "    ", "# ", "## ", "---", "===", "|",
    "| a | b |\n|---|---|\n", "[r]: https://e.com\n", "https://e.com", "x", "word",
    "<script>", "javascript:", "=", ":",
]  # fmt: skip
markdownish = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
# The same with runs of one piece repeated, where superlinear time shows.
repeated = st.tuples(markdownish, markdownish, st.integers(1, 2000)).map(
    lambda parts: parts[0] + parts[1] * parts[2]
)
FUZZ = settings(
    max_examples=200,
    # Generous: examples render in milliseconds; a stall would take seconds.
    deadline=None,  # a stall fails the STALL_SECONDS guard instead
    suppress_health_check=[HealthCheck.too_slow],
)


class RenderFuzzTests(SimpleTestCase):
    @FUZZ
    @given(text=st.one_of(markdownish, repeated))
    def test_never_raises_stays_fast_and_safe(self, text):
        start = time.perf_counter()
        html = str(render_markdown(text, numbering=numbering()))
        self.assertLess(time.perf_counter() - start, STALL_SECONDS)
        self.assertEqual(executable_markup(html), [])

    @FUZZ
    @given(text=st.one_of(markdownish, repeated))
    def test_validation_only_raises_validation_errors(self, text):
        start = time.perf_counter()
        try:
            validate_markdown(text)
        except ValidationError as error:
            self.assertTrue(error.messages)
        self.assertLess(time.perf_counter() - start, STALL_SECONDS)


link_text = st.lists(st.sampled_from(list("[]()'\" ab\n\t`<>\\!")), max_size=40).map(
    "".join
)


class LinearProcessorTests(SimpleTestCase):
    """The linear processors answer exactly as Python-Markdown's own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        md = python_markdown.Markdown()
        md.convert("x")  # unescape() needs the stash a conversion sets up
        cls.original = LinkInlineProcessor(LINK_RE, md)
        cls.linear = LinearLinkProcessor(LINK_RE, md)
        cls.original_code = BacktickInlineProcessor(BACKTICK_RE)
        cls.linear_code = LinearBacktickProcessor(BACKTICK_RE)

    @settings(max_examples=300, deadline=None)
    @given(data=link_text)
    def test_link_text_and_targets(self, data):
        for index in range(len(data)):
            if data[index] == "[":
                original = self.original.getText(data, index + 1)
                linear = self.linear.getText(data, index + 1)
                self.assertEqual(original[2], linear[2])
                if original[2]:
                    self.assertEqual(original, linear)
            if data[index] == "(":
                original = self.original.getLink(data, index)
                linear = self.linear.getLink(data, index)
                self.assertEqual(original[3], linear[3])
                if original[3]:
                    self.assertEqual(original, linear)

    @settings(max_examples=300, deadline=None)
    @given(data=link_text)
    def test_code_spans(self, data):
        for index in range(len(data)):
            if data[index] == "`":
                self.assertEqual(
                    self.original_code.find_code_spans(index, data),
                    self.linear_code.find_code_spans(index, data),
                )

    def test_the_index_survives_replacements_before_the_position(self):
        # Python-Markdown replaces each link it finds by a placeholder and
        # goes on from there: the index built for the first text still holds.
        data = "[a](b) [c" + " x" * 10 + " [d](e)"
        self.assertTrue(self.linear.getText(data, 1)[2])
        replaced = "\x02klzzwxh:0\x03" + data[6:]
        start = replaced.index("[d]") + 1
        self.assertEqual(self.linear.getText(replaced, start), ("d", start + 2, True))
        self.assertEqual(
            self.linear.getText(replaced, replaced.index("[c") + 1)[2], False
        )
