"""Comparison by choosing: checkboxes on the forms list, ?forms=a&forms=b,
adding and removing a form on the compare page."""

from urllib.parse import parse_qsl

from django.test import TestCase

from tests.public.helpers import page_tree
from tests.public.test_browse import BrowseFixtureMixin

URL = "/forms/compare/"


def compared(response):
    """The names heading the compare table's columns."""
    table = page_tree(response).find("table", class_="compare")
    return [cell.text() for cell in table.find("thead").find_all("th")]


class FormListCheckboxTests(BrowseFixtureMixin, TestCase):
    def setUp(self):
        self.tree = page_tree(self.client.get("/forms/"))

    def test_each_published_form_has_a_checkbox_in_a_form_that_asks_compare(self):
        form = self.tree.find("form", class_="compare-form")
        self.assertEqual(form.attrs["action"], URL)
        self.assertEqual(form.attrs["method"], "get")
        boxes = form.find_all("input", type="checkbox")
        self.assertEqual(
            [box.attrs["value"] for box in boxes],
            ["magnesium-citrate", "magnesium-glycinate", "magnesium-oxide"],
        )
        self.assertTrue(all(box.attrs["name"] == "forms" for box in boxes))
        # Each box is named for its form, for screen readers.
        self.assertEqual(boxes[0].attrs["aria-label"], "Compare Magnesium citrate")
        self.assertIsNotNone(form.find("button", type="submit"))

    def test_no_text_box_of_addresses_is_left(self):
        self.assertEqual(self.tree.find_all("input", type="text"), [])

    def test_the_home_page_table_has_no_checkboxes(self):
        tree = page_tree(self.client.get("/"))
        self.assertEqual(tree.find_all("input", type="checkbox"), [])


class CompareParameterTests(BrowseFixtureMixin, TestCase):
    def test_repeated_parameters_compare_in_the_order_given(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-oxide&forms=magnesium-glycinate"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(compared(response), ["Magnesium oxide", "Magnesium glycinate"])

    def test_commas_keep_working(self):
        response = self.client.get(f"{URL}?forms=magnesium-oxide,magnesium-citrate")
        self.assertEqual(compared(response), ["Magnesium oxide", "Magnesium citrate"])

    def test_commas_and_repeats_mix(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-oxide,magnesium-citrate&forms=magnesium-glycinate"
        )
        self.assertEqual(
            compared(response),
            ["Magnesium oxide", "Magnesium citrate", "Magnesium glycinate"],
        )

    def test_a_repeated_form_is_a_400_that_says_so(self):
        response = self.client.get(f"{URL}?forms=magnesium-oxide&forms=magnesium-oxide")
        self.assertContains(response, "Each form can appear only once", status_code=400)

    def test_one_box_ticked_is_a_400_that_offers_the_boxes_again(self):
        response = self.client.get(f"{URL}?forms=magnesium-oxide")
        self.assertContains(response, "Choose at least two forms", status_code=400)
        tree = page_tree(response)
        boxes = {
            box.attrs["value"]: "checked" in box.attrs
            for box in tree.find_all("input", type="checkbox")
        }
        self.assertEqual(
            boxes,
            {
                "magnesium-citrate": False,
                "magnesium-glycinate": False,
                "magnesium-oxide": True,
            },
        )

    def test_five_repeated_forms_are_a_400(self):
        query = "&".join(f"forms=f{n}" for n in range(5))
        response = self.client.get(f"{URL}?{query}")
        self.assertContains(response, "the comparison fits at most 4", status_code=400)

    def test_an_unknown_repeated_form_is_named(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-oxide&forms=magnesium-unobtainium"
        )
        self.assertContains(
            response,
            "No published form has the address magnesium-unobtainium.",
            status_code=400,
        )

    def test_each_selection_is_its_own_cached_page(self):
        first = self.client.get(
            f"{URL}?forms=magnesium-oxide&forms=magnesium-glycinate"
        )
        second = self.client.get(f"{URL}?forms=magnesium-oxide&forms=magnesium-citrate")
        self.assertEqual(compared(first), ["Magnesium oxide", "Magnesium glycinate"])
        self.assertEqual(compared(second), ["Magnesium oxide", "Magnesium citrate"])
        again = self.client.get(f"{URL}?forms=magnesium-oxide&forms=magnesium-citrate")
        self.assertEqual(again["X-Cache"], "hit")
        self.assertEqual(compared(again), ["Magnesium oxide", "Magnesium citrate"])


class AddAndRemoveTests(BrowseFixtureMixin, TestCase):
    def test_each_column_can_be_removed_while_more_than_two_remain(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-oxide&forms=magnesium-citrate&forms=magnesium-glycinate"
        )
        tree = page_tree(response)
        links = [
            link
            for link in tree.find("table", class_="compare").find_all("a")
            if link.text().startswith("Remove")
        ]
        self.assertEqual(
            [link.text() for link in links],
            [
                "Remove magnesium oxide",
                "Remove magnesium citrate",
                "Remove magnesium glycinate",
            ],
        )
        query = links[0].attrs["href"].lstrip("?")
        self.assertEqual(
            parse_qsl(query),
            [("forms", "magnesium-citrate"), ("forms", "magnesium-glycinate")],
        )
        after = self.client.get(f"{URL}?{query}")
        self.assertEqual(compared(after), ["Magnesium citrate", "Magnesium glycinate"])

    def test_two_forms_cannot_lose_one(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-oxide&forms=magnesium-citrate"
        )
        self.assertNotContains(response, "Remove magnesium")

    def test_a_form_not_compared_yet_can_be_added(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-oxide&forms=magnesium-citrate"
        )
        tree = page_tree(response)
        form = tree.find("form", class_="compare-controls")
        self.assertEqual(
            [field.attrs["value"] for field in form.find_all("input", type="hidden")],
            ["magnesium-oxide", "magnesium-citrate"],
        )
        select = form.find("select")
        self.assertEqual(select.attrs["name"], "forms")
        self.assertEqual(
            [option.attrs["value"] for option in select.find_all("option")],
            ["magnesium-glycinate"],
        )
        # What the form submits: the two kept, then the one chosen.
        added = self.client.get(
            URL,
            {"forms": ["magnesium-oxide", "magnesium-citrate", "magnesium-glycinate"]},
        )
        self.assertEqual(
            compared(added),
            ["Magnesium oxide", "Magnesium citrate", "Magnesium glycinate"],
        )

    def test_a_full_comparison_offers_no_addition(self):
        # Three published forms here: all of them compared, nothing to add.
        response = self.client.get(
            f"{URL}?forms=magnesium-oxide&forms=magnesium-citrate&forms=magnesium-glycinate"
        )
        self.assertIsNone(page_tree(response).find("select", id="add-form"))


class CompareHonestyTests(BrowseFixtureMixin, TestCase):
    def test_a_form_listing_no_side_effects_does_not_cover_them_yet(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-citrate&forms=magnesium-oxide"
        )
        table = page_tree(response).find("table", class_="compare")
        row = next(
            row
            for row in table.find("tbody").find_all("tr")
            if row.find("th").text() == "Common side effects"
        )
        self.assertEqual(
            [cell.text() for cell in row.find_all("td")],
            ["Not yet covered", "Diarrhoea"],
        )
        self.assertNotContains(response, "None recorded")

    def test_cells_are_labelled_with_their_form_for_narrow_screens(self):
        response = self.client.get(
            f"{URL}?forms=magnesium-citrate&forms=magnesium-oxide"
        )
        table = page_tree(response).find("table", class_="compare")
        for row in table.find("tbody").find_all("tr"):
            self.assertEqual(
                [cell.attrs.get("data-label") for cell in row.find_all("td")],
                ["Magnesium citrate", "Magnesium oxide"],
            )
