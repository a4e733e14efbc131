from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached gets a calm 503, not a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        if _is_lock_error(exception):
            return None
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response


def _is_lock_error(exception):
    # A lock timeout is an OperationalError too, but the database is there.
    text = str(exception).lower()
    return any(
        word in text for word in ("deadlock", "lock timeout", "database is locked")
    )
