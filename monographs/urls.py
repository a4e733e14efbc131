from django.urls import path

from monographs.views import api, browse, citations, history, monographs, search

app_name = "monographs"

urlpatterns = [
    path("", browse.HomeView.as_view(), name="home"),
    path("forms/", browse.FormListView.as_view(), name="form-list"),
    path("forms/compare/", browse.form_compare, name="form-compare"),
    path("forms/<slug:slug>/", monographs.FormDetailView.as_view(), name="form-detail"),
    path(
        "forms/<slug:slug>/draft/",
        monographs.FormDraftView.as_view(),
        name="form-draft",
    ),
    path(
        "forms/<slug:slug>/revisions/<int:number>/",
        monographs.RevisionDetailView.as_view(),
        name="revision-detail",
    ),
    path(
        "forms/<slug:slug>/history/", history.HistoryView.as_view(), name="form-history"
    ),
    path(
        "forms/<slug:slug>/history/feed/",
        history.MonographHistoryFeed(),
        name="form-history-feed",
    ),
    path("forms/<slug:slug>/diff/", history.DiffView.as_view(), name="form-diff"),
    path("changes/", history.RecentChangesView.as_view(), name="change-list"),
    path("changes/feed/", history.ChangesFeed(), name="change-feed"),
    path("indications/", browse.IndicationListView.as_view(), name="indication-list"),
    path(
        "indications/<slug:slug>/",
        browse.IndicationDetailView.as_view(),
        name="indication-detail",
    ),
    path("side-effects/", browse.SideEffectListView.as_view(), name="side-effect-list"),
    path(
        "side-effects/<slug:slug>/",
        browse.SideEffectDetailView.as_view(),
        name="side-effect-detail",
    ),
    path(
        "interactions/", browse.InteractionListView.as_view(), name="interaction-list"
    ),
    path("citations/", citations.CitationListView.as_view(), name="citation-list"),
    path("citations/export.ris", citations.export_ris, name="citation-export-ris"),
    path(
        "citations/export.bib", citations.export_bibtex, name="citation-export-bibtex"
    ),
    path(
        "citations/export.json", citations.export_csl_json, name="citation-export-csl"
    ),
    path(
        "citations/<int:pk>/",
        citations.CitationDetailView.as_view(),
        name="citation-detail",
    ),
    path("search/", search.search_view, name="search"),
    path("api/v1/forms/", api.form_list, name="api-form-list"),
    path("api/v1/forms/<slug:slug>/", api.form_detail, name="api-form-detail"),
]
