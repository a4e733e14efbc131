"""
Public pages, answered from the cache before any per-request work.

Every public page shows published documents only, so every public page
changes exactly when a publication does: an approval, a deletion or a
recovery (a citation or topic reaches readers only through an approval).
One **version stamp** moves on each of those writes, and every cached page
is keyed by it, its scheme, host and path, and the query parameters its
view reads.

``PublicCacheMiddleware`` runs first. An anonymous reader's request (GET or
HEAD, no session cookie) for a page marked with ``cached_public_page`` is
answered from the cache before sessions, CSRF, messages, CSP, axes or
simple-history run. On a miss the full stack renders the page, and this
middleware stores the finished response, every header included, gzip- and
Brotli-compressed once, then answers from what it stored: a hit and a miss
are the same bytes with the same headers.

Where the stamp lives depends on the cache. A cache every app server shares
(Redis) holds it: a hit is two cache reads and no query. A per-process cache
(the local-memory default) cannot, since a write in one gunicorn worker
would not reach the others: there the stamp is the latest approval time,
one indexed query.

Never cached: staff and anyone else holding a session cookie (they always go
through the full stack, and may see drafts and banners), responses that set
a cookie or used a CSRF token (compressing secrets beside reflected input is
BREACH), responses other than 200, and anything the view marked private.
"""

import datetime
import gzip
import hashlib
import uuid
from functools import wraps

import brotli
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.exceptions import DisallowedHost, MiddlewareNotUsed
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, urlencode

from monographs.models import Publication

EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
PAGE_TIMEOUT = 60 * 60 * 24
BROWSER_MAX_AGE = 60
STAMP_KEY = "mgref:stamp"
# Brotli's quality 11 costs tens of milliseconds on a large page; 9 keeps
# most of the gain for a few. Either way a page is compressed once per stamp.
BROTLI_QUALITY = 9
GZIP_LEVEL = 9
# Headers that describe one encoding of the body: set per answer, not stored.
BODY_HEADERS = {"content-length", "content-encoding", "etag", "x-cache"}
ENCODINGS = ("br", "gzip")


# --- the version stamp --------------------------------------------------------


def shared_cache():
    """Whether every app server sees the same cache (and so the same stamp)."""
    return settings.MGREF_SHARED_CACHE


def publication_stamp():
    """When public pages last changed: the latest approval or withdrawal."""
    stamp = (
        Publication.objects.order_by("-approved_at")
        .values_list("approved_at", flat=True)
        .first()
    )
    return stamp or EPOCH


def site_stamp(request):
    """The version every cached page is keyed by."""
    if not shared_cache():
        # Kept for the page's Last-Modified: no second query on a miss.
        request.mgref_published_at = publication_stamp()
        return str(request.mgref_published_at.timestamp())
    stamp = cache.get(STAMP_KEY)
    if stamp is None:
        # Evicted or flushed: any new value is safe, it only makes new keys.
        cache.add(STAMP_KEY, uuid.uuid4().hex, None)
        stamp = cache.get(STAMP_KEY)
    return stamp


def stamp_bump():
    """Move the stamp once the current transaction commits.

    A new random value, set after the commit: a page rendered before the
    write is never stored under a stamp set after it, and two bumps in any
    order both leave a stamp no page of the old content is stored under.
    """
    if shared_cache():
        transaction.on_commit(stamp_reset)


def stamp_reset():
    """Move the stamp now: for changes made around the services, such as a
    restored backup. (Writes that bypass mgref altogether, such as SQL typed
    by hand, show once the cache is cleared or on the next approval.)"""
    if shared_cache():
        cache.set(STAMP_KEY, uuid.uuid4().hex, None)


def publication_saved(sender, **kwargs):
    """Every approval, deletion and recovery saves a Publication."""
    stamp_bump()


# --- what a view says about its page ------------------------------------------


def site_last_modified(request, response, **kwargs):
    """Pages drawn from several monographs changed with the latest approval."""
    known = getattr(request, "mgref_published_at", None)
    return known if known is not None else publication_stamp()


def monograph_last_modified(request, response, slug, **kwargs):
    """A monograph's page changed when it was approved, or None if it never was."""
    monograph = (getattr(response, "context_data", None) or {}).get("monograph")
    publication = getattr(monograph, "publication", None)
    if publication is not None:
        # The view has read it already.
        return publication.approved_at
    return (
        Publication.objects.filter(slug=slug)
        .order_by("withdrawn")
        .values_list("approved_at", flat=True)
        .first()
    )


def cached_public_page(last_modified=site_last_modified, params=()):
    """Mark a GET view's pages as cacheable for anonymous readers.

    ``last_modified(request, response, **kwargs)`` gives the page's
    Last-Modified, or
    None if it has no published content (then nothing is cached); it runs
    only when the page is rendered. ``params`` names the query parameters the
    view reads: any other parameter changes nothing, so makes no entry.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if request.method not in ("GET", "HEAD"):
                return response
            if not reader_request(request):
                # Staff, or anyone else with a session: never cached anywhere.
                patch_cache_control(response, private=True)
                patch_vary_headers(response, ["Cookie"])
                return response
            if response.status_code != 200 or response.streaming:
                return response
            modified = last_modified(request, response, **kwargs)
            if modified is not None:
                response.mgref_last_modified = int(modified.timestamp())
            return response

        wrapper.mgref_cache_params = tuple(params)
        return wrapper

    return decorator


# --- the middleware -----------------------------------------------------------


def reader_request(request):
    """An anonymous reader's read: GET or HEAD, and no session cookie."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def cache_address(request, params):
    """Scheme, host, path, and the query parameters the view reads, in order."""
    query = urlencode(
        [(name, value) for name in params for value in request.GET.getlist(name)]
    )
    address = f"{request.scheme}://{request.get_host()}{request.path}"
    return f"{address}?{query}" if query else address


def accepted_encoding(request):
    """The best encoding the client takes: "br", "gzip" or "" (none)."""
    offered = {}
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        offered[name.strip().lower()] = quality
    for encoding in ENCODINGS:
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return ""


class PublicCacheMiddleware:
    """Answers anonymous readers' cacheable pages before the rest of the stack."""

    def __init__(self, get_response):
        if isinstance(caches["default"], DummyCache):
            # Caching switched off: nothing to answer from, nothing to store.
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.skip_prefixes = tuple(
            "/" + prefix.lstrip("/")
            for prefix in (settings.STATIC_URL, settings.MEDIA_URL, "/admin/")
            if prefix
        )

    def __call__(self, request):
        key = self.key(request)
        if key is None:
            return self.get_response(request)
        request.mgref_cache_key = key
        stored = cache.get(key)
        if stored is not None:
            return self.answer(request, stored, "hit")
        response = self.get_response(request)
        stored = self.storable(request, response)
        if stored is None:
            return response
        cache.set(key, stored, PAGE_TIMEOUT)
        return self.answer(request, stored, "miss")

    def key(self, request):
        """The cache key of this request's page, or None if it is not cacheable."""
        if not reader_request(request):
            return None
        path = request.path_info
        if path.startswith(self.skip_prefixes):
            return None
        try:
            match = resolve(path)
        except Resolver404:
            return None
        params = getattr(match.func, "mgref_cache_params", None)
        if params is None:
            return None
        try:
            address = cache_address(request, params)
            stamp = site_stamp(request)
        except DisallowedHost:
            return None  # The stack refuses it, with its 400.
        except (OperationalError, InterfaceError):
            # The stack answers for a database it cannot reach, with its 503.
            return None
        digest = hashlib.sha256(f"{stamp}|{address}".encode()).hexdigest()
        return f"mgref:page:{digest}"

    def storable(self, request, response):
        """The response as stored, or None if it must not be cached."""
        last_modified = getattr(response, "mgref_last_modified", None)
        if (
            last_modified is None
            or response.status_code != 200
            or response.streaming
            or response.cookies
            or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            or response.has_header("Content-Encoding")
        ):
            return None
        content = response.content
        response["Last-Modified"] = http_date(last_modified)
        patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
        patch_vary_headers(response, ["Cookie", "Accept-Encoding"])
        headers = [
            (name, value)
            for name, value in response.items()
            if name.lower() not in BODY_HEADERS
        ]
        etag = hashlib.sha256(content).hexdigest()[:32]
        return {
            "status": response.status_code,
            "headers": headers,
            "etag": etag,
            "last_modified": last_modified,
            "bodies": {
                "": content,
                "gzip": gzip.compress(content, GZIP_LEVEL, mtime=0),
                "br": brotli.compress(content, quality=BROTLI_QUALITY),
            },
        }

    def answer(self, request, stored, outcome):
        encoding = accepted_encoding(request)
        body = stored["bodies"][encoding]
        # Each encoding is its own representation, with its own strong ETag.
        etag = f'"{stored["etag"]}{"-" + encoding if encoding else ""}"'
        conditional = get_conditional_response(
            request, etag=etag, last_modified=stored["last_modified"]
        )
        response = conditional or HttpResponse(body, status=stored["status"])
        for name, value in stored["headers"]:
            if conditional is None or name.lower() != "content-type":
                response[name] = value
        if conditional is None:
            if encoding:
                response["Content-Encoding"] = encoding
            response["Content-Length"] = str(len(body))
            if request.method == "HEAD":
                response.content = b""
        response["ETag"] = etag
        response["X-Cache"] = outcome
        return response
