"""The reader's site as a person sees it, in Chromium: a screenshot of every
public page at 1280 and 390 px (kept under test-artifacts/screens/), no
sideways scroll, a chart drawn in colour with its labels whole, breadcrumbs
on one line, comparison by ticking boxes with scripts off, diffs side by
side on wide screens, and a printed page that says what it is."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.browser.conftest import ARTIFACTS, REPORTS
from tests.browser.pages import PUBLIC_PAGES, make_second_revision

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 390)
SCREENS = ARTIFACTS / "screens"


def open_page(session, width):
    page = session.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    return page


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def site(seeded, live_server):
    make_second_revision()
    return live_server.url


class ScreenshotTests:
    def test_every_public_page_at_both_widths(self, site, sessions):
        """Screenshots for people to look at, and no page wider than the screen."""
        SCREENS.mkdir(parents=True, exist_ok=True)
        session = sessions()
        wide = []
        for width in WIDTHS:
            page = open_page(session, width)
            for name, path in PUBLIC_PAGES.items():
                page.goto(f"{site}{path}")
                slug = re.sub(r"\W+", "-", name)
                page.screenshot(path=SCREENS / f"{slug}-{width}.png", full_page=True)
                if scroll_width(page) > width:
                    wide.append(f"{name} at {width}: {scroll_width(page)} px")
        REPORTS.append(f"Screenshots of {len(PUBLIC_PAGES)} pages in {SCREENS}")
        assert wide == [], "pages scroll sideways:\n" + "\n".join(wide)
        # The strict CSP blocks any inline style or script: none was tried.
        assert session.console_errors == []


CHART_FACTS = """() => Array.from(document.querySelectorAll('.bar-chart li')).map(li => {
  const label = li.querySelector('.chart-label');
  const bar = li.querySelector('rect.chart-bar');
  const figure = li.closest('figure').getBoundingClientRect();
  const box = label.getBoundingClientRect();
  return {
    label: label.textContent.trim(),
    fill: getComputedStyle(bar).fill,
    barWidth: bar.getBoundingClientRect().width,
    clipped: label.scrollWidth > label.clientWidth + 1
      || box.left < figure.left - 1 || box.right > figure.right + 1,
    visible: box.width > 0 && box.height > 0,
  };
})"""


class ChartTests:
    @pytest.mark.parametrize("width", WIDTHS)
    def test_bars_are_coloured_and_labels_whole(self, site, sessions, width):
        page = open_page(sessions(), width)
        page.goto(f"{site}/forms/")
        bars = page.evaluate(CHART_FACTS)
        assert len(bars) == 14
        assert "Magnesium L-threonate" in [bar["label"] for bar in bars]
        for bar in bars:
            assert bar["fill"] not in ("rgb(0, 0, 0)", "black", "none"), bar
            assert bar["barWidth"] > 0, bar
            assert bar["visible"] and not bar["clipped"], bar
        # Oxide (60.3%) draws the longest bar, gluconate (5.9%) the shortest.
        widths = {bar["label"]: bar["barWidth"] for bar in bars}
        assert widths["Magnesium oxide"] == max(widths.values())
        assert widths["Magnesium gluconate"] == min(widths.values())


class BreadcrumbTests:
    @pytest.mark.parametrize(
        "path",
        [
            "/forms/magnesium-glycinate/",
            "/forms/magnesium-glycinate/history/",
            "/indications/sleep-quality/",
        ],
    )
    def test_breadcrumbs_are_one_line_of_links_not_a_numbered_list(
        self, site, sessions, path
    ):
        page = open_page(sessions(), 1280)
        page.goto(f"{site}{path}")
        facts = page.evaluate(
            """() => {
              const ol = document.querySelector('nav.breadcrumbs ol');
              const items = Array.from(ol.children);
              return {
                listStyle: getComputedStyle(ol).listStyleType,
                displays: items.map(li => getComputedStyle(li).display),
                tops: items.map(li => Math.round(li.getBoundingClientRect().top)),
                separators: items.slice(1).map(
                  li => getComputedStyle(li, '::before').content),
              };
            }"""
        )
        assert facts["listStyle"] == "none"
        assert "list-item" not in facts["displays"]
        assert len(set(facts["tops"])) == 1, "breadcrumbs wrap onto lines"
        assert all("›" in content for content in facts["separators"])


class CompareByChoosingTests:
    def test_ticking_forms_compares_them_with_scripts_off(self, site, browser):
        context = browser.new_context(java_script_enabled=False)
        try:
            page = context.new_page()
            page.goto(f"{site}/forms/")
            page.check("input[type=checkbox][value=magnesium-glycinate]")
            page.check("input[type=checkbox][value=magnesium-citrate]")
            page.click("text=Compare selected forms")
            page.wait_for_url(re.compile(r"/forms/compare/"))
            query = parse_qsl(urlsplit(page.url).query)
            assert query == [
                ("forms", "magnesium-citrate"),
                ("forms", "magnesium-glycinate"),
            ]
            assert page.inner_text("h1") == "Comparing 2 forms"
            # Add a third form.
            page.select_option("#add-form", "magnesium-oxide")
            page.click("text=Add to the comparison")
            page.wait_for_url(re.compile(r"magnesium-oxide"))
            assert page.inner_text("h1") == "Comparing 3 forms"
            # Remove one again.
            page.click("text=Remove magnesium citrate")
            page.wait_for_url(re.compile(r"/forms/compare/"))
            assert page.inner_text("h1") == "Comparing 2 forms"
            headings = page.eval_on_selector_all(
                "table.compare thead th",
                "cells => cells.map(c => c.textContent.trim())",
            )
            assert headings == ["Magnesium glycinate", "Magnesium oxide"]
        finally:
            context.close()

    def test_one_box_ticked_says_what_to_do(self, site, sessions):
        page = open_page(sessions(), 1280)
        page.goto(f"{site}/forms/")
        page.check("input[type=checkbox][value=magnesium-oxide]")
        with page.expect_navigation():
            page.click("text=Compare selected forms")
        assert "Choose at least two forms" in page.inner_text(".problem")
        assert page.is_checked("input[type=checkbox][value=magnesium-oxide]")


class DiffLayoutTests:
    SIDES = """() => Array.from(document.querySelectorAll('.diff-pair')).map(pair => {
      const [old, now] = pair.querySelectorAll('.diff-side');
      const a = old.getBoundingClientRect(), b = now.getBoundingClientRect();
      return {sameRow: Math.abs(a.top - b.top) < 2, stacked: b.top >= a.bottom - 1};
    })"""

    def test_changed_paragraphs_side_by_side_when_wide_stacked_on_phones(
        self, site, sessions
    ):
        session = sessions()
        wide = open_page(session, 1280)
        wide.goto(f"{site}{PUBLIC_PAGES['diff']}")
        pairs = wide.evaluate(self.SIDES)
        assert pairs and all(pair["sameRow"] for pair in pairs)
        narrow = open_page(session, 390)
        narrow.goto(f"{site}{PUBLIC_PAGES['diff']}")
        assert all(pair["stacked"] for pair in narrow.evaluate(self.SIDES))
        text = narrow.inner_text("main")
        assert "[@" not in text and "**" not in text

    def test_history_rows_link_their_diffs(self, site, sessions):
        page = open_page(sessions(), 1280)
        page.goto(f"{site}{PUBLIC_PAGES['history']}")
        page.locator("td.history-links a", has_text="prev").first.click()
        page.wait_for_url(re.compile(r"/diff/\?from=1&to=2"))
        assert "changes from revision 1 to 2" in page.inner_text("h1")


class PrintTests:
    def test_the_printed_monograph_says_what_it_is_and_lists_sources_in_full(
        self, site, sessions
    ):
        page = open_page(sessions(), 1280)
        page.goto(f"{site}{PUBLIC_PAGES['monograph']}")
        page.emulate_media(media="print")
        assert page.is_visible(".print-source")
        source = page.inner_text(".print-source")
        assert "/forms/magnesium-glycinate/revisions/2/" in source
        assert "revision 2" in source
        assert not page.is_visible(".site-header")
        assert not page.is_visible("nav.breadcrumbs")
        shown = page.evaluate(
            """() => Array.from(document.querySelectorAll('.references a[href^="http"]'))
                 .map(a => getComputedStyle(a, '::after').content)"""
        )
        assert shown and all("http" in content for content in shown)
        page.emulate_media(media="screen")
        assert not page.is_visible(".print-source")
