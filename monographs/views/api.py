"""
A read-only JSON API of the published monographs, described by an OpenAPI
3.1 document (monographs.views.openapi) built from these views and the URLconf.

Every response under /api/ is JSON, errors included, in one shape::

    {"error": {"status": 404, "code": "not_found", "message": "..."}}

(400 adds the offending ``parameter``; 405 answers with ``Allow``). Any origin
may read it (CORS, GET and HEAD only); nothing else on the site allows other
origins.
"""

from functools import wraps

from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from monographs.documents import document_load
from monographs.pages import MonographPage
from monographs.reversing import cached_reverse
from monographs.schema import (
    ROW_KINDS,
    ROW_KINDS_BY_NAME,
    STAFF_FORM_FIELDS,
    markdown_fields,
)
from monographs.selectors import (
    current_slug,
    publication_by_slug,
    published_monographs,
)
from monographs.views.params import whole_number

PAGE_SIZE = 20
ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Expose-Headers": "Link, ETag, Last-Modified",
}
PREFLIGHT_MAX_AGE = 86400
# Stable error codes by status, as the OpenAPI document lists them.
ERROR_CODES = {
    400: "bad_parameter",
    404: "not_found",
    405: "method_not_allowed",
    500: "server_error",
}
# Where the JSON endpoints live: errors under it are JSON (views.errors).
# /api/ itself is the guide, an HTML page for people.
API_PREFIX = "/api/v1/"


def api_error(message, status, **extra):
    """The API's one error shape."""
    error = {"status": status, "code": ERROR_CODES[status], "message": message}
    error.update(extra)
    return JsonResponse({"error": error}, status=status)


def with_cors(response):
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response


def api_view(view):
    """A read-only API endpoint: GET and HEAD answered with CORS headers,
    OPTIONS as a CORS preflight, any other method a JSON 405 with Allow.

    No endpoint changes anything or reads a session, so none needs CSRF
    protection: without the exemption a POST would get the HTML CSRF page
    instead of the 405.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Allow"] = ", ".join(ALLOWED_METHODS)
            response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
            requested = request.headers.get("Access-Control-Request-Headers")
            if requested:
                response["Access-Control-Allow-Headers"] = requested
            return with_cors(response)
        if request.method not in ALLOWED_METHODS:
            response = api_error(
                f"{request.method} is not allowed: the API is read-only. "
                f"Use {', '.join(ALLOWED_METHODS)}.",
                405,
            )
            response["Allow"] = ", ".join(ALLOWED_METHODS)
            return with_cors(response)
        return with_cors(view(request, *args, **kwargs))

    return csrf_exempt(wrapper)


def _page_url(request, number):
    return request.build_absolute_uri(
        f"{reverse('monographs:api-form-list')}?page={number}"
    )


def _summary(request, form, publication, synonyms):
    revision = publication.revision
    return {
        "slug": form.slug,
        "name": form.name,
        "synonyms": synonyms,
        "category": form.category,
        "elemental_mg_percent": str(form.elemental_mg_percent),
        "formula_basis": form.formula_basis,
        "revision": revision.number,
        "published_at": publication.approved_at.isoformat(),
        # Only a named person's approval is a review (the seed's, or an
        # import's without --publish, is not): otherwise both are null.
        "last_reviewed": (
            publication.approved_at.isoformat()
            if publication.approved_by_name
            else None
        ),
        "reviewed_by": publication.approved_by_name or None,
        "url": request.build_absolute_uri(form.get_absolute_url()),
        "api_url": request.build_absolute_uri(
            reverse("monographs:api-form-detail", args=[form.slug])
        ),
    }


@api_view
def api_index(request):
    """Where everything is: the endpoints, the OpenAPI document, the guide."""
    return JsonResponse(
        {
            "forms": request.build_absolute_uri(reverse("monographs:api-form-list")),
            "openapi": request.build_absolute_uri(reverse("monographs:api-openapi")),
            "documentation": request.build_absolute_uri(reverse("monographs:api-docs")),
        }
    )


@api_view
def form_list(request):
    raw = request.GET.get("page", "1")
    number = whole_number(raw)
    if number is None or number < 1:
        return api_error(
            f"page must be a whole number from 1, not {raw[:20]!r}.",
            400,
            parameter="page",
        )
    paginator = Paginator(
        published_monographs(kinds=["synonyms"], citations=False), PAGE_SIZE
    )
    if number > paginator.num_pages:
        pages = paginator.num_pages
        return api_error(
            f"There is no page {number}: the list has {pages} "
            f"page{'s' if pages != 1 else ''}.",
            404,
        )
    page = paginator.page(number)
    results = [
        _summary(
            request,
            monograph.form,
            monograph.publication,
            [synonym.name for synonym in monograph.synonyms],
        )
        for monograph in page.object_list
    ]
    links = {
        "first": _page_url(request, 1),
        "last": _page_url(request, paginator.num_pages),
        "next": _page_url(request, page.next_page_number())
        if page.has_next()
        else None,
        "previous": _page_url(request, page.previous_page_number())
        if page.has_previous()
        else None,
    }
    response = JsonResponse(
        {
            "count": paginator.count,
            "page": number,
            "pages": paginator.num_pages,
            "next": links["next"],
            "previous": links["previous"],
            "links": links,
            "results": results,
        }
    )
    # RFC 8288 links, for clients that follow them instead of the body.
    response["Link"] = ", ".join(
        f'<{url}>; rel="{"prev" if rel == "previous" else rel}"'
        for rel, url in links.items()
        if url
    )
    return response


# Row kinds the summary already gives, as names.
SUMMARY_KINDS = frozenset({"synonyms"})


def detail_row_kinds():
    """The row kinds a monograph's detail lists, each as a list of rows."""
    return [kind for kind in ROW_KINDS if kind.name not in SUMMARY_KINDS]


# Said once per row where a number alone would be ambiguous.
ROW_EXTRAS = {"doses": {"unit": "mg elemental magnesium per day"}}


def _row(kind, item):
    """One row of the API, field by field as the schema defines its kind:
    Markdown as rendered HTML, a topic as its name and slug, citations by key."""
    row = item.row
    data = {}
    for name in kind.fields:
        if name in kind.markdown_fields:
            # The row's main text is ``html``; any other, ``more`` (pages.py).
            data[f"{name}_html"] = str(item.more.get(name, item.html))
        elif name == kind.topic:
            topic = getattr(row, name)
            data[name], data[f"{name}_slug"] = topic.name, topic.slug
        elif name == kind.parent:
            # The row it belongs to (a study's use), by that row's topic.
            parent = getattr(row, name)
            topic = getattr(parent, ROW_KINDS_BY_NAME[kind.parent_kind].topic)
            data[name], data[f"{name}_slug"] = topic.name, topic.slug
        elif name != "position":  # the list's order says it
            data[name] = getattr(row, name)
    data.update(ROW_EXTRAS.get(kind.name, {}))
    if kind.cites:
        data["citations"] = [citation.key for citation in row.cited]
    return data


@api_view
def form_detail(request, slug):
    publication = publication_by_slug(slug)
    if publication is None:
        target = current_slug(slug)
        if target is not None:
            # A former or a synonym's slug, as the monograph's pages redirect.
            return HttpResponsePermanentRedirect(
                cached_reverse("monographs:api-form-detail", (target,))
            )
    if publication is None or publication.withdrawn:
        return api_error("No published form has this slug.", 404)
    page = MonographPage(document_load(publication.revision))
    data = _summary(request, page.form, publication, [s.name for s in page.synonyms])
    data["sections_html"] = {
        name: str(getattr(page, name))
        for name in markdown_fields("MagnesiumForm")
        if name not in STAFF_FORM_FIELDS and getattr(page, name)
    }
    for kind in detail_row_kinds():
        data[kind.name] = [
            _row(kind, item) for item in page.rendered_rows.get(kind.name, [])
        ]
    data["references"] = [
        {
            "number": number,
            "key": citation.key,
            "doi": citation.doi,
            "pmid": citation.pmid,
        }
        for number, citation, _ in page.references
    ]
    return JsonResponse(data)


def not_found_error(request):
    """The JSON 404 for an address under the API that is no endpoint."""
    message = f"There is no API endpoint at {request.path}."
    if not request.path.endswith("/"):
        message += " API addresses end with '/'."
    return api_error(
        message
        + f" The endpoints are described at {reverse('monographs:api-openapi')}.",
        404,
    )


@api_view
def not_found(request, rest=""):
    """Any other address under /api/: a JSON 404, never the site's page."""
    return not_found_error(request)
