"""The reference import, end to end in a real browser: paste, preview, import."""

import pytest
from playwright.sync_api import expect

from monographs.models import Citation, Revision
from tests.browser.conftest import log_in
from tests.factories import (
    CitationFactory,
    EditorFactory,
    MagnesiumFormFactory,
    publish,
)

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.django_db(transaction=True)

# Made-up records: one matching a citation the test creates (by its PMID),
# one new.
PASTED = "\n".join(
    [
        "TY  - JOUR",
        "AU  - Example, A. B.",
        "TI  - The title the existing record lacked",
        "JO  - Example J",
        "PY  - 2024",
        "N1  - PMID: 39000009",
        "ER  -",
        "",
        "TY  - JOUR",
        "ID  - browser2025",
        "AU  - Núñez, María José",
        "AU  - Ødegård, Ø.",
        "AU  - et al.",
        "TI  - An example record pasted in a browser test",
        "JO  - Example J",
        "PY  - 2025",
        "DO  - 10.1000/browser_(test)%1",
        "ER  -",
    ]
)


class ReferenceImportJourneyTests:
    def test_paste_preview_and_import(self, seeded, live_server, sessions):
        EditorFactory(username="importer")
        CitationFactory(
            key="example2024", authors="Example AB", title="", pmid="39000009", doi=""
        )
        citing = MagnesiumFormFactory(summary="See [@example2024].")
        publish(citing)
        published = Revision.objects.latest_for(citing.pk).number
        session = sessions()
        page = session.new_page()
        log_in(page, live_server, "importer", PASSWORD)

        page.goto(f"{live_server.url}/admin/monographs/citation/")
        page.click("text=Import references")
        page.fill("#id_text", PASTED)
        page.fill("#id_edit_summary", "References from the team's Zotero library")
        page.click("input[name=preview]")

        preview = page.locator("#import-preview")
        expect(page.locator(".import-counts")).to_contain_text(
            "1 to create, 1 to update"
        )
        expect(preview.locator("tr.import-create")).to_contain_text("browser2025")
        expect(preview.locator("tr.import-create")).to_contain_text(
            "Núñez MJ, Ødegård Ø, et al."
        )
        expect(preview.locator("tr.import-update")).to_contain_text("example2024")
        expect(preview.locator("tr.import-update ins").first).to_contain_text(
            "The title the existing record lacked"
        )
        assert not Citation.objects.filter(key="browser2025").exists()

        page.click("input[name=import]")
        expect(page.locator(".messagelist")).to_contain_text(
            "Imported 1 new and updated 1 existing citations"
        )
        created = Citation.objects.get(key="browser2025")
        assert created.doi == "10.1000/browser_(test)%1"
        updated = Citation.objects.get(pmid="39000009")
        assert updated.title == "The title the existing record lacked"
        # The monograph citing it has a revision waiting for review.
        latest = Revision.objects.latest_for(citing.pk)
        assert latest.number == published + 1
        assert "Zotero" in latest.summary
        assert not [m for m in session.console_errors if "Content Security" in m]

    def test_an_unreadable_paste_names_the_line(self, seeded, live_server, sessions):
        EditorFactory(username="importer")
        page = sessions().new_page()
        log_in(page, live_server, "importer", PASSWORD)
        page.goto(f"{live_server.url}/admin/monographs/citation/import/")
        page.fill("#id_text", "TY  - JOUR\nTI  - No end\n")
        page.fill("#id_edit_summary", "Try")
        page.click("input[name=preview]")
        expect(page.locator(".errornote")).to_contain_text(
            "Record 1, line 1: the record has no 'ER  - ' line"
        )
