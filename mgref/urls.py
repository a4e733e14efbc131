from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from monographs import editor_views, sitemaps
from monographs.caching import cached_public_page, site_last_modified
from monographs.views import site

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "markdownx/markdownify/",
        editor_views.markdown_preview,
        name="markdownx_markdownify",
    ),
    path("markdownx/upload/", editor_views.image_upload, name="markdownx_upload"),
    # Cached and validated like the shared pages (an ETag, 304s): crawlers
    # fetch it often, and it changes only with an approval, a deletion or a
    # recovery.
    path(
        "sitemap.xml",
        # Django's view pages a single sitemap by ?p= too.
        cached_public_page(site_last_modified, ("p",))(sitemaps.sitemap),
        name="sitemap",
    ),
    path(
        "sitemap-<slug:section>.xml",
        cached_public_page(site_last_modified, ("p",))(sitemaps.sitemap_section),
        name="sitemap-section",
    ),
    path("robots.txt", site.robots_txt, name="robots-txt"),
    path("healthz", site.healthz, name="healthz"),
    path("favicon.ico", site.favicon),
    path("", include("monographs.urls")),
]

# Uploaded images, in DEBUG and in production alike (whitenoise serves static
# files only). Only the content-hashed names the upload endpoint writes are
# served. A deployment may serve MEDIA_URL from the reverse proxy or a storage
# URL instead; with an absolute MEDIA_URL this route is left out.
if "://" not in settings.MEDIA_URL and not settings.MEDIA_URL.startswith("//"):
    urlpatterns.insert(
        0,
        path(
            f"{settings.MEDIA_URL.lstrip('/')}{settings.MARKDOWNX_MEDIA_PATH}<str:name>",
            editor_views.uploaded_image,
            name="uploaded-image",
        ),
    )

# A request body over DATA_UPLOAD_MAX_MEMORY_SIZE gets a 413 that says so;
# under /api/ every error is the API's JSON.
handler400 = "monographs.views.errors.bad_request"
handler404 = "monographs.views.errors.page_not_found"
handler500 = "monographs.views.errors.server_error"
