"""
Settings for mgref, read from the environment.

With nothing set, mgref runs in DEBUG on a local SQLite file. With
DJANGO_DEBUG=false it refuses to start unless DJANGO_SECRET_KEY and
DJANGO_ALLOWED_HOSTS are set to real values.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}."
        ) from None


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

# Django's check --deploy rejects keys shorter than 50 characters, with fewer
# than 5 distinct characters, or with the startproject "django-insecure-" prefix.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if DEBUG:
    SECRET_KEY = (
        SECRET_KEY or "django-insecure-local-development-key-never-used-in-production"
    )
elif (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure-")
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random string of at least 50 characters "
        "when DJANGO_DEBUG is off. Generate one with: python -c "
        '"from django.core.management.utils import get_random_secret_key; '
        'print(get_random_secret_key())"'
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must list the site's host names (comma-separated) "
        "when DJANGO_DEBUG is off."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "markdownx",
    "simple_history",
    "monographs",
]

MIDDLEWARE = [
    # First: answers anonymous readers' cached pages before any other work,
    # with the headers the full stack gave them (monographs.caching).
    "monographs.caching.PublicCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Warns once per process when proxies send X-Forwarded-For that
    # DJANGO_PROXY_COUNT does not account for.
    "monographs.security.ProxyHeaderMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "monographs.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "mgref.urls"
WSGI_APPLICATION = "mgref.wsgi.application"

TEMPLATES = [
    {
        # Readers' pages (jinja2/): see monographs/jinja2.py for why.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "monographs.jinja2.environment",
            "autoescape": True,
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monographs.context_processors.site",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monographs.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite allows one writer at a time. BEGIN IMMEDIATE takes the write lock
    # when a transaction starts, so a second writer waits (up to the timeout)
    # instead of failing with "database is locked" when it first writes; WAL
    # lets readers go on while a write is under way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("DJANGO_SQLITE_TIMEOUT", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mgref",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "mgref",
            # Each public page takes three entries (plain, gzip, Brotli): the
            # default of 300 held a quarter of the seeded site's pages. 3,000
            # hold about 1,000 pages, some 40 MB per worker at most; the least
            # recently read go first.
            "OPTIONS": {"MAX_ENTRIES": env_int("DJANGO_CACHE_MAX_ENTRIES", 3000)},
        }
    }

# Whether every app server sees the same cache. Only then can the cache hold
# the public pages' version stamp; a per-process cache reads it from the
# database on each request instead (monographs.caching).
MGREF_SHARED_CACHE = bool(REDIS_URL)

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Request bodies. A monograph's admin page posts every inline row's fields:
# Django's default of 1,000 fields would cap a monograph at about 90 rows, so
# up to 10,000 fields are accepted, and up to 10 MB of form data (Django's
# default is 2.5 MB; file uploads do not count): room for a large monograph
# whose Markdown fields (at most 100,000 characters each) are URL-encoded.
# A larger post is answered 413 (monographs.security.bad_request).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Logging in (the admin's login page): with no next= or one pointing off the
# site, land on the admin index.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    # Uploaded images: set DJANGO_MEDIA_STORAGE to a shared backend (e.g.
    # django-storages' S3) when several app servers run.
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Edit summaries are free text: a 100-character column would cut them short.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# A monograph is reverted as a whole (monographs.services.monograph_revert);
# simple-history's per-row revert would split a revision and skip the reason.
SIMPLE_HISTORY_REVERT_DISABLED = True

# django-markdownx: every preview goes through mgref's sanitizing renderer, and
# uploads are limited to raster formats (its defaults accept SVG, 50 MB).
MARKDOWNX_MARKDOWNIFY_FUNCTION = "monographs.markdown.markdownify"
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/png", "image/jpeg", "image/webp"]
MARKDOWNX_UPLOAD_MAX_SIZE = 2 * 1024 * 1024
MARKDOWNX_MEDIA_PATH = "uploads/"
# Uploaded images are decoded and re-encoded (monographs.editor_views): at
# most this many pixels, so a small file cannot expand into gigabytes.
MGREF_UPLOAD_MAX_PIXELS = 40_000_000

# No inline script or style anywhere, nothing from other origins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Login throttling, two separate policies: five failures for one account
# (from any address) lock that account, and twenty failures from one address
# (for any accounts) lock that address, each for a quarter of an hour after
# the last failure. monographs.security.LoginThrottleHandler applies the
# second limit; a successful login clears that account's failures only.
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
MGREF_ADDRESS_FAILURE_LIMIT = env_int("DJANGO_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=env_int("DJANGO_LOGIN_COOLOFF_MINUTES", 15)
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "monographs.security.LoginThrottleHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# The number of reverse proxies in front of mgref, each appending to
# X-Forwarded-For; the client's address is read past them. Behind a proxy it
# must be set, or every client shares the proxy's address (check --deploy
# warns, and so does the log on the first forwarded request).
MGREF_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "monographs.security.client_ip_address"

# Email: the review workflow's notifications (monographs.services.notifications).
# DJANGO_EMAIL_URL configures it in one variable, e.g.
# smtp://user:password@mail.example:587?tls=true, smtps://…:465, or console://;
# the DJANGO_EMAIL_* variables below override its parts. With nothing set,
# DEBUG prints messages to the console and production sends by SMTP to
# localhost:25. Tests use Django's locmem backend.
EMAIL_SCHEMES = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def email_settings(url):
    """Django's EMAIL_* settings from an EMAIL_URL-style address."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"DJANGO_EMAIL_URL must start with one of {', '.join(EMAIL_SCHEMES)}://, "
            f"not {url.split(':', 1)[0]!r}."
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("DJANGO_EMAIL_URL has a bad port.") from None
    return {
        "EMAIL_BACKEND": EMAIL_SCHEMES[parts.scheme],
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", "").lower() in {"1", "true", "yes", "on"},
    }


_email = email_settings(
    os.environ.get("DJANGO_EMAIL_URL") or ("console://" if DEBUG else "smtp://")
)
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND") or _email["EMAIL_BACKEND"]
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST") or _email["EMAIL_HOST"]
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", _email["EMAIL_PORT"])
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER") or _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = (
    os.environ.get("DJANGO_EMAIL_HOST_PASSWORD") or _email["EMAIL_HOST_PASSWORD"]
)
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", _email["EMAIL_USE_TLS"])
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", _email["EMAIL_USE_SSL"])
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "mgref <mgref@localhost>"
)
# Links in notifications: the site's address as editors reach it.
MGREF_SITE_URL = os.environ.get(
    "MGREF_SITE_URL", "http://127.0.0.1:8000" if DEBUG else ""
).rstrip("/")

# A monograph is due for review this many days after its last approval by a
# person (the seed's approvals have no reviewer and do not count).
MGREF_REVIEW_CYCLE_DAYS = env_int("MGREF_REVIEW_CYCLE_DAYS", 365)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True
    )
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
