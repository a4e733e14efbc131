"""The WSGI application gunicorn serves: Django's, answering cached pages first
(monographs.caching.CachedWSGIHandler)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mgref.settings")
django.setup(set_prefix=False)

from monographs.caching import CachedWSGIHandler  # noqa: E402

application = CachedWSGIHandler()
