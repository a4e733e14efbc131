"""schema.org JSON-LD for the public pages."""

import orjson
from django.utils.safestring import SafeString

from monographs.citation_styles import citation_label
from monographs.exports import authors_truncated, people, publisher
from monographs.markdown import strip_tags

# What no JSON-LD may hold literally: "</script>" or "<!--" would end or
# bend the script element. Each is written as a JSON escape instead.
JSON_ESCAPES = ((b"<", b"\\u003C"), (b">", b"\\u003E"), (b"&", b"\\u0026"))


def json_ld_script(data):
    """A <script type="application/ld+json"> that no content can break out of."""
    # orjson writes UTF-8 and escapes control characters, as json.dumps with
    # ensure_ascii=False does, in a tenth of the time: this is on every page.
    text = orjson.dumps(data)
    # On the UTF-8 bytes: no multi-byte character holds an ASCII byte, and
    # bytes.replace is many times faster than str.translate on a long text.
    for character, escape in JSON_ESCAPES:
        text = text.replace(character, escape)
    text = text.decode()
    return SafeString(f'<script type="application/ld+json">{text}</script>')


def breadcrumb_list(request, crumbs):
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": name,
                "item": request.build_absolute_uri(url),
            }
            for position, (name, url) in enumerate(crumbs, start=1)
        ],
    }


def monograph_graph(request, page, approval, crumbs):
    form = page.form
    url = request.build_absolute_uri(form.get_absolute_url())
    # The summary as the page shows it, without its citation numbers.
    description = page.summary_text
    supplement = {
        "@type": "DietarySupplement",
        "@id": f"{url}#supplement",
        "name": form.name,
        "alternateName": [synonym.name for synonym in page.synonyms],
        "activeIngredient": "magnesium",
        "description": description,
    }
    web_page = {
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": form.name,
        "description": description,
        "about": {"@id": f"{url}#supplement"},
        "citation": [_creative_work(citation) for _, citation, _ in page.references],
        "isPartOf": {"@type": "WebSite", "name": "mgref"},
    }
    # Only a named person's review is claimed: not the seed's or an import's
    # approval, nor one by an account without a public name.
    if approval is not None and getattr(approval, "named_reviewer", False):
        web_page["lastReviewed"] = approval.created_at.date().isoformat()
        web_page["reviewedBy"] = {"@type": "Person", "name": approval.user_name}
    graph = [web_page, supplement, breadcrumb_list(request, crumbs)]
    if page.faq_rows:
        graph.append(
            {
                "@type": "FAQPage",
                "mainEntity": [
                    {
                        "@type": "Question",
                        "name": item.row.question,
                        "acceptedAnswer": {
                            "@type": "Answer",
                            "text": strip_tags(item.html).strip(),
                        },
                    }
                    for item in page.faq_rows
                ],
            }
        )
    return {"@context": "https://schema.org", "@graph": graph}


CREATIVE_WORK_TYPES = {"web-page": "WebPage", "guideline": "Report"}


def _creative_work(citation):
    """A cited source as schema.org knows it: named by its title or, lacking
    one, the best label there is (never the editors' key)."""
    work = {
        "@type": CREATIVE_WORK_TYPES.get(citation.publication_type, "ScholarlyArticle"),
        "name": citation_label(citation),
    }
    authors = people(citation)
    if citation.group_author:
        work["author"] = [{"@type": "Organization", "name": citation.group_author}]
    elif authors:
        work["author"] = [
            {"@type": "Person", "familyName": family, "givenName": given}
            if given
            else {"@type": "Person", "name": family}
            for family, given in authors
        ]
        if authors_truncated(citation):
            work["creditText"] = "Further authors not listed (et al.)"
    if citation.year:
        work["datePublished"] = str(citation.year)
    published_by = publisher(citation)
    if citation.journal and not published_by:
        work["isPartOf"] = {"@type": "Periodical", "name": citation.journal}
    if published_by:
        work["publisher"] = {"@type": "Organization", "name": published_by}
    if citation.doi:
        work["sameAs"] = f"https://doi.org/{citation.doi}"
    elif citation.pmid:
        work["sameAs"] = f"https://pubmed.ncbi.nlm.nih.gov/{citation.pmid}/"
    elif citation.url:
        work["sameAs"] = citation.url
    return work
