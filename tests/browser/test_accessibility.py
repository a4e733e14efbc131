"""axe-core in Chromium: public pages have no violations; the admin's count is reported."""

import json

import pytest

from monographs.models import MagnesiumForm
from tests.browser.conftest import ARTIFACTS, BASE_DIR, REPORTS, log_in, unavailable
from tests.browser.pages import PUBLIC_PAGES, make_second_revision
from tests.factories import EditorFactory

AXE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.django_db(transaction=True)


def run_axe(page):
    if not AXE.exists():
        unavailable(f"axe-core is not installed at {AXE}; `make test` runs npm ci.")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return result["violations"]


def describe(violations):
    return "\n".join(
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"at {[node['target'] for node in violation['nodes']][:3]}"
        for violation in violations
    )


class AccessibilityTests:
    @pytest.mark.parametrize("name", list(PUBLIC_PAGES))
    def test_public_page_has_no_violations(self, name, seeded, live_server, sessions):
        make_second_revision()
        page = sessions(bypass_csp=True).new_page()
        page.goto(f"{live_server.url}{PUBLIC_PAGES[name]}")
        violations = run_axe(page)
        assert violations == [], f"{name}:\n{describe(violations)}"

    def test_admin_change_form_violations_are_reported(
        self, seeded, live_server, sessions
    ):
        EditorFactory(username="axe")
        page = sessions(bypass_csp=True).new_page()
        log_in(page, live_server, "axe", "correct horse battery staple")
        form = MagnesiumForm.objects.get(slug="magnesium-glycinate")
        page.goto(f"{live_server.url}/admin/monographs/magnesiumform/{form.pk}/change/")
        violations = run_axe(page)
        ARTIFACTS.mkdir(exist_ok=True)
        report = ARTIFACTS / "axe-admin-change-form.json"
        report.write_text(json.dumps(violations, indent=1))
        count = sum(len(violation["nodes"]) for violation in violations)
        REPORTS.append(
            f"axe on the admin change form: {len(violations)} rules violated, "
            f"{count} elements (details in {report})\n{describe(violations)}"
        )
        # Django's own admin markup is outside this project: the count is
        # reported, and only serious breakage of our own widgets fails.
        ours = [
            v
            for v in violations
            if any("markdownx" in str(n["target"]) for n in v["nodes"])
        ]
        assert not [v for v in ours if v["impact"] == "critical"], describe(ours)
