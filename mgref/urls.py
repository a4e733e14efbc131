from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from monographs import editor_views
from monographs.sitemaps import SITEMAPS
from monographs.views import site

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "markdownx/markdownify/",
        editor_views.markdown_preview,
        name="markdownx_markdownify",
    ),
    path("markdownx/upload/", editor_views.image_upload, name="markdownx_upload"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", site.robots_txt, name="robots-txt"),
    path("healthz", site.healthz, name="healthz"),
    path("favicon.ico", site.favicon),
    path("", include("monographs.urls")),
]
