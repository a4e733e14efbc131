"""Diffs readers can follow: Markdown shown rendered, citations as reference
numbers, changed paragraphs before and after, headings that say what changed."""

import re
import time
from html.parser import HTMLParser

from django.test import SimpleTestCase, TestCase

from monographs import diffs
from monographs.diffs import html_diff, label_change
from monographs.history import change_context
from monographs.markdown import render_markdown
from tests import factories
from tests.history.helpers import approve, create_monograph, edit, fresh, text_of
from tests.stall import STALL_SECONDS

SIDE_RE = re.compile(
    r'<div class="diff-side diff-(old|new)">'
    r'<span class="diff-side-label">\w+</span>(.*?)</div>',
    re.S,
)
DEL_RE = re.compile(r"<del>(.*?)</del>", re.S)
INS_RE = re.compile(r"<ins>(.*?)</ins>", re.S)
VOID = {"br", "hr", "img", "wbr", "input", "meta", "link"}


def sides(markup):
    """[(which, HTML)] of the before/after sides, in order."""
    return SIDE_RE.findall(str(markup))


def assert_well_formed(test, markup):
    """Every tag the markup opens, it closes, in order."""
    stack = []

    class Checker(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag not in VOID:
                stack.append(tag)

        def handle_endtag(self, tag):
            test.assertTrue(stack, f"</{tag}> closes nothing in {markup}")
            test.assertEqual(stack.pop(), tag, f"misnested </{tag}> in {markup}")

    Checker().feed(str(markup))
    test.assertEqual(stack, [], f"left open: {stack}")


def rendered(text):
    return str(render_markdown(text))


class HtmlDiffTests(SimpleTestCase):
    def test_a_new_paragraph_is_a_whole_block_not_a_tiny_mark(self):
        old = rendered("First paragraph.\n\nSecond paragraph.")
        new = rendered("First paragraph.\n\nSecond paragraph.\n\nA third one.")
        markup = str(html_diff(old, new))
        self.assertEqual(len(sides(markup)), 2)
        (_, before), (_, after) = sides(markup)
        self.assertIn("No paragraph here", before)
        self.assertEqual(
            [text_of(part) for part in INS_RE.findall(after)],
            ["[added: A third one.]"],
        )
        self.assertIn("<p><ins>", after)
        # The paragraph before the change is shown once, as context.
        self.assertIn(
            '<div class="diff-context"><p>Second paragraph.</p></div>', markup
        )
        self.assertNotIn("<del>", markup)

    def test_a_changed_paragraph_shows_before_and_after_with_its_words(self):
        old = rendered("Take **500 mg** a day with food.")
        new = rendered("Take **400 mg** a day, with food.")
        markup = html_diff(old, new)
        (which_old, before), (which_new, after) = sides(markup)
        self.assertEqual((which_old, which_new), ("old", "new"))
        self.assertEqual(
            [text_of(p) for p in DEL_RE.findall(before)], ["[removed: 500]"]
        )
        self.assertEqual(
            [text_of(p) for p in INS_RE.findall(after)],
            ["[added: 400]", "[added: ,]"],
        )
        # Emphasis is kept as the reader sees it, on both sides.
        self.assertIn("<strong><del>", before)
        self.assertIn("<strong><ins>", after)
        assert_well_formed(self, markup)

    def test_paragraph_breaks_are_kept(self):
        old = rendered("One.\n\nTwo.\n\nThree.")
        new = rendered("One.\n\nTwo, changed.\n\nThree.")
        markup = str(html_diff(old, new))
        (_, before), (_, after) = sides(markup)
        self.assertEqual(before.count("<p>"), 1)
        self.assertEqual(after.count("<p>"), 1)
        self.assertEqual(markup.count('class="diff-context"'), 2)

    def test_unchanged_paragraphs_far_from_a_change_are_counted_not_shown(self):
        paragraphs = [f"Paragraph {n}." for n in range(10)]
        old = rendered("\n\n".join(paragraphs))
        paragraphs[9] = "Paragraph nine, rewritten."
        new = rendered("\n\n".join(paragraphs))
        markup = str(html_diff(old, new))
        self.assertIn('<p class="diff-skipped">8 unchanged paragraphs</p>', markup)
        self.assertIn("Paragraph 8.", markup)
        self.assertNotIn("Paragraph 3.", markup)

    def test_removing_markup_stays_well_formed(self):
        old = rendered(
            "- one *two* three\n- [a link](https://example.org/a) here\n\n> quoted"
        )
        new = rendered("- one three\n- here\n\n> quoted, more")
        assert_well_formed(self, html_diff(old, new))

    def test_text_added_whole_is_marked_whole(self):
        markup = str(html_diff("", rendered("New text.\n\nAnd more.")))
        self.assertEqual(
            [text_of(p) for p in INS_RE.findall(markup)],
            ["[added: New text.]", "[added: And more.]"],
        )
        self.assertNotIn("diff-old", markup)

    def test_text_removed_whole_is_marked_whole(self):
        markup = str(html_diff(rendered("Gone."), ""))
        self.assertEqual(
            [text_of(p) for p in DEL_RE.findall(markup)], ["[removed: Gone.]"]
        )
        self.assertNotIn("diff-new", markup)

    def test_markup_in_text_stays_escaped(self):
        old = rendered("Plain.")
        new = rendered("Plain <script>alert(1)</script> & more.")
        markup = str(html_diff(old, new))
        self.assertNotIn("<script", markup)
        self.assertIn("&lt;script&gt;", markup)


class HtmlDiffBoundsTests(SimpleTestCase):
    """The same bounds as word_diff: guards against stalls, not timings."""

    def test_many_paragraphs_each_changed_stay_bounded(self):
        old = rendered("\n\n".join(f"Line {n} of the old text." for n in range(3000)))
        new = rendered("\n\n".join(f"Line {n} of the new text!" for n in range(3000)))
        started = time.process_time()
        markup = str(html_diff(old, new))
        self.assertLess(time.process_time() - started, STALL_SECONDS)
        self.assertIn("Line 2999", markup)

    def test_past_the_block_budget_the_texts_are_shown_whole(self):
        old = rendered("\n\n".join(f"a{n}" for n in range(40)))
        new = rendered("\n\n".join(f"b{n}" for n in range(40)))
        with self.settings():
            original = diffs.MAX_LINE_WORK
            diffs.MAX_LINE_WORK = 100
            try:
                markup = str(html_diff(old, new))
            finally:
                diffs.MAX_LINE_WORK = original
        self.assertIn("changed too much to compare word by word", markup)
        self.assertIn("[removed: a0]", text_of(markup))
        self.assertIn("[added: b39]", text_of(markup))

    def test_one_huge_paragraph_is_replaced_whole(self):
        old = rendered(" ".join(f"w{n}" for n in range(5000)))
        new = rendered(" ".join(f"v{n}" for n in range(5000)))
        started = time.process_time()
        markup = str(html_diff(old, new))
        self.assertLess(time.process_time() - started, STALL_SECONDS)
        (_, before), (_, after) = sides(markup)
        self.assertEqual(len(DEL_RE.findall(before)), 1)
        self.assertEqual(len(INS_RE.findall(after)), 1)


class LabelChangeTests(SimpleTestCase):
    def test_the_words_that_changed_are_shown_with_an_arrow(self):
        self.assertEqual(
            label_change("Adults, 125–300 mg/day", "Adults, 150–300 mg/day"),
            "Adults, 125–300 → 150–300 mg/day",
        )

    def test_a_whole_new_label(self):
        self.assertEqual(
            label_change("Tetracyclines", "Quinolones"), "Tetracyclines → Quinolones"
        )

    def test_a_word_added_at_the_end(self):
        self.assertEqual(
            label_change("Kidney disease", "Kidney disease, severe"),
            "Kidney disease → Kidney disease, severe",
        )


class RenderedDiffPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory()
        cls.first = factories.CitationFactory(key="first2020", title="First trial")
        cls.second = factories.CitationFactory(key="second2021", title="Second trial")
        cls.form = create_monograph(
            cls.editor,
            name="Magnesium glycinate",
            slug="magnesium-glycinate",
            summary="Well tolerated [@first2020].",
            dosage_notes="Take it with food.\n\nSplit larger doses.",
        )
        with change_context(reason="Doses", user=cls.editor):
            cls.dose = factories.DoseFactory(
                form=cls.form, population="Adults", minimum_mg=125, maximum_mg=300
            )
        approve(cls.form, cls.reviewer)
        edit(
            cls.form,
            cls.editor,
            "New trial",
            summary="Well tolerated [@first2020], also at night [@second2021].",
            dosage_notes="Take it with food.\n\nSplit larger doses.\n\nDo not exceed the upper limit.",
        )
        with change_context(reason="Raise the dose", user=cls.editor):
            cls.dose.minimum_mg = 150
            cls.dose.save()
        approve(cls.form, cls.reviewer)
        cls.form = fresh(cls.form)

    def setUp(self):
        self.response = self.client.get(
            "/forms/magnesium-glycinate/diff/", {"from": 2, "to": 4}
        )
        self.content = self.response.content.decode()

    def test_citation_markers_become_reference_numbers(self):
        self.assertEqual(self.response.status_code, 200)
        self.assertNotIn("[@", self.content)
        self.assertNotIn("first2020]", self.content)
        summary = re.search(r"<dt>Summary</dt><dd[^>]*>(.*?)</dd>", self.content, re.S)
        (_, before), (_, after) = sides(summary.group(1))
        # Numbered as on the newer revision's page, linked to its references.
        self.assertIn(
            '<a href="/forms/magnesium-glycinate/revisions/4/#ref-1">1</a>', before
        )
        self.assertIn('<a href="/forms/magnesium-glycinate/revisions/4/#ref-2">', after)
        self.assertIn("[added: 2]", text_of(after))
        self.assertNotIn("[removed: 1]", text_of(before))

    def test_no_id_repeats_on_the_page(self):
        ids = re.findall(r'\sid="([^"]+)"', self.content)
        self.assertEqual(len(ids), len(set(ids)), ids)

    def test_an_added_paragraph_keeps_its_paragraph(self):
        notes = re.search(
            r"<dt>Dosage notes</dt><dd[^>]*>(.*?)</dd>", self.content, re.S
        ).group(1)
        (_, before), (_, after) = sides(notes)
        self.assertIn("No paragraph here", before)
        self.assertEqual(
            [text_of(p) for p in INS_RE.findall(after)],
            ["[added: Do not exceed the upper limit.]"],
        )
        self.assertIn("<p>Split larger doses.</p>", notes)

    def test_row_headings_say_what_changed(self):
        self.assertIn(
            "<strong>Doses, changed:</strong> Adults, 125–300 → 150–300 mg/day",
            self.content,
        )

    def test_section_lines_say_what_changed(self):
        self.assertIn('<p class="diff-what">Doses: 1 changed.</p>', self.content)
        self.assertIn('<p class="diff-what">Dosage notes changed.</p>', self.content)

    def test_either_order_gives_the_same_diff(self):
        reverse = self.client.get(
            "/forms/magnesium-glycinate/diff/", {"from": 4, "to": 2}
        )
        self.assertEqual(reverse.status_code, 200)
        self.assertContains(reverse, "changes from revision 2 to 4")
        # The breadcrumb names the diff as the cache keys it, older first.
        self.assertEqual(
            re.sub(r'<link rel="canonical"[^>]*>', "", reverse.content.decode()),
            re.sub(r'<link rel="canonical"[^>]*>', "", self.content),
        )

    def test_breadcrumbs_lead_back_to_the_history(self):
        self.assertIn(
            '<a href="/forms/magnesium-glycinate/history/">History</a>', self.content
        )
