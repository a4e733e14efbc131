"""A read-only JSON API of the published monographs."""

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from monographs.documents import document_load
from monographs.pages import MonographPage
from monographs.schema import ROW_KINDS, STAFF_FORM_FIELDS, markdown_fields
from monographs.selectors import publication_by_slug, published_monographs
from monographs.views.params import whole_number

PAGE_SIZE = 20


def api_error(message, status):
    return JsonResponse({"error": message}, status=status)


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
        "last_reviewed": publication.approved_at.isoformat(),
        "url": request.build_absolute_uri(form.get_absolute_url()),
        "api_url": request.build_absolute_uri(
            reverse("monographs:api-form-detail", args=[form.slug])
        ),
    }


@require_GET
def form_list(request):
    number = whole_number(request.GET.get("page", "1"))
    if number is None:
        return api_error("page must be a whole number.", 400)
    paginator = Paginator(published_monographs(), PAGE_SIZE)
    if not 1 <= number <= paginator.num_pages:
        return api_error(f"There are {paginator.num_pages} pages.", 404)
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

    def page_url(n):
        return request.build_absolute_uri(
            f"{reverse('monographs:api-form-list')}?page={n}"
        )

    return JsonResponse(
        {
            "count": paginator.count,
            "next": page_url(page.next_page_number()) if page.has_next() else None,
            "previous": page_url(page.previous_page_number())
            if page.has_previous()
            else None,
            "results": results,
        }
    )


# Said once per row where a number alone would be ambiguous.
ROW_EXTRAS = {"doses": {"unit": "mg elemental magnesium per day"}}


def _row(kind, item):
    """One row of the API, field by field as the schema defines its kind:
    Markdown as rendered HTML, a topic as its name and slug, citations by key."""
    row = item.row
    data = {}
    for name in kind.fields:
        if name in kind.markdown_fields:
            data[f"{name}_html"] = str(item.html)
        elif name == kind.topic:
            topic = getattr(row, name)
            data[name], data[f"{name}_slug"] = topic.name, topic.slug
        elif name != "position":  # the list's order says it
            data[name] = getattr(row, name)
    data.update(ROW_EXTRAS.get(kind.name, {}))
    if kind.cites:
        data["citations"] = [citation.key for citation in row.cited]
    return data


@require_GET
def form_detail(request, slug):
    publication = publication_by_slug(slug)
    if publication is None or publication.withdrawn:
        return api_error("No published form has this slug.", 404)
    page = MonographPage(document_load(publication.revision))
    data = _summary(request, page.form, publication, [s.name for s in page.synonyms])
    data["sections_html"] = {
        name: str(getattr(page, name))
        for name in markdown_fields("MagnesiumForm")
        if name not in STAFF_FORM_FIELDS
    }
    for kind in ROW_KINDS:
        if kind.name in page.rendered_rows:
            data[kind.name] = [
                _row(kind, item) for item in page.rendered_rows[kind.name]
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
