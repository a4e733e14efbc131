"""Staff see shortcuts to edit a monograph and preview its draft on its
public pages; readers never do, not even from a page cached after a staff
member viewed it."""

from django.test import TestCase

from monographs.history import change_context
from tests import factories
from tests.public.helpers import page_tree

PAGES = (
    "/forms/magnesium-glycinate/",
    "/forms/magnesium-glycinate/history/",
    "/forms/magnesium-glycinate/revisions/1/",
    "/forms/magnesium-glycinate/diff/?from=1&to=2",
)


class StaffShortcutTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory()
        cls.form = factories.MagnesiumFormFactory(
            name="Magnesium glycinate", slug="magnesium-glycinate"
        )
        factories.publish(cls.form)
        with change_context(reason="Second", user=cls.editor):
            cls.form.summary = "Second version."
            cls.form.save()
        factories.publish(cls.form)
        cls.edit_url = f"/admin/monographs/magnesiumform/{cls.form.pk}/change/"

    def shortcuts(self, response):
        return page_tree(response).find("nav", class_="staff-tools")

    def test_staff_see_edit_and_draft_links_on_each_page_of_the_monograph(self):
        self.client.force_login(self.editor)
        for path in PAGES:
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertEqual(response.status_code, 200)
                nav = self.shortcuts(response)
                self.assertIsNotNone(nav, "no staff shortcuts")
                links = {a.text(): a.attrs["href"] for a in nav.find_all("a")}
                self.assertEqual(links["Edit this monograph"], self.edit_url)
                self.assertEqual(
                    links["Preview its draft"], "/forms/magnesium-glycinate/draft/"
                )
                self.assertIn("private", response["Cache-Control"])

    def test_staff_see_a_link_to_the_desk_on_other_pages(self):
        self.client.force_login(self.editor)
        nav = self.shortcuts(self.client.get("/forms/"))
        self.assertEqual([a.attrs["href"] for a in nav.find_all("a")], ["/admin/"])

    def test_readers_never_see_them(self):
        for path in PAGES + ("/", "/forms/", "/changes/"):
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertEqual(response.status_code, 200)
                self.assertIsNone(self.shortcuts(response))
                self.assertNotContains(response, "/admin/")
                self.assertNotContains(response, "/draft/")

    def test_a_page_cached_right_after_staff_viewed_it_carries_none(self):
        staff = self.client_class()
        staff.force_login(self.editor)
        for path in PAGES:
            with self.subTest(path=path):
                seen_by_staff = staff.get(path)
                self.assertIsNotNone(self.shortcuts(seen_by_staff))
                first = self.client.get(path)
                again = self.client.get(path)
                self.assertEqual(again["X-Cache"], "hit")
                for response in (first, again):
                    self.assertIsNone(self.shortcuts(response))
                    self.assertNotContains(response, self.edit_url)
                    self.assertNotContains(response, "/draft/")
                # And staff, after a reader filled the cache, still get theirs.
                self.assertIsNotNone(self.shortcuts(staff.get(path)))
