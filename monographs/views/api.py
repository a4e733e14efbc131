"""A read-only JSON API of the published monographs."""

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from monographs.documents import document_load
from monographs.pages import MonographPage
from monographs.schema import markdown_fields
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
        if hasattr(page, name)
    }
    data["evidence"] = [
        {
            "indication": item.row.indication.name,
            "indication_slug": item.row.indication.slug,
            "direction": item.row.direction,
            "certainty": item.row.certainty,
            "applicability": item.row.applicability,
            "studies_improved": item.row.studies_improved,
            "studies_total": item.row.studies_total,
            "summary_html": str(item.html),
            "citations": [citation.key for citation in item.row.cited],
        }
        for item in page.evidence_rows
    ]
    data["doses"] = [
        {
            "population": item.row.population,
            "purpose": item.row.purpose,
            "minimum_mg": item.row.minimum_mg,
            "maximum_mg": item.row.maximum_mg,
            "unit": "mg elemental magnesium per day",
            "timing": item.row.timing,
            "notes_html": str(item.html),
            "citations": [citation.key for citation in item.row.cited],
        }
        for item in page.dose_rows
    ]
    data["side_effects"] = [
        {
            "name": item.row.side_effect.name,
            "frequency": item.row.frequency,
            "seriousness": item.row.seriousness,
            "notes_html": str(item.html),
        }
        for item in page.common_side_effects + page.serious_side_effects
    ]
    data["interactions"] = [
        {
            "drug_class": item.row.drug_class,
            "examples": item.row.examples,
            "significance": item.row.significance,
            "mechanism": item.row.mechanism,
            "management": item.row.management,
            "citations": [citation.key for citation in item.row.cited],
        }
        for item in page.interaction_rows
    ]
    data["precautions"] = [
        {
            "label": item.row.label,
            "kind": item.row.kind,
            "text_html": str(item.html),
            "citations": [citation.key for citation in item.row.cited],
        }
        for item in page.precaution_rows
    ]
    data["faqs"] = [
        {"question": item.row.question, "answer_html": str(item.html)}
        for item in page.faq_rows
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
