from django.urls import path, re_path
from django.views.decorators.http import require_safe

from monographs.caching import (
    cached_public_page,
    monograph_last_modified,
    site_last_modified,
)
from monographs.views import (
    api,
    browse,
    citations,
    history,
    monographs,
    openapi,
    search,
)

app_name = "monographs"

# Every public page is cached under the version stamp, which moves with each
# approval, deletion and recovery (monographs.caching). Shared pages are dated
# by the latest approval, a monograph's own pages by its own.
shared = cached_public_page(site_last_modified)
monograph_page = cached_public_page(monograph_last_modified)


def shared_reading(*params):
    """A shared page whose view reads these query parameters (and no others)."""
    return cached_public_page(site_last_modified, params)


urlpatterns = [
    path("", shared(browse.HomeView.as_view()), name="home"),
    path("forms/", shared(browse.FormListView.as_view()), name="form-list"),
    path(
        "forms/compare/",
        shared_reading("forms")(browse.form_compare),
        name="form-compare",
    ),
    path(
        "forms/<slug:slug>/",
        # The label-weight calculator answers ?label_mg=&hydrate= on the page.
        cached_public_page(monograph_last_modified, ("label_mg", "hydrate"))(
            monographs.FormDetailView.as_view()
        ),
        name="form-detail",
    ),
    path(
        "forms/<slug:slug>/draft/",
        monographs.FormDraftView.as_view(),
        name="form-draft",
    ),
    path(
        "forms/<slug:slug>/revisions/<int:number>/",
        shared(monographs.RevisionDetailView.as_view()),
        name="revision-detail",
    ),
    path(
        "forms/<slug:slug>/history/",
        shared_reading("page")(history.HistoryView.as_view()),
        name="form-history",
    ),
    path(
        "forms/<slug:slug>/history/feed/",
        # A Feed answers any method; a feed is read, never posted to.
        shared(require_safe(history.MonographHistoryFeed())),
        name="form-history-feed",
    ),
    path(
        "forms/<slug:slug>/diff/",
        shared_reading("from", "to")(history.DiffView.as_view()),
        name="form-diff",
    ),
    path(
        "changes/",
        shared_reading("form", "page")(history.RecentChangesView.as_view()),
        name="change-list",
    ),
    path(
        "changes/feed/",
        shared(require_safe(history.ChangesFeed())),
        name="change-feed",
    ),
    path(
        "indications/",
        shared(browse.IndicationListView.as_view()),
        name="indication-list",
    ),
    path(
        "indications/<slug:slug>/",
        shared(browse.IndicationDetailView.as_view()),
        name="indication-detail",
    ),
    path(
        "side-effects/",
        shared(browse.SideEffectListView.as_view()),
        name="side-effect-list",
    ),
    path(
        "side-effects/<slug:slug>/",
        shared(browse.SideEffectDetailView.as_view()),
        name="side-effect-detail",
    ),
    path(
        "interactions/",
        shared(browse.InteractionListView.as_view()),
        name="interaction-list",
    ),
    path(
        "citations/", shared(citations.CitationListView.as_view()), name="citation-list"
    ),
    path(
        "citations/export.ris",
        shared_reading("form")(citations.export_ris),
        name="citation-export-ris",
    ),
    path(
        "citations/export.bib",
        shared_reading("form")(citations.export_bibtex),
        name="citation-export-bibtex",
    ),
    path(
        "citations/export.json",
        shared_reading("form")(citations.export_csl_json),
        name="citation-export-csl",
    ),
    path(
        "citations/<int:pk>/",
        shared(citations.CitationDetailView.as_view()),
        name="citation-detail",
    ),
    path("search/", shared_reading("q", "page")(search.search_view), name="search"),
    path("api/", shared(openapi.ApiDocsView.as_view()), name="api-docs"),
    path("api/v1/", api.api_index, name="api-index"),
    path("api/v1/openapi.json", openapi.openapi_json, name="api-openapi"),
    path("api/v1/forms/", shared_reading("page")(api.form_list), name="api-form-list"),
    path(
        "api/v1/forms/<slug:slug>/",
        monograph_page(api.form_detail),
        name="api-form-detail",
    ),
    # Last: any other address under /api/ is a JSON 404.
    re_path(r"^api/(?P<rest>.*)$", api.not_found, name="api-not-found"),
]
