"""
Is a response inert? Checks for executable markup in HTML, feeds and JSON.

``html_problems`` parses HTML with the standard library's HTMLParser and
lists everything that could run script or load a document: script elements
(other than JSON-LD data, whose text must not be able to close the element),
event-handler attributes, javascript:/vbscript:/data: URLs (compared the way
browsers read them: control characters and whitespace dropped, any case),
embedded documents and styles. ``feed_problems`` does the same for the HTML
an Atom feed carries, ``json_problems`` for the HTML fields of JSON.
"""

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

ATOM = "{http://www.w3.org/2005/Atom}"
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "lowsrc",
    "dynsrc",
    "codebase",
    "cite",
    "longdesc",
    "ping",
    "manifest",
    "icon",
    "profile",
    "usemap",
    "archive",
    "classid",
    "srcset",
    "imagesrcset",
    "to",
    "from",
    "values",
    "by",
}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:")
# Never from content; "svg" is allowed only as the template's own chart.
FORBIDDEN_TAGS = {
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "style",
    "base",
    "portal",
    "template",
    "noscript",
    "noembed",
    "xmp",
    "plaintext",
    "isindex",
    "keygen",
}
# How browsers read a URL (WHATWG URL standard): C0 controls and spaces
# around it trimmed, tabs and line breaks inside it removed.
URL_TRIMMED = "".join(chr(code) for code in range(0x21))
URL_REMOVED = re.compile(r"[\t\n\r]")
DATA_SCRIPT_TYPES = {"application/ld+json", "application/json"}


def script_scheme(value):
    """The dangerous scheme ``value`` starts with, as a browser reads it, or None."""
    candidates = [value or ""]
    # srcset-like lists: any candidate may carry a scheme.
    candidates += (value or "").split(",")[1:]
    for candidate in candidates:
        url = URL_REMOVED.sub("", candidate.strip(URL_TRIMMED)).lower()
        for scheme in SCRIPT_SCHEMES:
            if url.startswith(scheme):
                return scheme
    return None


class _InertnessParser(HTMLParser):
    def __init__(self, *, admin, allowed_svg):
        super().__init__(convert_charrefs=True)
        self.admin = admin
        self.allowed_svg = allowed_svg
        self.problems = []
        self.script = None
        self.script_text = []
        self.scripts = []

    def problem(self, message):
        line, column = self.getpos()
        self.problems.append(f"line {line}:{column}: {message}")

    def handle_starttag(self, tag, attrs):
        self._element(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._element(tag, attrs)
        if tag == "script":
            self.handle_endtag("script")

    def _element(self, tag, attrs):
        values = dict(attrs)
        shown = self.get_starttag_text()
        if tag == "script":
            kind = (values.get("type") or "").strip().lower()
            source = values.get("src")
            if kind in DATA_SCRIPT_TYPES and source is None:
                self.script = kind
            elif source and (
                source.startswith(READER_SCRIPTS)
                or (self.admin and source.startswith(ADMIN_SCRIPTS))
            ):
                self.script = "external"
            else:
                self.problem(f"executable <script>: {shown[:200]}")
                self.script = "executable"
            self.script_text = []
        if tag in FORBIDDEN_TAGS and not (tag == "svg" and self._allowed_svg(values)):
            self.problem(f"<{tag}> in the page: {shown[:200]}")
        if tag == "meta" and "http-equiv" in values:
            self.problem(f"<meta http-equiv>: {shown[:200]}")
        if tag == "link" and (values.get("rel") or "").lower() not in {
            "stylesheet",
            "icon",
            "canonical",
            "alternate",
        }:
            self.problem(f"<link> of an unexpected kind: {shown[:200]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problem(f"event handler {name}=: {shown[:200]}")
            elif name == "srcdoc":
                self.problem(f"srcdoc=: {shown[:200]}")
            elif name == "style" and not (self.admin and value in ADMIN_STYLES):
                self.problem(f"style= attribute: {shown[:200]}")
            if name in URL_ATTRIBUTES and script_scheme(value):
                self.problem(f"{script_scheme(value)} URL in {name}=: {shown[:200]}")
            if name == "content" and tag == "meta" and "url=" in (value or "").lower():
                self.problem(f"<meta> with a URL: {shown[:200]}")

    def _allowed_svg(self, values):
        return any(
            all(values.get(name) == value for name, value in allowed.items())
            for allowed in self.allowed_svg
        )

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            text = "".join(self.script_text)
            self.scripts.append((self.script, text))
            if self.script in DATA_SCRIPT_TYPES:
                if "<" in text:
                    self.problem(f"'<' inside a {self.script} script: {text[:200]!r}")
                try:
                    json.loads(text)
                except ValueError as error:
                    self.problem(f"{self.script} script is not JSON ({error})")
            elif self.script == "external" and text.strip():
                self.problem(f"inline code in an external script: {text[:200]!r}")
            self.script = None

    def handle_data(self, data):
        if self.script is not None:
            self.script_text.append(data)

    def handle_pi(self, data):
        self.problem(f"processing instruction <?{data[:100]}>")

    def unknown_decl(self, data):
        self.problem(f"declaration <![{data[:100]}]>")


# What the templates themselves put on pages: the elemental-magnesium chart's
# bars and the reader's script (public), and Django admin's icons, scripts
# and one inline style.
TEMPLATE_SVG = [{"class": "chart-svg", "viewbox": "0 0 100 10"}]
READER_SCRIPTS = ("/static/js/reader.",)
ADMIN_SVG = [
    {"class": "base-svgs", "xmlns": "http://www.w3.org/2000/svg"},
    *(
        {"class": f"theme-icon-when-{theme}", "aria-hidden": "true"}
        for theme in ("auto", "dark", "light")
    ),
]
ADMIN_SCRIPTS = ("/static/", "/admin/jsi18n/")
ADMIN_STYLES = {"border-top: 0"}


def html_problems(markup, *, admin=False):
    """Everything executable in ``markup`` (a page or a fragment).

    ``admin`` allows what Django admin's own templates contain.
    """
    if isinstance(markup, bytes):
        markup = markup.decode()
    parser = _InertnessParser(
        admin=admin, allowed_svg=TEMPLATE_SVG + (ADMIN_SVG if admin else [])
    )
    parser.feed(markup)
    parser.close()
    if parser.script is not None:
        parser.problem("a <script> element is never closed")
    return parser.problems


def feed_problems(content):
    """Executable markup an Atom feed carries, in its XML or in its HTML text."""
    problems = []
    root = ET.fromstring(content)
    if root.tag != f"{ATOM}feed":
        return [f"not an Atom feed: {root.tag}"]
    for element in root.iter():
        if not element.tag.startswith(ATOM):
            problems.append(f"foreign element {element.tag} in the feed")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"event handler {name}= on {element.tag}")
            if name in URL_ATTRIBUTES and script_scheme(value):
                problems.append(f"{script_scheme(value)} URL on {element.tag}")
        kind = element.get("type", "text")
        if kind in {"html", "xhtml"} and element.text:
            # A feed reader turns this text into markup and renders it.
            for problem in html_problems(element.text):
                problems.append(f"{element.tag} (type={kind}): {problem}")
    return problems


def json_problems(data, path="$"):
    """Executable markup in the HTML fields (named *_html) of a JSON document."""
    problems = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}"
            if key.endswith("_html") and isinstance(value, dict):
                for name, html in value.items():
                    problems += [
                        f"{where}.{name}: {problem}" for problem in html_problems(html)
                    ]
            elif key.endswith("_html") and isinstance(value, str):
                problems += [f"{where}: {problem}" for problem in html_problems(value)]
            else:
                problems += json_problems(value, where)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            problems += json_problems(value, f"{path}[{index}]")
    return problems


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(markup):
    """What a reader sees of a page, whitespace collapsed."""
    parser = _TextParser()
    parser.feed(markup.decode() if isinstance(markup, bytes) else markup)
    parser.close()
    return " ".join("".join(parser.parts).split())
