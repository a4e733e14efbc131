"""Diffs between two revisions: word by word inside text, row by row, with text labels."""

import re
from unittest import mock

from django.test import SimpleTestCase, TestCase

from monographs import diffs, services
from monographs.diffs import word_diff
from monographs.history import change_context
from tests import factories
from tests.history.helpers import approve, create_monograph, edit, fresh, text_of

DEL_RE = re.compile(r"<del>(.*?)</del>", re.S)
INS_RE = re.compile(r"<ins>(.*?)</ins>", re.S)
ROW_RE = re.compile(r'<li class="diff-row diff-(\w+)">(.*?)</li>', re.S)
SIDE_RE = re.compile(
    r'<div class="diff-side diff-(?:old|new)">'
    r'<span class="diff-side-label">\w+</span>(.*?)</div>',
    re.S,
)


def removed(markup):
    return [text_of(part) for part in DEL_RE.findall(markup)]


def added(markup):
    return [text_of(part) for part in INS_RE.findall(markup)]


def row_changes(response):
    """[(action, text)] of the rows a diff page lists."""
    return [
        (action, text_of(body))
        for action, body in ROW_RE.findall(response.content.decode())
    ]


def by_heading(response):
    """{"Doses, added": text, …} of the rows a diff page lists."""
    return {text.split(":", 1)[0]: text for _, text in row_changes(response)}


class DiffTests(TestCase):
    """Revision 1 has one row of each kind; revision 2 changes all of them."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(first_name="Erin", last_name="Editor")
        cls.reviewer = factories.ReviewerFactory()
        cls.alpha = factories.CitationFactory(key="alpha2020", title="Alpha trial")
        cls.beta = factories.CitationFactory(key="beta2021", title="Beta trial")
        cls.gamma = factories.CitationFactory(key="gamma2022", title="Gamma trial")
        with change_context(reason="Wrote the monograph", user=cls.editor):
            cls.form = factories.MagnesiumFormFactory(
                name="Magnesium glycinate",
                slug="magnesium-glycinate",
                summary="Glycinate is well tolerated by most adults.",
                mechanism="Glycine may calm the nervous system.",
            )
            cls.evidence = factories.EvidenceFactory(
                form=cls.form,
                indication=factories.IndicationFactory(name="Sleep quality"),
                summary="Small trials.",
            )
            cls.evidence.citations.add(cls.alpha)
            cls.side_effect = factories.FormSideEffectFactory(
                form=cls.form,
                side_effect=factories.SideEffectFactory(name="Loose stools"),
                notes="Rare.",
            )
            cls.dose = factories.DoseFactory(
                form=cls.form, population="Adults", notes="With food."
            )
            cls.interaction = factories.InteractionFactory(
                form=cls.form, drug_class="Tetracyclines", management="Separate doses."
            )
            cls.precaution = factories.PrecautionFactory(
                form=cls.form, label="Kidney disease", text="Ask a doctor."
            )
            cls.faq = factories.FAQFactory(
                form=cls.form, question="Can I take it at night?", answer="Yes."
            )
        approve(cls.form, cls.reviewer)
        with change_context(reason="Reviewed every section", user=cls.editor):
            form = fresh(cls.form)
            form.summary = "Glycinate is usually well tolerated by adults."
            form.save()
            cls.evidence.certainty = "moderate"
            cls.evidence.save()
            cls.evidence.citations.add(cls.beta)
            cls.side_effect.notes = "Rare, at high doses."
            cls.side_effect.save()
            cls.dose.delete()
            factories.DoseFactory(
                form=form, population="Older adults", notes="Start low."
            )
            cls.interaction.management = "Separate doses by four hours."
            cls.interaction.save()
            cls.interaction.citations.add(cls.gamma)
            cls.precaution.delete()
            factories.PrecautionFactory(form=form, label="Heart block", text="Avoid.")
            cls.faq.answer = "Yes, it may help sleep."
            cls.faq.save()
        approve(cls.form, cls.reviewer)
        edit(cls.form, cls.editor, "Unreviewed", summary="Secret draft wording.")

    def diff(self, old, new, client=None):
        return (client or self.client).get(
            "/forms/magnesium-glycinate/diff/", {"from": old, "to": new}
        )

    def test_text_changes_are_marked_word_by_word(self):
        response = self.diff(1, 2)
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        summary = re.search(r"<dt>Summary</dt><dd[^>]*>(.*?)</dd>", content, re.S)
        self.assertIsNotNone(summary, "the summary is listed as changed")
        # The summary is Markdown: its paragraph shows before and after.
        before, after = SIDE_RE.findall(summary.group(1))
        self.assertEqual(removed(before), ["[removed: most ]"])
        self.assertEqual(added(before), [])
        self.assertEqual(added(after), ["[added: usually]"])
        self.assertEqual(removed(after), [])
        self.assertEqual(
            text_of(DEL_RE.sub("", before)),
            "Glycinate is well tolerated by adults.",
        )
        self.assertEqual(
            text_of(INS_RE.sub("", after)),
            "Glycinate is well tolerated by adults.",
        )

    def test_changes_carry_text_labels_not_only_colour(self):
        response = self.diff(1, 2)
        self.assertContains(response, "<ins>")
        self.assertContains(response, "<del>")
        self.assertContains(response, "[added: ")
        self.assertContains(response, "[removed: ")
        self.assertContains(response, "marked “removed”")

    def test_unchanged_sections_are_not_listed(self):
        content = self.diff(1, 2).content.decode()
        self.assertNotIn("<dt>How it works</dt>", content)
        self.assertNotIn("Glycine may calm", content)

    def test_rows_added_removed_and_changed_are_listed_per_section(self):
        rows = row_changes(self.diff(1, 2))
        headings = [text.split(":", 1)[0] for _, text in rows]
        self.assertIn("Doses, added", headings)
        self.assertIn("Doses, removed", headings)
        self.assertIn("Precautions, added", headings)
        self.assertIn("Precautions, removed", headings)
        self.assertIn("Evidence, changed", headings)
        self.assertIn("Interactions, changed", headings)
        self.assertIn("FAQs, changed", headings)
        self.assertEqual(len(rows), 8)

    def test_added_and_removed_rows_show_their_content(self):
        rows = by_heading(self.diff(1, 2))
        self.assertIn("Older adults", rows["Doses, added"])
        self.assertIn("[added: Start low.]", rows["Doses, added"])
        self.assertIn("[removed: With food.]", rows["Doses, removed"])
        self.assertIn("Heart block", rows["Precautions, added"])
        self.assertIn("Kidney disease", rows["Precautions, removed"])
        self.assertIn("[removed: Ask a doctor.]", rows["Precautions, removed"])

    def test_changed_rows_show_only_what_changed(self):
        rows = by_heading(self.diff(1, 2))
        self.assertIn("[added: , it may help sleep]", rows["FAQs, changed"])
        self.assertIn("[removed: Low]", rows["Evidence, changed"])
        self.assertIn("[added: Moderate]", rows["Evidence, changed"])
        self.assertNotIn("Small trials", rows["Evidence, changed"])
        self.assertIn("[added: by four hours]", rows["Interactions, changed"])

    def test_citation_changes_are_listed(self):
        rows = by_heading(self.diff(1, 2))
        self.assertIn("Citations", rows["Evidence, changed"])
        self.assertIn("[added: , beta2021]", rows["Evidence, changed"])
        self.assertIn("[added: gamma2022]", rows["Interactions, changed"])

    def test_side_effect_rows_are_labelled_side_effects(self):
        rows = row_changes(self.diff(1, 2))
        side_effect = [text for _, text in rows if "Loose stools" in text]
        self.assertEqual(len(side_effect), 1)
        self.assertTrue(
            side_effect[0].startswith("Side effects"),
            f"the section reads {side_effect[0].split(',')[0]!r}",
        )
        self.assertIn("[added: , at high doses]", side_effect[0])

    def test_page_names_both_revisions_and_links_to_them(self):
        response = self.diff(1, 2)
        self.assertContains(
            response, "Magnesium glycinate: changes from revision 1 to 2"
        )
        self.assertContains(response, 'href="/forms/magnesium-glycinate/revisions/1/"')
        self.assertContains(response, 'href="/forms/magnesium-glycinate/revisions/2/"')
        self.assertContains(response, "Reviewed every section")
        # One address per pair of revisions, whichever order was asked; the
        # page may be indexed (Lighthouse's SEO audit fails a noindex page).
        self.assertContains(
            response,
            '<link rel="canonical" href="http://testserver'
            '/forms/magnesium-glycinate/diff/?from=1&amp;to=2">',
        )
        self.assertNotContains(response, "noindex")
        self.assertContains(
            self.diff(2, 1),
            '<link rel="canonical" href="http://testserver'
            '/forms/magnesium-glycinate/diff/?from=1&amp;to=2">',
        )

    def test_a_diff_over_several_revisions_sums_them_up(self):
        self.client.force_login(self.editor)
        response = self.diff(1, 3)
        self.assertIn("[added: Secret]", text_of(response.content.decode()))
        self.assertContains(response, "Doses, added")

    def test_a_revert_shows_no_differences(self):
        services.monograph_revert(form=self.form, user=self.editor, revision_number=1)
        self.client.force_login(self.editor)
        response = self.diff(1, 4)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No differences.")

    def test_text_in_a_diff_is_escaped(self):
        edit(self.form, self.editor, "Markup", summary="<img src=x onerror=alert(1)>")
        self.client.force_login(self.editor)
        response = self.diff(3, 4)
        self.assertNotContains(response, "<img src=x")
        self.assertContains(response, "&lt;img")

    def test_a_diff_with_an_unapproved_revision_is_404_for_readers(self):
        self.assertEqual(self.diff(2, 3).status_code, 404)
        self.assertEqual(self.diff(1, 3).status_code, 404)
        self.assertEqual(self.diff(1, 2).status_code, 200)

    def test_staff_can_compare_an_unapproved_revision(self):
        self.client.force_login(self.editor)
        response = self.diff(2, 3)
        self.assertEqual(response.status_code, 200)
        self.assertIn("[added: Secret]", text_of(response.content.decode()))
        self.assertContains(response, "Pending review")

    def test_a_diff_with_a_revision_sent_back_is_404_for_readers(self):
        services.monograph_request_changes(
            form=self.form, user=self.reviewer, revision_number=3, comment="No."
        )
        self.assertEqual(self.diff(2, 3).status_code, 404)

    def test_staff_get_a_compare_with_published_link_on_the_draft(self):
        self.client.force_login(self.editor)
        draft = self.client.get("/forms/magnesium-glycinate/draft/")
        self.assertContains(
            draft,
            '<a href="/forms/magnesium-glycinate/diff/?from=2&amp;to=3">'
            "compare with published</a>",
        )
        response = self.diff(2, 3)
        self.assertIn("[added: Secret]", text_of(response.content.decode()))

    def test_draft_without_unpublished_changes_has_no_compare_link(self):
        approve(self.form, self.reviewer)
        self.client.force_login(self.editor)
        draft = self.client.get("/forms/magnesium-glycinate/draft/")
        self.assertNotContains(draft, "compare with published")


class DiffArgumentTests(TestCase):
    """Revision numbers that cannot be compared get a 400 that says why, or a 404."""

    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.reviewer = factories.ReviewerFactory()
        cls.form = create_monograph(cls.editor, summary="One.")
        for number in (2, 3):
            edit(cls.form, cls.editor, f"Edit {number}", summary=f"Text {number}.")
        approve(cls.form, cls.reviewer)
        cls.other = create_monograph(cls.editor, name="Magnesium other")
        for number in range(2, 100):
            edit(cls.other, cls.editor, f"Edit {number}", summary="x" * number)
        approve(cls.other, cls.reviewer)

    def diff(self, query):
        return self.client.get(f"/forms/{self.form.slug}/diff/{query}")

    def assertProblem(self, query, explanation):
        for client in (self.client_class(), self.staff_client()):
            response = client.get(f"/forms/{self.form.slug}/diff/{query}")
            self.assertEqual(response.status_code, 400, query)
            self.assertContains(response, explanation, status_code=400)
            self.assertContains(
                response, f'href="/forms/{self.form.slug}/history/"', status_code=400
            )

    def staff_client(self):
        client = self.client_class()
        client.force_login(self.editor)
        return client

    def test_non_numeric_numbers_are_400(self):
        for query in [
            "?from=one&to=2",
            "?from=1&to=two",
            "?from=1.0&to=2",
            "?from=-1&to=2",
        ]:
            with self.subTest(query=query):
                self.assertProblem(query, "Give two revision numbers")

    def test_missing_numbers_are_400(self):
        for query in ["", "?from=1", "?to=2", "?from=&to=2"]:
            with self.subTest(query=query):
                self.assertProblem(query, "Give two revision numbers")

    def test_reversed_numbers_compare_the_older_with_the_newer(self):
        self.client.force_login(self.editor)
        response = self.diff("?from=3&to=1")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            (response.context["old"].number, response.context["new"].number), (1, 3)
        )

    def test_equal_numbers_are_400(self):
        self.assertProblem(
            "?from=2&to=2", "Choose two different revisions: both are 2."
        )

    def test_numbers_in_other_scripts_are_400(self):
        # str.isdigit() accepts "²" and "١", which int() rejects or reads oddly.
        for query in ["?from=²&to=3", "?from=1&to=³"]:
            with self.subTest(query=query):
                self.assertProblem(query, "Give two revision numbers")

    def test_unknown_numbers_are_404(self):
        self.client.force_login(self.editor)
        for query in [
            "?from=1&to=4",
            "?from=0&to=1",
            "?from=1&to=99999999999999999999",
        ]:
            with self.subTest(query=query):
                self.assertEqual(self.diff(query).status_code, 404)

    def test_a_number_from_another_forms_history_is_404(self):
        self.assertEqual(self.diff("?from=1&to=99").status_code, 404)
        self.client.force_login(self.editor)
        self.assertEqual(
            self.client.get(f"/forms/{self.other.slug}/diff/?from=1&to=99").status_code,
            200,
        )
        self.assertEqual(self.diff("?from=1&to=99").status_code, 404)
        self.assertEqual(self.diff("?from=50&to=99").status_code, 404)

    def test_an_unknown_monograph_is_404(self):
        response = self.client.get("/forms/no-such-form/diff/?from=1&to=2")
        self.assertEqual(response.status_code, 404)


class WordDiffBoundsTests(SimpleTestCase):
    """Diffs stay bounded: past a size they compare coarser units, and say so."""

    def test_lines_both_texts_share_are_set_aside(self):
        old = "same line\n" * 20_000
        new = "same line\n" * 10_000 + "changed line\n" + "same line\n" * 9_999
        html = word_diff(old, new)
        self.assertNotIn("too much to compare", html)
        self.assertIn("[added: </span>changed<", html)
        self.assertEqual(html.count("<ins>") + html.count("<del>"), 2)

    def test_past_the_line_budget_the_texts_are_shown_whole(self):
        with mock.patch.object(diffs, "MAX_LINE_WORK", 10):
            html = word_diff("a\nb\nc\nd\n", "w\nx\ny\nz\n")
        self.assertIn("too much to compare word by word", html)
        self.assertIn("[removed: </span>a\nb\nc\nd", html)

    def test_past_the_word_budget_a_block_is_replaced_whole(self):
        with mock.patch.object(diffs, "MAX_TOTAL_WORD_WORK", 0):
            html = word_diff("one two three", "one four three")
        self.assertIn("[removed: </span>one two three", html)
        self.assertIn("[added: </span>one four three", html)

    def test_words_change_within_a_line(self):
        html = word_diff("Take it with food.", "Take it without food.")
        self.assertIn("[removed: </span>with<", html)
        self.assertIn("[added: </span>without<", html)
