"""
Public pages cached by what they show.

A published revision never changes, so a monograph's page is cached under its
published revision: approving a new one, or deleting the monograph, simply
makes new keys. Pages drawn from many monographs (lists, search, the API,
history, feeds) are cached under the time of the latest approval or
withdrawal, read from the database on every request, so that every app
server moves to new keys the moment it commits.

Only anonymous requests are cached or answered from the cache: staff see
drafts and banners that must never reach readers, and never get a cached
reader's page that would hide their preview.
"""

import datetime
import hashlib
from functools import wraps

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, quote_etag, urlencode

from monographs.models import Publication

EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
PAGE_TIMEOUT = 60 * 60 * 24
BROWSER_MAX_AGE = 60


def publication_stamp():
    """When shared pages last changed: the latest approval or withdrawal.

    Citations and topics reach readers only through approved documents, so
    the publications alone say when any public page changed.
    """
    stamp = (
        Publication.objects.order_by("-approved_at")
        .values_list("approved_at", flat=True)
        .first()
    )
    return stamp or EPOCH


def site_version(request, **kwargs):
    """Pages drawn from several monographs: keyed by the latest approval."""
    stamp = publication_stamp()
    return f"site-{stamp.timestamp()}", stamp


def monograph_version(request, slug, **kwargs):
    """A monograph's public page: keyed by its published revision (one query)."""
    published = (
        Publication.objects.filter(slug=slug)
        .order_by("withdrawn")
        .values_list("revision_id", "approved_at", "withdrawn")
        .first()
    )
    if published is None:
        return None
    revision_id, approved_at, withdrawn = published
    return f"revision-{revision_id}-{withdrawn}-{approved_at.timestamp()}", approved_at


def cache_address(request, params):
    """The host, path and the query parameters the view reads, in a fixed order.

    Anything else in the query string changes nothing the view renders, so
    it never makes a cache entry of its own.
    """
    query = urlencode(
        [(name, value) for name in params for value in request.GET.getlist(name)]
    )
    address = f"{request.get_host()}{request.path}"
    return f"{address}?{query}" if query else address


def cached_public_page(version, params=()):
    """Cache a GET view for anonymous readers under ``version(request, **kwargs)``.

    ``version`` returns (token, last_modified) or None; ``params`` names the
    query parameters the view reads. Responses carry an ETag and
    Last-Modified; a conditional request is answered with 304 only once the
    page is known to exist (rendered and cached with a 200).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
                response = view(request, *args, **kwargs)
                patch_cache_control(response, private=True)
                patch_vary_headers(response, ["Cookie"])
                return response
            found = version(request, **kwargs)
            if found is None:
                return view(request, *args, **kwargs)
            token, last_modified = found
            address = cache_address(request, params)
            digest = hashlib.sha256(f"{token}|{address}".encode()).hexdigest()
            etag = quote_etag(digest[:32])
            last_modified = int(last_modified.timestamp())
            key = f"mgref:page:{digest}"
            stored = cache.get(key)
            if stored is not None:
                conditional = get_conditional_response(
                    request, etag=etag, last_modified=last_modified
                )
                if conditional is not None:
                    return _with_validators(conditional, etag, last_modified)
                response = HttpResponse(
                    stored["content"],
                    status=stored["status"],
                    content_type=stored["type"],
                )
                for name, value in stored["headers"]:
                    response[name] = value
                response["X-Cache"] = "hit"
            else:
                response = view(request, *args, **kwargs)
                if hasattr(response, "render") and callable(response.render):
                    response.render()
                if response.status_code != 200 or response.streaming:
                    return response
                cache.set(
                    key,
                    {
                        "content": response.content,
                        "status": response.status_code,
                        "type": response["Content-Type"],
                        "headers": [
                            (name, response[name])
                            for name in ("Content-Disposition",)
                            if name in response
                        ],
                    },
                    PAGE_TIMEOUT,
                )
                response["X-Cache"] = "miss"
                conditional = get_conditional_response(
                    request, etag=etag, last_modified=last_modified
                )
                if conditional is not None:
                    return _with_validators(conditional, etag, last_modified)
            return _with_validators(response, etag, last_modified)

        return wrapper

    return decorator


def _with_validators(response, etag, last_modified):
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
    patch_vary_headers(response, ["Cookie"])
    return response
