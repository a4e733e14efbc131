from django.core.validators import slug_re
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, TemplateView

from monographs.exports import to_bibtex, to_csl, to_ris
from monographs.models import Citation, MagnesiumForm
from monographs.pages import MonographPage
from monographs.snapshots import published_citation_usage, published_records, snapshot


class CitationListView(TemplateView):
    """The bibliography: every citation, and the published pages that cite it."""

    template_name = "monographs/citation_list.html"

    def get_context_data(self, **kwargs):
        usage = published_citation_usage()
        citations = list(Citation.objects.all())
        for citation in citations:
            citation.used_on = usage.get(citation.pk, [])
        return super().get_context_data(citations=citations, **kwargs)


class CitationDetailView(DetailView):
    model = Citation

    def get_context_data(self, **kwargs):
        used_on = published_citation_usage().get(self.object.pk, [])
        return super().get_context_data(used_on=used_on, **kwargs)


def exported_citations(request):
    """All citations, or those of one published form's page in page order."""
    slug = request.GET.get("form")
    if slug is None:
        return list(Citation.objects.all()), "mgref-citations"
    record = (
        published_records(MagnesiumForm, slug=slug).first()
        if slug_re.match(slug)
        else None
    )
    if record is None:
        raise Http404("No published form has this address.")
    form = MagnesiumForm.objects.select_related("published_revision").get(pk=record.id)
    page = MonographPage(snapshot(form.published_revision))
    return [citation for _, citation, _ in page.references], f"mgref-{record.slug}"


def _download(body, content_type, filename):
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
def export_ris(request):
    citations, name = exported_citations(request)
    return _download(
        to_ris(citations),
        "application/x-research-info-systems; charset=utf-8",
        f"{name}.ris",
    )


@require_GET
def export_bibtex(request):
    citations, name = exported_citations(request)
    return _download(
        to_bibtex(citations), "application/x-bibtex; charset=utf-8", f"{name}.bib"
    )


@require_GET
def export_csl_json(request):
    citations, name = exported_citations(request)
    response = JsonResponse(
        [to_csl(citation) for citation in citations],
        safe=False,
        json_dumps_params={"ensure_ascii": False, "indent": 1},
    )
    response["Content-Disposition"] = f'inline; filename="{name}.json"'
    return response
