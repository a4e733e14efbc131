import re
from html.parser import HTMLParser
from types import SimpleNamespace

from django.test import SimpleTestCase, TestCase
from django.utils import html as django_html

from monographs.markdown import (
    ALLOWED_TAGS,
    CitationNumbering,
    citation_keys,
    markdownify,
    render_markdown,
    strip_tags,
)
from tests.factories import CitationFactory

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}
# How a browser reads a URL's scheme: surrounding C0 controls and spaces are
# dropped, tabs and newlines anywhere are removed, then letters up to ":".
URL_STRIP = "".join(chr(code) for code in range(0x21))
URL_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


class Markup(HTMLParser):
    """Every tag, attribute and comment in an HTML fragment."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.end_tags = []
        self.comments = []
        self.declarations = []
        self.feed(str(html))
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_endtag(self, tag):
        self.end_tags.append(tag)

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_decl(self, decl):
        self.declarations.append(decl)

    def unknown_decl(self, data):
        self.declarations.append(data)

    def handle_pi(self, data):
        self.declarations.append(data)

    def tags(self, name):
        return [dict(attrs) for tag, attrs in self.elements if tag == name]


def url_scheme(url):
    url = url.strip(URL_STRIP)
    url = re.sub(r"[\t\n\r]", "", url)
    match = URL_SCHEME_RE.match(url)
    return match.group(1).lower() if match else None


def executable_markup(html):
    """What in ``html`` could run script or restyle the page, as messages."""
    markup = Markup(html)
    problems = []
    for tag in [tag for tag, _ in markup.elements] + markup.end_tags:
        if tag not in ALLOWED_TAGS:
            problems.append(f"tag <{tag}> is not allowed")
    for tag, attrs in markup.elements:
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"event handler {name} on <{tag}>")
            if name == "style":
                problems.append(f"style attribute on <{tag}>")
            if name in URL_ATTRIBUTES:
                scheme = url_scheme(value or "")
                if scheme is not None and scheme not in {"http", "https", "mailto"}:
                    problems.append(f"{name}={value!r} on <{tag}>")
    problems.extend(f"comment {comment!r}" for comment in markup.comments)
    problems.extend(f"declaration {decl!r}" for decl in markup.declarations)
    return problems


SCRIPT_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "Text\n\n<script>\nalert(1)\n</script>\n\nMore text",
    '<script type="module">import("https://evil.example")</script>',
    "<svg><script>alert(1)</script></svg>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "# <script>alert(1)</script>",
]
EVENT_HANDLER_PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    '<img src="https://example.com/x.png" onerror="alert(1)">',
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<svg onload=alert(1)>",
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>',
    '<a href="https://example.com" onclick="alert(1)">x</a>',
    '<a onmouseover="alert(1)">x</a>',
    "<body onload=alert(1)>",
    "<div>\n<img src=x onerror=alert(1)>\n</div>",
    "<p>\n<a href=# onclick=alert(1)>click</a>\n</p>",
    '<details open ontoggle="alert(1)">',
    "# <img src=x onerror=alert(1)>",
    '[x](https://example.com "t" onclick=alert(1))',
    '[x](https://example.com "\\" onmouseover=\\"alert(1)")',
    '![a" onerror="alert(1)](https://example.com/x.png)',
    '<http://example.com/" onmouseover="alert(1)>',
]
URL_PAYLOADS = [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](  javascript:alert(1)  )",
    "[x](<javascript:alert(1)>)",
    "[x](jav&#x61;script:alert(1))",
    "[x](jav&#97;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](java&Tab;script:alert(1))",
    "[x](java&NewLine;script:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](\x01javascript:alert(1))",
    "[x](&#0000106avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "![x](javascript:alert(1))",
    "![x](jav&#x61;script:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "<JaVaScRiPt:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    '[x][r]\n\n[r]: JaVaScRiPt:alert(1) "title"',
    "[x][r]\n\n[r]: jav&#x61;script:alert(1)",
    "[x][r]\n\n[r]: <vbscript:msgbox(1)>",
    "[x][]\n\n[x]: data:text/html,<script>alert(1)</script>",
    "[x]\n\n[x]: javascript:alert(1)",
    "![x][r]\n\n[r]: javascript:alert(1)",
    "![x][r]\n\n[r]: data:image/svg+xml,<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<img src="javascript:alert(1)">',
]
EMBEDDING_PAYLOADS = [
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
]
STYLE_PAYLOADS = [
    "<style>body { display: none }</style>",
    "<style>@import 'https://evil.example/x.css';</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<span style="position:fixed;top:0;left:0;width:100%;height:100%">x</span>',
    '<a href="https://example.com" style="color:red">x</a>',
]
SVG_MATHML_PAYLOADS = [
    '<svg><a xlink:href="javascript:alert(1)"><text y="20">x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><use href="data:image/svg+xml,<svg id=x onload=alert(1)>#x"/></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
]
BROKEN_MARKUP_PAYLOADS = [
    "<scr<script>ipt>alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)//",
    "<img src=x onerror=alert(1)",
    '<img src="x" onerror="alert(1)',
    "<a href='javascript:alert(1)'>unclosed",
    "<div><p><b><i><script>alert(1)",
    "</p><script>alert(1)</script><p>",
    "<svg/onload=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<!-- comment -->",
    "<!-- <script>alert(1)</script> -->",
    "<!--><script>alert(1)</script>-->",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<?xml version="1.0"?><script>alert(1)</script>',
    "<!DOCTYPE html><script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "    <script>alert(1)</script>",
    "> <script>alert(1)</script>",
    "- <img src=x onerror=alert(1)>",
    "*<img src=x onerror=alert(1)>*",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]
ALL_PAYLOADS = (
    SCRIPT_PAYLOADS
    + EVENT_HANDLER_PAYLOADS
    + URL_PAYLOADS
    + EMBEDDING_PAYLOADS
    + STYLE_PAYLOADS
    + SVG_MATHML_PAYLOADS
    + BROKEN_MARKUP_PAYLOADS
)


class ExecutableMarkupCheckerTests(SimpleTestCase):
    """The checker the sanitization tests rely on does flag dangerous HTML."""

    def test_flags_dangerous_html(self):
        for html in [
            "<script>alert(1)</script>",
            "<p>ok</p><iframe></iframe>",
            '<img src="x" onerror="alert(1)">',
            '<a href="#" ONCLICK="alert(1)">x</a>',
            '<p style="color:red">x</p>',
            '<a href="javascript:alert(1)">x</a>',
            '<a href="jav&#x61;script:alert(1)">x</a>',
            '<a href=" JaVaScRiPt:alert(1)">x</a>',
            '<a href="java&#9;script:alert(1)">x</a>',
            '<img src="data:image/svg+xml,x">',
            '<a href="vbscript:x">x</a>',
            "<!-- x -->",
            "<svg></svg>",
        ]:
            with self.subTest(html=html):
                self.assertTrue(executable_markup(html))

    def test_accepts_safe_html(self):
        html = (
            '<h3>T</h3><p><a href="https://example.com/a?b=c#d" title="t">x</a> '
            '<a href="mailto:a@example.com">m</a> <a href="#ref-1" id="cite-1-1">1</a> '
            '<a href="/relative">r</a> <img src="http://example.com/x.png" alt="x"></p>'
        )
        self.assertEqual(executable_markup(html), [])


class RenderMarkdownSanitizationTests(SimpleTestCase):
    def assertSafe(self, html):
        problems = executable_markup(html)
        self.assertEqual(problems, [], f"unsafe output: {html}")

    def test_payloads_render_without_executable_markup(self):
        for payload in ALL_PAYLOADS:
            with self.subTest(payload=payload):
                self.assertSafe(render_markdown(payload))

    def test_payloads_in_citing_render_without_executable_markup(self):
        numbering = CitationNumbering([SimpleNamespace(key="smith2020")])
        for payload in ALL_PAYLOADS:
            with self.subTest(payload=payload):
                self.assertSafe(
                    render_markdown(f"{payload} [@smith2020]", numbering=numbering)
                )

    def test_script_tags_never_appear_as_markup(self):
        for payload in SCRIPT_PAYLOADS + BROKEN_MARKUP_PAYLOADS:
            with self.subTest(payload=payload):
                html = str(render_markdown(payload))
                self.assertNotIn("<script", html.lower())
                self.assertEqual(Markup(html).tags("script"), [])

    def test_dangerous_link_targets_are_dropped(self):
        for payload in URL_PAYLOADS:
            with self.subTest(payload=payload):
                markup = Markup(render_markdown(payload))
                for tag, attrs in markup.elements:
                    for name, value in attrs:
                        if name in URL_ATTRIBUTES:
                            self.assertIsNone(url_scheme(value), (tag, name, value))

    def test_stray_html_stays_readable_as_text(self):
        html = str(render_markdown("Use <b>bold</b> and <script>alert(1)</script>"))
        self.assertIn("&lt;b&gt;bold&lt;/b&gt;", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertEqual(Markup(html).tags("b"), [])

    def test_empty_text_renders_nothing(self):
        self.assertEqual(render_markdown(""), "")
        self.assertEqual(render_markdown(None), "")

    def test_emphasis(self):
        html = str(render_markdown("Take *with* food, **never** _empty_."))
        self.assertIn("<em>with</em>", html)
        self.assertIn("<strong>never</strong>", html)
        self.assertIn("<em>empty</em>", html)

    def test_lists(self):
        markup = Markup(render_markdown("- one\n- two\n\n3. three\n4. four"))
        self.assertEqual(len(markup.tags("ul")), 1)
        self.assertEqual(markup.tags("ol"), [{"start": "3"}])
        self.assertEqual(len(markup.tags("li")), 4)

    def test_tables_keep_alignment(self):
        html = str(
            render_markdown(
                "| Form | Mg % |\n|:-----|-----:|\n| Oxide | 60 |\n| Citrate | 16 |"
            )
        )
        markup = Markup(html)
        self.assertEqual(len(markup.tags("table")), 1)
        self.assertEqual(markup.tags("th"), [{"align": "left"}, {"align": "right"}])
        self.assertEqual(len(markup.tags("td")), 4)
        self.assertIn('<td align="right">60</td>', html)
        self.assertSafe(html)

    def test_links_to_https_urls_are_kept_with_rel(self):
        for text in [
            "[NIH](https://ods.od.nih.gov/factsheets/Magnesium/)",
            "<https://ods.od.nih.gov/>",
            '[ref][r]\n\n[r]: https://example.com/a "Title"',
            "[plain](http://example.com/)",
        ]:
            with self.subTest(text=text):
                links = Markup(render_markdown(text)).tags("a")
                self.assertEqual(len(links), 1)
                self.assertIn(url_scheme(links[0]["href"]), {"http", "https"})
                self.assertEqual(links[0]["rel"], "noopener noreferrer nofollow")

    def test_link_href_is_preserved(self):
        links = Markup(
            render_markdown("[NIH](https://ods.od.nih.gov/factsheets/Magnesium/)")
        ).tags("a")
        self.assertEqual(
            links[0]["href"], "https://ods.od.nih.gov/factsheets/Magnesium/"
        )

    def test_mailto_and_relative_links_are_kept(self):
        for text, href in [
            ("[mail](mailto:editor@example.com)", "mailto:editor@example.com"),
            ("[see below](#dosage)", "#dosage"),
            ("[other](/forms/magnesium-citrate/)", "/forms/magnesium-citrate/"),
        ]:
            with self.subTest(text=text):
                links = Markup(render_markdown(text)).tags("a")
                self.assertEqual([link["href"] for link in links], [href])

    def test_https_images_are_kept(self):
        images = Markup(
            render_markdown('![Tablets](https://example.com/t.png "Two tablets")')
        ).tags("img")
        self.assertEqual(
            images,
            [
                {
                    "alt": "Tablets",
                    "src": "https://example.com/t.png",
                    "title": "Two tablets",
                }
            ],
        )

    def test_headings_are_shifted_below_the_page_headings(self):
        html = str(render_markdown("# Absorption\n\n## In the gut\n\n### Detail"))
        self.assertIn("<h3>Absorption</h3>", html)
        self.assertIn("<h4>In the gut</h4>", html)
        self.assertIn("<h5>Detail</h5>", html)
        self.assertNotIn("<h1", html)
        self.assertNotIn("<h2", html)

    def test_setext_headings_are_shifted(self):
        html = str(render_markdown("Absorption\n==========\n\nGut\n---"))
        self.assertIn("<h3>Absorption</h3>", html)
        self.assertIn("<h4>Gut</h4>", html)

    def test_deep_headings_stop_at_h6(self):
        html = str(render_markdown("#### Four\n\n##### Five\n\n###### Six"))
        self.assertEqual(html.count("<h6>"), 3)
        self.assertSafe(html)


class StripTagsTests(SimpleTestCase):
    TEXTS = [
        'a & b < c > d "q" it\'s',
        "x&nbsp;y &copy; &#169; &#x27; café — “smart” ½ 😀",
        "| a | b |\n|---|---|\n| 1 & 2 | <b>3</b> |",
        "* one\n* two\n\n> quote `code <x>`\n\n1. first\n2. second",
        '[link](https://example.com/?a=1&b=2 "t > s") and ![img](https://example.com/i.png)',
        "line\\\nbreak  \nhard\n\n## Heading\n\n**bold** _em_",
        "Cited [@smith2020]. [@missing2001]",
    ]

    def test_gives_the_text_djangos_strip_tags_gives(self):
        numbering = CitationNumbering([SimpleNamespace(key="smith2020")])
        for text in self.TEXTS + ALL_PAYLOADS:
            for html in (
                render_markdown(text),
                render_markdown(text, numbering=numbering),
            ):
                with self.subTest(text=text, html=html):
                    self.assertEqual(strip_tags(html), django_html.strip_tags(html))

    def test_leaves_no_tag(self):
        self.assertEqual(
            strip_tags(render_markdown("*a* <b>b</b>")), "a &lt;b&gt;b&lt;/b&gt;"
        )


class CitationMarkerTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alpha = CitationFactory(key="alpha2001")
        cls.beta = CitationFactory(key="beta2002")
        cls.gamma = CitationFactory(key="gamma2003")
        cls.delta = CitationFactory(key="delta2004")

    def numbering(self):
        return CitationNumbering([self.alpha, self.beta, self.gamma, self.delta])

    def citation_links(self, html):
        return [
            link
            for link in Markup(html).tags("a")
            if link.get("href", "").startswith("#ref-")
        ]

    def test_citation_keys_in_order_of_first_appearance(self):
        text = (
            "Oxide [@Smith2020] is poorly absorbed [@jones-2019; @SMITH2020]. "
            "Citrate [@lee_2018;@jones-2019] is better [@smith2020]."
        )
        self.assertEqual(citation_keys(text), ["smith2020", "jones-2019", "lee_2018"])

    def test_citation_keys_split_groups(self):
        self.assertEqual(
            citation_keys("[@a1; @b2;@c3 ;  @d4]"), ["a1", "b2", "c3", "d4"]
        )

    def test_citation_keys_ignore_things_that_are_not_markers(self):
        self.assertEqual(citation_keys(""), [])
        self.assertEqual(citation_keys(None), [])
        self.assertEqual(
            citation_keys("mail me@example.com, [@], [ @x], [x](https://e.com/@y)"), []
        )

    def test_numbering_across_sections_follows_first_appearance(self):
        numbering = self.numbering()
        first = render_markdown(
            "Intro [@beta2002] and [@alpha2001].", numbering=numbering
        )
        second = render_markdown(
            "More [@alpha2001; @gamma2003] and again [@beta2002].", numbering=numbering
        )
        first_links = self.citation_links(first)
        second_links = self.citation_links(second)
        self.assertEqual([link["href"] for link in first_links], ["#ref-1", "#ref-2"])
        self.assertEqual(
            [link["href"] for link in second_links], ["#ref-2", "#ref-3", "#ref-1"]
        )
        self.assertEqual(
            [link["id"] for link in first_links + second_links],
            ["cite-1-1", "cite-2-1", "cite-2-2", "cite-3-1", "cite-1-2"],
        )

    def test_citation_numbers_are_visible_superscripts(self):
        html = str(
            render_markdown(
                "Claim [@beta2002; @alpha2001].", numbering=self.numbering()
            )
        )
        self.assertIn(
            '<sup class="citation"><a href="#ref-1" id="cite-1-1"',
            html,
        )
        self.assertRegex(html, r">1</a>,<a [^>]*>2</a></sup>")
        self.assertNotIn("[@", html)

    def test_anchor_ids_are_unique_on_a_page(self):
        numbering = self.numbering()
        sections = [
            "[@alpha2001] [@alpha2001; @beta2002]",
            "[@beta2002; @alpha2001] [@gamma2003]",
            "[@alpha2001]",
        ]
        ids = [
            link["id"]
            for text in sections
            for link in self.citation_links(render_markdown(text, numbering=numbering))
        ]
        self.assertEqual(len(ids), 7)
        self.assertEqual(len(set(ids)), len(ids))
        for anchor in ids:
            self.assertRegex(anchor, r"^cite-\d+-\d+$")

    def test_references_list_numbers_citations_and_anchors_in_order(self):
        numbering = self.numbering()
        render_markdown("A [@gamma2003]. B [@alpha2001].", numbering=numbering)
        render_markdown("C [@gamma2003; @beta2002].", numbering=numbering)
        self.assertEqual(
            numbering.references(),
            [
                (1, self.gamma, ["cite-1-1", "cite-1-2"]),
                (2, self.alpha, ["cite-2-1"]),
                (3, self.beta, ["cite-3-1"]),
            ],
        )

    def test_uncited_citations_are_not_listed(self):
        numbering = self.numbering()
        render_markdown("Only [@beta2002].", numbering=numbering)
        self.assertEqual(
            [citation for _, citation, _ in numbering.references()], [self.beta]
        )

    def test_marker_keys_are_case_insensitive(self):
        numbering = self.numbering()
        html = render_markdown("Claim [@Alpha2001].", numbering=numbering)
        self.assertEqual(
            [link["href"] for link in self.citation_links(html)], ["#ref-1"]
        )
        self.assertEqual(numbering.unresolved, [])

    def test_unknown_key_is_shown_as_citation_needed(self):
        numbering = self.numbering()
        html = str(
            render_markdown(
                "Claim [@nosuch1999]. Again [@nosuch1999; @alpha2001].",
                numbering=numbering,
            )
        )
        self.assertIn("citation needed: nosuch1999", html)
        missing = Markup(html).tags("span")
        self.assertIn(
            {"class": "citation-missing", "title": "Citation not found"}, missing
        )
        self.assertEqual(numbering.unresolved, ["nosuch1999"])
        self.assertEqual(
            [link["href"] for link in self.citation_links(html)], ["#ref-1"]
        )
        self.assertEqual(
            [citation for _, citation, _ in numbering.references()], [self.alpha]
        )

    def test_marker_in_inline_code_is_not_a_citation(self):
        numbering = self.numbering()
        html = str(
            render_markdown(
                "Write `[@alpha2001]` to cite, as here [@beta2002].",
                numbering=numbering,
            )
        )
        self.assertIn("<code>[@alpha2001]</code>", html)
        self.assertEqual(
            [link["href"] for link in self.citation_links(html)], ["#ref-1"]
        )
        self.assertEqual(
            [citation for _, citation, _ in numbering.references()], [self.beta]
        )

    def test_code_keeps_markers_when_citations_are_left_out(self):
        for text, expected in [
            ("Write `[@alpha2001]` to cite.", "<code>[@alpha2001]</code>"),
            (
                "Example:\n\n    See [@alpha2001].\n",
                "<pre><code>See [@alpha2001].\n</code></pre>",
            ),
        ]:
            with self.subTest(text=text):
                html = str(render_markdown(text))
                self.assertIn(expected, html)

    def test_markers_are_left_out_without_numbering(self):
        html = str(
            render_markdown(
                "Oxide is poorly absorbed [@alpha2001]. Citrate is better "
                "[@beta2002; @nosuch1999].\n\n- list item [@gamma2003]"
            )
        )
        self.assertNotIn("[@", html)
        self.assertNotIn("citation", html)
        self.assertNotIn("<sup", html)
        self.assertIn("Oxide is poorly absorbed. Citrate is better.", html)
        self.assertIn("<li>list item</li>", html)

    def test_text_of_only_a_marker_renders_nothing_without_numbering(self):
        self.assertNotIn("[@", str(render_markdown("[@alpha2001]")))

    def test_stand_in_citation_objects_are_enough(self):
        stand_in = SimpleNamespace(key="doe2010")
        numbering = CitationNumbering([stand_in])
        html = render_markdown("See [@doe2010].", numbering=numbering)
        self.assertEqual(
            [link["href"] for link in self.citation_links(html)], ["#ref-1"]
        )
        self.assertEqual(numbering.references(), [(1, stand_in, ["cite-1-1"])])


class MarkdownifyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alpha = CitationFactory(key="alpha2001")
        cls.beta = CitationFactory(key="beta2002")
        CitationFactory(key="gamma2003")

    def citation_hrefs(self, html):
        return [
            link["href"]
            for link in Markup(html).tags("a")
            if link.get("href", "").startswith("#ref-")
        ]

    def test_markers_resolve_to_citations_in_the_database(self):
        html = str(
            markdownify(
                "B first [@beta2002], then A [@alpha2001], B again [@BETA2002]."
            )
        )
        self.assertEqual(self.citation_hrefs(html), ["#ref-1", "#ref-2", "#ref-1"])
        self.assertNotIn("citation needed", html)
        self.assertNotIn("[@", html)

    def test_numbers_follow_the_order_of_the_text_not_the_database(self):
        html = markdownify("[@gamma2003] [@alpha2001; @beta2002]")
        links = [
            (link["href"], link["id"])
            for link in Markup(html).tags("a")
            if "id" in link
        ]
        self.assertEqual(
            links,
            [("#ref-1", "cite-1-1"), ("#ref-2", "cite-2-1"), ("#ref-3", "cite-3-1")],
        )

    def test_unknown_keys_are_shown_as_citation_needed(self):
        html = str(markdownify("Claim [@nosuch1999] and [@alpha2001]."))
        self.assertIn("citation needed: nosuch1999", html)
        self.assertEqual(self.citation_hrefs(html), ["#ref-1"])

    def test_text_without_markers_does_not_query_citations(self):
        with self.assertNumQueries(0):
            html = str(markdownify("**Plain** text."))
        self.assertIn("<strong>Plain</strong>", html)

    def test_empty_text(self):
        self.assertEqual(markdownify(""), "")

    def test_sanitizes(self):
        for payload in ALL_PAYLOADS:
            with self.subTest(payload=payload):
                html = markdownify(f"{payload} [@alpha2001]")
                self.assertEqual(executable_markup(html), [], html)

    def test_rendering_matches_the_page_renderer(self):
        text = "# Title\n\n[NIH](https://ods.od.nih.gov/) [@alpha2001]"
        self.assertEqual(
            str(markdownify(text)),
            str(render_markdown(text, numbering=CitationNumbering([self.alpha]))),
        )
