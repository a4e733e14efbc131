from django.contrib import admin
from django.urls import include, path

from monographs import editor_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "markdownx/markdownify/",
        editor_views.markdown_preview,
        name="markdownx_markdownify",
    ),
    path("markdownx/upload/", editor_views.image_upload, name="markdownx_upload"),
    path("", include("monographs.urls")),
]
