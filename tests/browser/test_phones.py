"""Phones: at 390 px no public page scrolls sideways, nothing hides in a
scrolling box, and wide tables become labelled cards."""

import pytest

from tests.browser.pages import PUBLIC_PAGES, make_second_revision

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = 390

# Elements wider than the screen, and boxes that scroll sideways inside the
# page (a table scrolled within itself hides its columns).
OVERFLOW = """(width) => {
  const found = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || getComputedStyle(element).visibility === 'hidden') continue;
    const name = element.tagName.toLowerCase()
      + (element.className && typeof element.className === 'string'
         ? '.' + element.className.trim().split(/\\s+/).join('.') : '');
    if (box.right > width + 1 && !element.closest('.visually-hidden, .skip-link')) {
      found.push(`${name} reaches ${Math.round(box.right)} px`);
    }
    const style = getComputedStyle(element);
    if (['auto', 'scroll'].includes(style.overflowX)
        && element.scrollWidth > element.clientWidth + 1) {
      found.push(`${name} scrolls sideways (${element.scrollWidth} in ${element.clientWidth})`);
    }
  }
  return found.slice(0, 10);
}"""


@pytest.fixture
def phone(seeded, live_server, sessions):
    make_second_revision()
    page = sessions().new_page()
    page.set_viewport_size({"width": PHONE, "height": 844})
    return live_server.url, page


class PhoneTests:
    @pytest.mark.parametrize("name", list(PUBLIC_PAGES))
    def test_no_page_scrolls_sideways(self, phone, name):
        site, page = phone
        page.goto(f"{site}{PUBLIC_PAGES[name]}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE, f"{name} is {width} px wide at {PHONE} px"
        assert page.evaluate(OVERFLOW, PHONE) == []

    @pytest.mark.parametrize(
        "path, columns",
        [
            ("/forms/magnesium-glycinate/", ["What to do", "Significance"]),
            ("/forms/", ["Category", "Gut tolerability"]),
            ("/forms/magnesium-glycinate/history/", ["Saved", "Summary"]),
            (
                "/forms/compare/?forms=magnesium-glycinate&forms=magnesium-oxide",
                ["Magnesium glycinate", "Magnesium oxide"],
            ),
        ],
    )
    def test_wide_tables_become_labelled_cards(self, phone, path, columns):
        site, page = phone
        page.goto(f"{site}{path}")
        cells = page.evaluate(
            """() => Array.from(document.querySelectorAll('table.cards td[data-label]'))
              .filter(td => td.getBoundingClientRect().height > 0)
              .map(td => ({label: getComputedStyle(td, '::before').content,
                           right: td.getBoundingClientRect().right,
                           display: getComputedStyle(td).display}))"""
        )
        assert cells, "no labelled cells"
        labels = {cell["label"].strip('"') for cell in cells}
        for column in columns:
            assert column in labels, f"no cell labelled {column!r}: {labels}"
        assert all(cell["display"] != "table-cell" for cell in cells)
        assert all(cell["right"] <= PHONE for cell in cells)

    def test_long_reference_addresses_break(self, phone):
        site, page = phone
        page.goto(f"{site}/citations/")
        longest = page.evaluate(
            """() => Math.max(...Array.from(document.querySelectorAll('.references a'))
                 .map(a => a.getBoundingClientRect().right))"""
        )
        assert longest <= PHONE
