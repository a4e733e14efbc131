"""Lighthouse (desktop preset) scores 98 or more in every category on the
home, monograph, history and diff pages, run in the machine's Chromium.

Lighthouse comes from npm (package.json); where it or Chromium is missing
the test skips with the loud BROWSER TESTS NOT RUN message (a failure under
MGREF_REQUIRE_BROWSER=1). `make lighthouse` runs just this test."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.browser.conftest import BASE_DIR, CHROMIUM, REPORTS, unavailable
from tests.browser.pages import PUBLIC_PAGES, make_second_revision

LIGHTHOUSE = BASE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = ("home", "monograph", "history", "diff")
MINIMUM = 0.98

pytestmark = pytest.mark.django_db(transaction=True)


def lighthouse(url):
    """{category: score} of one desktop run, and the audits that lost points."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        result = subprocess.run(
            [
                "node",
                str(LIGHTHOUSE),
                url,
                "--preset=desktop",
                f"--only-categories={','.join(CATEGORIES)}",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                "--output=json",
                f"--output-path={report}",
                "--quiet",
            ],
            env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        data = json.loads(report.read_text())
    scores = {name: data["categories"][name]["score"] for name in CATEGORIES}
    lost = [
        f"{name}: {ref['id']} ({data['audits'][ref['id']]['score']})"
        for name in CATEGORIES
        for ref in data["categories"][name]["auditRefs"]
        if ref["weight"] and (data["audits"][ref["id"]]["score"] or 0) < 1
    ]
    return scores, lost


class LighthouseTests:
    def test_desktop_scores(self, seeded, live_server):
        if not LIGHTHOUSE.exists():
            unavailable(f"Lighthouse is not installed at {LIGHTHOUSE}; run npm ci.")
        if not CHROMIUM.exists():
            unavailable(f"no Chromium at {CHROMIUM}.")
        make_second_revision()
        low = []
        for name in PAGES:
            scores, lost = lighthouse(f"{live_server.url}{PUBLIC_PAGES[name]}")
            REPORTS.append(
                f"Lighthouse desktop, {name}: "
                + ", ".join(f"{c} {round(s * 100)}" for c, s in scores.items())
            )
            if min(scores.values()) < MINIMUM:
                low.append(f"{name}: {scores}; lost points: {lost}")
        assert low == [], "\n".join(low)
