from django.urls import path

from monographs import views

app_name = "monographs"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("forms/", views.FormListView.as_view(), name="form-list"),
    path("forms/<slug:slug>/", views.FormDetailView.as_view(), name="form-detail"),
    path("forms/<slug:slug>/draft/", views.FormDraftView.as_view(), name="form-draft"),
    path(
        "forms/<slug:slug>/revisions/<int:number>/",
        views.RevisionDetailView.as_view(),
        name="revision-detail",
    ),
    path(
        "indications/<slug:slug>/",
        views.IndicationDetailView.as_view(),
        name="indication-detail",
    ),
    path(
        "side-effects/<slug:slug>/",
        views.SideEffectDetailView.as_view(),
        name="side-effect-detail",
    ),
    path(
        "citations/<int:pk>/",
        views.CitationDetailView.as_view(),
        name="citation-detail",
    ),
]
