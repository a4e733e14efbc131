from django.core.validators import slug_re
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.text import Truncator
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from monographs.citation_styles import citation_label
from monographs.documents import document_load
from monographs.exports import to_bibtex, to_csl, to_ris
from monographs.pages import MonographPage
from monographs.selectors import (
    current_slug,
    publication_by_slug,
    published_citations,
)
from monographs.views.browse import trail
from monographs.views.params import Moved, follows_moves, query_naming


def _used(use):
    citation = use.citation
    citation.used_on = use.forms
    return citation


class CitationListView(TemplateView):
    """The bibliography: every citation a published page cites, as approved."""

    template_name = "monographs/citation_list.html"

    def get_context_data(self, **kwargs):
        citations = [_used(use) for use in published_citations().values()]
        return super().get_context_data(
            citations=citations,
            crumbs=trail(("References", "monographs:citation-list")),
            **kwargs,
        )


class CitationDetailView(TemplateView):
    template_name = "monographs/citation_detail.html"

    def get_context_data(self, **kwargs):
        use = published_citations().get(self.kwargs["pk"])
        if use is None:
            raise Http404("No published page cites this reference.")
        citation = _used(use)
        return super().get_context_data(
            crumbs=trail(
                ("References", "monographs:citation-list"),
                # A title can run to a paragraph: the trail keeps to one line.
                (Truncator(citation_label(citation)).chars(60), self.request.path),
            ),
            citation=citation,
            object=citation,
            used_on=use.forms,
            label=citation_label(citation),
            **kwargs,
        )


def exported_citations(request):
    """Every published citation, or those of one published page in page order."""
    slug = request.GET.get("form")
    if slug is None:
        citations = [use.citation for use in published_citations().values()]
        return citations, "mgref-citations"
    publication = publication_by_slug(slug) if slug_re.match(slug) else None
    if publication is None and slug_re.match(slug):
        target = current_slug(slug)
        if target is not None:
            # A former or a synonym's slug: the monograph's references.
            raise Moved(query_naming(request, "form", target))
    if publication is None or publication.withdrawn:
        raise Http404("No published form has this address.")
    page = MonographPage(document_load(publication.revision))
    return [citation for _, citation, _ in page.references], f"mgref-{publication.slug}"


def _download(body, content_type, filename):
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_safe
@follows_moves
def export_ris(request):
    citations, name = exported_citations(request)
    return _download(
        to_ris(citations),
        "application/x-research-info-systems; charset=utf-8",
        f"{name}.ris",
    )


@require_safe
@follows_moves
def export_bibtex(request):
    citations, name = exported_citations(request)
    return _download(
        to_bibtex(citations), "application/x-bibtex; charset=utf-8", f"{name}.bib"
    )


@require_safe
@follows_moves
def export_csl_json(request):
    citations, name = exported_citations(request)
    response = JsonResponse(
        [to_csl(citation) for citation in citations],
        safe=False,
        json_dumps_params={"ensure_ascii": False, "indent": 1},
    )
    response["Content-Disposition"] = f'inline; filename="{name}.json"'
    return response
