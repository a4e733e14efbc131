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

Each stored page records the stamp it was rendered under, and answers only
while that is still the stamp. Where the stamp lives depends on the cache.
A cache every app server shares (Redis) holds it: a hit is one cache read
of the stamp and the page together, and no query. A per-process cache (the
local-memory default) cannot, since a write in one gunicorn worker would not
reach the others: there the stamp is read from the publications, one query
(the latest approval time and the sum of the published revisions' ids; see
``_stamp_query``).

``CachedWSGIHandler`` (``mgref.wsgi``) answers hits even earlier, before
Django builds its request cycle at all: gunicorn's workers serve a cached
page as cheaply as whitenoise serves a static file. It answers exactly what
the middleware would, with the same code.

Pages are also keyed by the **release** (``RELEASE``): a deployment that
changes the code, the templates or the static files' names makes every
page miss, even in a cache the old release's workers still share.

Never cached: staff and anyone else holding a session cookie (they always go
through the full stack, and may see drafts and banners), responses that set
a cookie or used a CSRF token (compressing secrets beside reflected input is
BREACH), responses other than 200, and anything the view marked private.
"""

import datetime
import gzip
import hashlib
import logging
import os
import time
import uuid
from functools import lru_cache, wraps
from pathlib import Path

import brotli
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.exceptions import DisallowedHost, MiddlewareNotUsed
from django.core.handlers.wsgi import WSGIHandler
from django.db import (
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.http import HttpResponse
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, urlencode

from monographs.models import Publication

try:
    from redis.exceptions import RedisError
except ImportError:  # No Redis client installed: only the local caches.
    RedisError = OSError

logger = logging.getLogger(__name__)

# What a cache that cannot be reached raises (Django's Redis backend passes
# the client's errors on). The site serves without its cache meanwhile:
# every page is rendered, as with caching switched off.
CACHE_ERRORS = (RedisError, OSError)
# Moving the stamp after an approval: tries, and the pause before each retry.
STAMP_TRIES = (0, 0.05, 0.25, 1.0)

EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
PAGE_TIMEOUT = 60 * 60 * 24
BROWSER_MAX_AGE = 60
STAMP_KEY = "mgref:stamp"
# Every miss pays for both encodings. Measured on the 53 KB glycinate page:
# Brotli at quality 6 takes 1.0 ms for 10,817 bytes, at 9 17 ms for 10,740
# (0.7% smaller), at 11 90 ms; gzip at level 6 1.2 ms, at 9 1.4 ms for the
# same size. Higher settings cost a miss far more than they save a reader.
BROTLI_QUALITY = 6
GZIP_LEVEL = 6
# Headers that describe one encoding of the body: set per answer, not stored.
BODY_HEADERS = {"content-length", "content-encoding", "etag", "x-cache"}
ENCODINGS = ("br", "gzip")


def _release():
    """A digest of what renders pages: mgref's Python source, the readers'
    templates and the static files' manifest (their hashed names), plus
    ``DJANGO_RELEASE`` where a deployment names itself. Read once per process."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256(os.environ.get("DJANGO_RELEASE", "").encode())
    files = [
        *sorted((root / "monographs").rglob("*.py")),
        *sorted((root / "mgref").rglob("*.py")),
        *sorted(path for path in (root / "jinja2").rglob("*") if path.is_file()),
        Path(settings.STATIC_ROOT) / "staticfiles.json",
    ]
    for path in files:
        try:
            digest.update(path.read_bytes())
        except OSError:
            continue  # No manifest before collectstatic (development, tests).
    return digest.hexdigest()[:12]


RELEASE = _release()


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


def _stamp_query(connection):
    """The SQL of the per-process stamp, written once per database vendor:
    the latest approval time and the sum of the published revisions' ids.

    The time alone would not do: an approval takes its time when its
    transaction starts, so one that commits after a later-started approval
    of another monograph leaves the latest time where it was, and pages
    cached in between would outlive it. Every change of a publication points
    it at a newer revision of its monograph (an approval at the latest
    revision, a deletion at the revision that deleted it), so the sum grows
    with every commit, in whatever order they come; the time tells apart
    two sums that meet after a backup is restored.
    """
    compiled = _STAMP_SQL.get(connection.vendor)
    if compiled is None:
        quote = connection.ops.quote_name
        meta = Publication._meta
        compiled = _STAMP_SQL[connection.vendor] = (
            f"SELECT MAX({quote(meta.get_field('approved_at').column)}), "
            f"SUM({quote(meta.get_field('revision').column)}) "
            f"FROM {quote(meta.db_table)}",
            (),
        )
    return compiled


_STAMP_SQL = {}


def _aware(value):
    """A datetime column as the driver gave it (SQLite: text in UTC)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


def site_stamp(request):
    """The version every cached page is keyed by (see the module's docstring)."""
    if not shared_cache():
        # The ORM's query, without building it on every hit: a cache hit
        # costs little more than this one indexed read.
        sql, params = _stamp_query(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            published_at, revisions = cursor.fetchone()
        if published_at is None:
            request.mgref_published_at = EPOCH
            return ""
        # Kept for the page's Last-Modified: no second query on a miss.
        request.mgref_published_at = _aware(published_at)
        return f"{published_at}|{revisions}"
    stamp = cache.get(STAMP_KEY)
    if stamp is None:
        stamp = _stamp_renew()
    return stamp


def _stamp_renew():
    """A stamp in place of one evicted or flushed: any new value is safe,
    it only makes stored pages miss."""
    cache.add(STAMP_KEY, uuid.uuid4().hex, None)
    return cache.get(STAMP_KEY)


def stamp_bump():
    """Move the stamp once the current transaction commits.

    A new random value, set after the commit: a page rendered before the
    write is never stored under a stamp set after it, and two bumps in any
    order both leave a stamp no page of the old content is stored under.
    """
    if shared_cache():
        # robust: the write has committed whatever happens here, so a cache
        # that cannot be reached must not turn its answer into an error.
        transaction.on_commit(_stamp_reset_retrying, robust=True)


def stamp_reset():
    """Move the stamp now: for changes made around the services, such as a
    restored backup. (Writes that bypass mgref altogether, such as SQL typed
    by hand, show once the cache is cleared or on the next approval.)"""
    if shared_cache():
        cache.set(STAMP_KEY, uuid.uuid4().hex, None)


def _stamp_reset_retrying():
    """Move the stamp after a commit, through a brief outage of the cache.

    Readers would be served the pages from before the write until the stamp
    moves: if it cannot be moved, say so loudly, with what puts it right.
    """
    for pause in STAMP_TRIES:
        time.sleep(pause)
        try:
            stamp_reset()
            return
        except CACHE_ERRORS as error:
            failure = error
    logger.error(
        "Could not reach the cache to move the public pages' version stamp "
        "(%s): readers may be served pages from before the latest change "
        "until the next approval moves it, or until `manage.py expire_pages` "
        "is run.",
        failure,
    )


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


@lru_cache(maxsize=4096)
def _view_params(urlconf, path):
    """The query parameters the view of ``path`` reads, or None if its pages
    are not cacheable. Remembered: resolving is most of a hit's work else."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return getattr(match.func, "mgref_cache_params", None)


def accepted_encoding(request):
    """The best encoding the client takes: "br", "gzip" or "" (none)."""
    offered = {}
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip().lower() == "q":  # case-insensitive (RFC 9110, 12.4.2)
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        offered[name.strip().lower()] = quality
    # The client's weights decide; between equals, ours (Brotli first).
    best, best_quality = "", 0.0
    for encoding in ENCODINGS:
        quality = offered.get(encoding, offered.get("*", 0.0))
        if quality > best_quality:
            best, best_quality = encoding, quality
    return best


# Request headers that can make an answer conditional (304 or 412).
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)


class PageCache:
    """Finding, storing and answering anonymous readers' cached pages.

    A page is stored once per encoding, each entry a finished response with
    every header, under a key of its address and encoding. Each entry holds
    the stamp it was rendered under; it answers only while that is the stamp.
    """

    def __init__(self):
        self.skip_prefixes = tuple(
            "/" + prefix.lstrip("/")
            for prefix in (settings.STATIC_URL, settings.MEDIA_URL, "/admin/")
            if prefix
        )

    def lookup(self, request):
        """(key, stamp, stored response or None) for a cacheable request, or
        None if this request is never answered from the cache."""
        if not reader_request(request):
            return None
        path = request.path_info
        if path.startswith(self.skip_prefixes):
            return None
        params = _view_params(get_urlconf() or settings.ROOT_URLCONF, path)
        if params is None:
            return None
        try:
            address = cache_address(request, params)
            key = self.key(address)
            encoding = accepted_encoding(request)
            if shared_cache():
                found = cache.get_many([STAMP_KEY, key + encoding])
                stamp = found.get(STAMP_KEY) or _stamp_renew()
                stored = found.get(key + encoding)
            else:
                stamp = site_stamp(request)
                stored = cache.get(key + encoding)
        except DisallowedHost:
            return None  # The stack refuses it, with its 400.
        except (OperationalError, InterfaceError):
            # The stack answers for a database it cannot reach, with its 503.
            return None
        except CACHE_ERRORS as error:
            # Rendered by the stack, and not stored (see store()).
            logger.warning("Page cache unreachable, serving uncached: %s", error)
            return None
        if stored is not None and stored["stamp"] != stamp:
            stored = None
        return key, stamp, stored

    @staticmethod
    def key(address):
        digest = hashlib.sha256(address.encode()).hexdigest()
        return f"mgref:page:{RELEASE}:{digest}:"

    def answer(self, request, stored):
        """The stored response, or the 304 or 412 its validators call for."""
        response = stored["response"]
        if any(header in request.META for header in CONDITIONAL_HEADERS):
            conditional = get_conditional_response(
                request, etag=response["ETag"], last_modified=stored["last_modified"]
            )
            if conditional is not None and conditional.status_code == 304:
                # A 304 carries the headers the 200 would (RFC 9110, 15.4.5).
                for name, value in response.items():
                    if name.lower() not in ("content-type", "content-length"):
                        conditional[name] = value
            if conditional is not None:
                # A 412 carries none of them: it is no page, and nothing may
                # store it as one.
                return conditional
        if request.method == "HEAD":
            response.content = b""
        return response

    def store(self, request, response, *, key, stamp):
        """Store the response in every encoding, and answer from what was
        stored; or return None if it must not be cached."""
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
        bodies = {
            "": content,
            "gzip": gzip.compress(content, GZIP_LEVEL, mtime=0),
            "br": brotli.compress(content, quality=BROTLI_QUALITY),
        }
        entries = {}
        for encoding, body in bodies.items():
            stored = HttpResponse(body, status=response.status_code, headers=headers)
            if encoding:
                stored["Content-Encoding"] = encoding
            stored["Content-Length"] = str(len(body))
            # Each encoding is its own representation, with its own strong ETag.
            stored["ETag"] = f'"{etag}{"-" + encoding if encoding else ""}"'
            stored["X-Cache"] = "hit"
            entries[key + encoding] = {
                "stamp": stamp,
                "last_modified": last_modified,
                "response": stored,
            }
        # Django's cache backends store entries serialized: what is changed
        # below is this answer only, and the stored entries say "hit".
        try:
            cache.set_many(entries, PAGE_TIMEOUT)
        except CACHE_ERRORS as error:
            logger.warning("Page cache unreachable, page not stored: %s", error)
        answered = entries[key + accepted_encoding(request)]
        answered["response"]["X-Cache"] = "miss"
        return answered


class PublicCacheMiddleware:
    """Answers anonymous readers' cacheable pages before the rest of the stack,
    and stores the pages the stack renders for them."""

    def __init__(self, get_response):
        if isinstance(caches["default"], DummyCache):
            # Caching switched off: nothing to answer from, nothing to store.
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.pages = PageCache()

    def __call__(self, request):
        found = self.pages.lookup(request)
        if found is None:
            return self.get_response(request)
        key, stamp, stored = found
        if stored is not None:
            return self.pages.answer(request, stored)
        response = self.get_response(request)
        stored = self.pages.store(request, response, key=key, stamp=stamp)
        if stored is None:
            return response
        return self.pages.answer(request, stored)


class CachedWSGIHandler(WSGIHandler):
    """Django's WSGI handler, answering cache hits before the request cycle.

    A hit skips the request signals and the middleware chain, as whitenoise
    does for static files when it wraps a WSGI application, and so costs
    about what a static file does. Anything else (a miss,
    a staff request, a POST) goes through Django whole, where
    PublicCacheMiddleware stores what is cacheable.

    Without the request signals, a hit leaves the database connection as it
    found it (with a per-process cache a hit reads the stamp): the next
    request through Django closes it if it is broken or past CONN_MAX_AGE.
    A hit whose query fails goes through Django, which reconnects.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pages = None if isinstance(caches["default"], DummyCache) else PageCache()

    def __call__(self, environ, start_response):
        if (
            self.pages is None
            or environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            # Static files and the admin, before building a request for them.
            or environ.get("PATH_INFO", "").startswith(self.pages.skip_prefixes)
        ):
            return super().__call__(environ, start_response)
        # A copy: WSGIRequest rewrites PATH_INFO in the environ it is given
        # as decoded text, which Django, reading it again on a miss, could no
        # longer encode as WSGI's latin-1 (any path with a non-ASCII
        # character answered 500 instead of 404).
        request = self.request_class(environ.copy())
        found = self.pages.lookup(request)
        if found is None or found[2] is None:
            return super().__call__(environ, start_response)
        response = self.pages.answer(request, found[2])
        start_response(
            f"{response.status_code} {response.reason_phrase}", list(response.items())
        )
        # The body alone: closing the response would send request_finished,
        # for a request cycle that never started.
        return [response.content]
