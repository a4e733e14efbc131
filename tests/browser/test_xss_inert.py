"""
The XSS corpus in a real browser: with every payload published (through the
admin and the importer, see tests.security.xss_site), Chromium opens the
public pages, history, permalinks, diffs and search, and a reviewer's draft
preview and admin pages. No dialog may fire, no console message may come
from an injected script, and the DOM Chromium built (its parser, not ours)
may hold no event handler, script URL or foreign document.

Readers' pages are loaded twice: with the site's Content-Security-Policy
bypassed, so that the markup itself must be inert, and with it enforced, as
readers get it; the reviewer's pages with it bypassed. CSP violation reports
are recorded in the test summary, not failed.
"""

import re

import pytest

from monographs.roles import sync_roles
from monographs.selectors import published_citations, published_topics
from tests.browser.conftest import REPORTS, log_in
from tests.security.xss_site import build_xss_site

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"
INJECTED = re.compile(r"alert|xss|msgbox", re.IGNORECASE)
CSP_REPORT = re.compile(r"Content[ -]Security[ -]Policy", re.IGNORECASE)

# Run in the page after it loaded: what the browser's own DOM holds.
DOM_CHECK = """
({admin}) => {
  const problems = [];
  const schemes = /^(javascript|vbscript|livescript|data):/;
  const urlAttributes = ["href", "src", "action", "formaction", "xlink:href",
    "data", "poster", "background", "srcdoc", "codebase", "cite", "ping"];
  const foreign = ["iframe", "frame", "frameset", "object", "embed", "applet",
    "math", "style", "base", "portal", "noscript"];
  const allowedSvg = (element) =>
    element.getAttribute("class") === "chart-svg" ||
    (admin && /^(base-svgs|theme-icon-when-(auto|dark|light))$/.test(
      element.getAttribute("class") || ""));
  const describe = (element) => element.outerHTML.slice(0, 200);
  for (const element of document.querySelectorAll("*")) {
    const tag = element.localName;
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on")) problems.push(`${name}= on ${describe(element)}`);
      if (urlAttributes.includes(name)) {
        const url = attribute.value.replace(/^[\\u0000-\\u0020]+|[\\u0000-\\u0020]+$/g, "")
          .replace(/[\\t\\n\\r]/g, "").toLowerCase();
        if (schemes.test(url) || name === "srcdoc") {
          problems.push(`${name}=${url.slice(0, 60)} on ${describe(element)}`);
        }
      }
    }
    if (tag === "script") {
      const type = (element.getAttribute("type") || "").toLowerCase();
      const src = element.getAttribute("src");
      const dataScript = type === "application/ld+json" && !src;
      const ownScript = src && (/^\\/static\\/js\\/reader\\./.test(src)
        || (admin && /^\\/(static|admin\\/jsi18n)\\//.test(src)));
      if (!dataScript && !ownScript) problems.push(`script: ${describe(element)}`);
    }
    if (foreign.includes(tag)) problems.push(`<${tag}>: ${describe(element)}`);
    if (tag === "svg" && !allowedSvg(element)) problems.push(`<svg>: ${describe(element)}`);
    if (tag === "meta" && element.hasAttribute("http-equiv")) {
      problems.push(`meta http-equiv: ${describe(element)}`);
    }
    if (!admin && element.hasAttribute("style")) {
      problems.push(`style= on ${describe(element)}`);
    }
  }
  return problems;
}
"""


@pytest.fixture
def payload_site(transactional_db, tmp_path):
    # A transactional test flushes the database, the roles' groups included.
    sync_roles()
    return build_xss_site(tmp_path)


def open_session(sessions, *, bypass_csp):
    try:
        return sessions(bypass_csp=bypass_csp)
    except TypeError:  # a browser conftest without the option: CSP as it comes
        return sessions()


class Visit:
    """One browser session visiting pages and keeping what it saw."""

    def __init__(self, session, live_server, *, admin=False):
        self.session = session
        self.live_server = live_server
        self.admin = admin
        self.page = session.new_page()
        self.messages = []
        self.page_errors = []
        self.dom_problems = []
        self.page.on(
            "console",
            lambda message: self.messages.append(
                (self.page.url, message.type, message.text)
            ),
        )
        self.page.on(
            "pageerror", lambda error: self.page_errors.append((self.page.url, error))
        )

    def open(self, path):
        response = self.page.goto(f"{self.live_server.url}{path}")
        assert response is not None and response.status == 200, (
            path,
            response and response.status,
        )
        self.page.wait_for_load_state("load")
        # Focus moves and hovers are what some handlers wait for.
        self.page.keyboard.press("Tab")
        self.page.mouse.move(200, 300)
        self.page.mouse.move(400, 600)
        self.check_dom(path)

    def check_dom(self, label):
        for problem in self.page.evaluate(DOM_CHECK, {"admin": self.admin}):
            self.dom_problems.append(f"{label}: {problem}")

    def injected_messages(self):
        """Console output and page errors an injected script could have made."""
        return [
            f"{url}: {kind}: {text[:300]}"
            for url, kind, text in self.messages
            if INJECTED.search(text) and not CSP_REPORT.search(text)
        ] + [f"{url}: page error: {error}" for url, error in self.page_errors]

    def csp_reports(self):
        return [
            f"{url}: {text[:300]}"
            for url, _, text in self.messages
            if CSP_REPORT.search(text)
        ]


def public_paths(site):
    admin, imported = site.admin_form, site.import_form
    published = site.published_numbers[admin.pk]
    imported_published = site.published_numbers[imported.pk]
    return [
        f"/forms/{admin.slug}/",
        f"/forms/{admin.slug}/history/",
        f"/forms/{admin.slug}/revisions/{published[1]}/",
        f"/forms/{admin.slug}/diff/?from={published[0]}&to={published[1]}",
        f"/forms/{imported.slug}/",
        f"/forms/{imported.slug}/diff/?from={imported_published[0]}"
        f"&to={imported_published[-1]}",
        f"/forms/compare/?forms={admin.slug},{imported.slug}",
        # Topic and citation pages exist for what published documents name.
        f"/indications/{next(iter(published_topics('indication').values())).slug}/",
        f"/citations/{next(iter(published_citations()))}/",
        "/changes/",
        "/search/?q=alert",
        "/search/?q=%3Cscript%3Ealert(%27xss-reflected%27)%3C%2Fscript%3E",
    ]


def assert_inert(visit, label):
    reports = visit.csp_reports()
    if reports:
        distinct = sorted({line.split(": ", 1)[1] for line in reports})
        REPORTS.append(
            f"XSS in the browser ({label}): {len(reports)} CSP violation reports, "
            f"{len(distinct)} distinct (recorded, not failed):\n  "
            + "\n  ".join(distinct[:10])
        )
    assert visit.session.dialogs == [], (
        f"{label}: dialogs fired: {visit.session.dialogs}"
    )
    assert visit.injected_messages() == [], f"{label}: {visit.injected_messages()}"
    assert visit.dom_problems == [], f"{label}:\n" + "\n".join(visit.dom_problems[:40])


class XssInBrowserTests:
    def test_published_payloads_are_inert_for_readers(
        self, payload_site, live_server, sessions
    ):
        for bypass_csp in (True, False):
            label = "readers, CSP bypassed" if bypass_csp else "readers, CSP enforced"
            visit = Visit(open_session(sessions, bypass_csp=bypass_csp), live_server)
            for path in public_paths(payload_site):
                visit.open(path)
            assert_inert(visit, label)

    def test_drafts_and_admin_pages_are_inert_for_a_reviewer(
        self, payload_site, live_server, sessions
    ):
        site = payload_site
        form = site.admin_form
        visit = Visit(open_session(sessions, bypass_csp=True), live_server, admin=True)
        log_in(visit.page, live_server, site.reviewer.username, PASSWORD)
        visit.admin = False
        visit.open(f"/forms/{form.slug}/draft/")
        visit.open(f"/forms/{form.slug}/history/")
        visit.open(f"/forms/{form.slug}/revisions/{max(site.draft_numbers[form.pk])}/")
        visit.admin = True
        faq = form.faqs.order_by("pk").first()
        # The Markdown editor renders its live preview from the server's HTML.
        visit.open(f"/admin/monographs/faq/{faq.pk}/change/")
        preview = visit.page.locator("#id_answer ~ .markdownx-preview")
        visit.page.locator("#id_answer").fill(
            "<img src=x onerror=alert('xss-preview')> [x](javascript:alert('xss'))"
        )
        preview.locator("p").first.wait_for()
        visit.check_dom("Markdown editor preview")
        # Leave without the unsaved-changes question (tested in
        # test_editorial_desk): a submit event clears it, posting nothing.
        visit.page.evaluate(
            "document.querySelector('#faq_form').dispatchEvent(new Event('submit'))"
        )
        visit.open(f"/admin/monographs/magnesiumform/{form.pk}/review/")
        visit.open("/admin/monographs/magnesiumform/review-queue/")
        visit.open(f"/admin/monographs/magnesiumform/{form.pk}/revisions/")
        assert_inert(visit, "reviewer")
