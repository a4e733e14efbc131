"""
Real-browser tests: Playwright driving Debian's Chromium against pytest-django's
live server. Where no browser can run they skip with a loud reason; with
MGREF_REQUIRE_BROWSER=1 (set by .ci/run) they fail instead.
"""

import os
import re
from pathlib import Path

import pytest

from monographs.roles import sync_roles
from monographs.services import seed_load
from tests.conftest import REPORT_PROPERTY

BASE_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS = BASE_DIR / "test-artifacts"
CHROMIUM = Path(os.environ.get("MGREF_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def unavailable(reason):
    message = f"BROWSER TESTS NOT RUN: {reason}"
    if os.environ.get("MGREF_REQUIRE_BROWSER"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed; `make test` installs it.")
    if not CHROMIUM.exists():
        unavailable(
            f"no Chromium at {CHROMIUM}; `make test` runs apt-get install chromium."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# Figures the browser tests report rather than assert, printed at the end
# (tests/conftest.py). A test appends to REPORTS; each test's report carries
# what it appended as a user property, so that the figures reach the summary
# from pytest-xdist's workers too.
REPORTS = []


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
    if report.when == "call":
        report.user_properties.extend((REPORT_PROPERTY, text) for text in REPORTS)
        REPORTS.clear()


class BrowserSession:
    """A browser context (own cookies), its pages, and what they reported."""

    def __init__(self, browser, *, bypass_csp=False):
        self.context = browser.new_context(bypass_csp=bypass_csp)
        self.pages = []
        self.dialogs = []
        self.console_errors = []

    def new_page(self):
        page = self.context.new_page()
        page.set_default_timeout(15_000)
        page.on("dialog", self._dialog)
        page.on(
            "console",
            lambda message: (
                message.type == "error" and self.console_errors.append(message.text)
            ),
        )
        self.pages.append(page)
        return page

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def sessions(browser, request):
    """Call it to get a new, logged-out browser session.

    The site's Content-Security-Policy applies unless ``bypass_csp=True`` (for
    tools that inject their own script, like axe).
    """
    opened = []

    def open_session(*, bypass_csp=False):
        session = BrowserSession(browser, bypass_csp=bypass_csp)
        opened.append(session)
        return session

    yield open_session
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for index, session in enumerate(opened):
            for number, page in enumerate(session.pages):
                stem = ARTIFACTS / f"{name}-{index}-{number}"
                try:
                    page.screenshot(path=f"{stem}.png", full_page=True)
                    stem.with_suffix(".html").write_text(
                        page.content(), encoding="utf-8"
                    )
                except Exception as error:  # noqa: BLE001 - a closed page must not hide the failure
                    stem.with_suffix(".txt").write_text(f"no screenshot: {error}")
    for session in opened:
        session.context.close()


@pytest.fixture
def seeded(transactional_db):
    # A transactional test flushes the database, data migrations included.
    sync_roles()
    seed_load()


def log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
