"""mgref's URLs under /prefixed/, for tests of what reverses them."""

from django.urls import include, path

urlpatterns = [path("prefixed/", include("mgref.urls"))]
