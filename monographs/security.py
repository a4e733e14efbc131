"""
Request-level defences: the client's address behind proxies, login
throttling by account and by address, and clean answers to requests that are
too large.
"""

import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.views.defaults import bad_request as django_bad_request

logger = logging.getLogger("mgref.security")


def client_ip_address(request):
    """The client's address, read past ``MGREF_PROXY_COUNT`` trusted proxies.

    Each proxy appends the address it received the request from to
    X-Forwarded-For, so the client is the entry that many places from the
    right; anything further left was written by the client and is not trusted.
    """
    proxies = settings.MGREF_PROXY_COUNT
    if proxies:
        forwarded = _forwarded_for(request)
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def _forwarded_for(request):
    return [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]


class ProxyHeaderMiddleware:
    """Log, once per process, when X-Forwarded-For and DJANGO_PROXY_COUNT disagree.

    Requests carrying X-Forwarded-For while DJANGO_PROXY_COUNT is 0 mean a
    proxy is in front that mgref does not know about: every client then has
    the proxy's address, and one client's failed logins lock out everyone
    behind it. A header with fewer entries than DJANGO_PROXY_COUNT means the
    count is too high. Either way the client's address falls back to the
    peer's. ``manage.py check --deploy`` warns about the first case up front.
    """

    warned = set()

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_FORWARDED_FOR" in request.META and len(self.warned) < 2:
            self.check(request)
        return self.get_response(request)

    def check(self, request):
        proxies = settings.MGREF_PROXY_COUNT
        entries = len(_forwarded_for(request))
        if proxies == 0 and "unset" not in self.warned:
            self.warned.add("unset")
            logger.warning(
                "A request arrived with X-Forwarded-For but DJANGO_PROXY_COUNT is 0: "
                "login throttling sees the proxy's address (%s) for every client. "
                "Set DJANGO_PROXY_COUNT to the number of reverse proxies in front.",
                request.META.get("REMOTE_ADDR"),
            )
        elif 0 < entries < proxies and "short" not in self.warned:
            self.warned.add("short")
            logger.warning(
                "X-Forwarded-For has %d entries but DJANGO_PROXY_COUNT is %d: "
                "the client's address falls back to the peer's (%s). "
                "Is DJANGO_PROXY_COUNT too high?",
                entries,
                proxies,
                request.META.get("REMOTE_ADDR"),
            )


class LoginThrottleHandler(AxesDatabaseHandler):
    """django-axes' database handler with a limit per lockout parameter.

    With ``AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]`` axes counts
    an account's failures (from any address) and an address's failures (for
    any account) separately, but holds both to ``AXES_FAILURE_LIMIT``. Here
    an address has its own, higher limit, ``MGREF_ADDRESS_FAILURE_LIMIT``, so
    that people sharing an address (an office, a misconfigured proxy) do not
    lock each other out as fast as one account is protected.

    A successful login clears that account's failures only: clearing the
    address's as well would let anyone with an account reset the count for
    guesses made from their address.
    """

    def limits(self, request, credentials):
        account_limit = get_failure_limit(request, credentials)
        return {
            "username": account_limit,
            "ip_address": settings.MGREF_ADDRESS_FAILURE_LIMIT,
        }, account_limit

    def get_failures(self, request, credentials=None):
        """Failures measured against AXES_FAILURE_LIMIT: the closest policy to its limit.

        axes locks when this reaches AXES_FAILURE_LIMIT, which happens exactly
        when one policy's count reaches its own limit.
        """
        limits, account_limit = self.limits(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        closest = 0
        for parameter, attempts in zip(
            map(_parameter_name, parameters),
            self.get_user_attempts(request, credentials),
            strict=True,
        ):
            failures = (
                attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            )
            if not failures:
                continue
            # A combined parameter (a list) is held to the account limit.
            limit = limits.get(parameter, account_limit)
            closest = max(closest, failures - limit + account_limit)
        return closest

    def reset_user_attempts(self, request, credentials=None):
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def _parameter_name(parameter):
    return parameter if isinstance(parameter, str) else tuple(parameter)


def bad_request(request, exception, template_name="400.html"):
    """handler400: a post too large to read is a 413 that says so.

    Django turns RequestDataTooBig, TooManyFieldsSent and TooManyFilesSent
    into 400s with the generic "bad request" page; the editor whose large
    monograph was refused needs to know why.
    """
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return _too_large(
            f"The form data sent is larger than {limit}, the most this site "
            "accepts in one request. Nothing was saved. Split the change into "
            "smaller saves, or shorten the longest texts."
        )
    if isinstance(exception, TooManyFieldsSent):
        return _too_large(
            f"The form sent more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} "
            "fields, the most this site accepts in one request. Nothing was "
            "saved. Split the change into smaller saves."
        )
    if isinstance(exception, TooManyFilesSent):
        return _too_large(
            "The form sent more files than this site accepts in one request. "
            "Nothing was saved."
        )
    if isinstance(exception, RefusedInput):
        return render(request, template_name, {"message": str(exception)}, status=400)
    return django_bad_request(request, exception, template_name)


class RefusedInput(BadRequest):
    """A 400 whose message is written for the person who sent the form: the
    400 page shows it (other errors' messages may say what only logs should)."""


def _too_large(message):
    body = format_html(
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>Request too large · mgref</title></head>\n"
        "<body><h1>Request too large</h1>\n<p>{}</p></body>\n</html>\n",
        message,
    )
    response = HttpResponse(body, status=413)
    response["Cache-Control"] = "no-store"
    return response
