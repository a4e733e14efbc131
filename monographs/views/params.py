"""Reading the query string without trusting it, and following what moved."""

import re
from functools import wraps

from django.core.paginator import Paginator
from django.http import Http404, HttpResponsePermanentRedirect

DIGITS_RE = re.compile(r"[0-9]{1,30}")


def whole_number(value):
    """A non-negative int written in ASCII digits, else None ('²' and '-1' are not)."""
    if value is None or not DIGITS_RE.fullmatch(value):
        return None
    return int(value)


def page_of(request, items, per_page):
    """The page ?page= asks for; a 404 for anything that is not one of its pages."""
    paginator = Paginator(items, per_page)
    number = whole_number(request.GET.get("page", "1"))
    if number is None or not 1 <= number <= paginator.num_pages:
        raise Http404("There is no such page.")
    return paginator.page(number)


class Moved(Exception):
    """What the request names lives at another address now: the view
    answers a permanent redirect to ``url``."""

    def __init__(self, url):
        super().__init__(url)
        self.url = url


def query_naming(request, name, value):
    """This page's address with ?name=value in place of what it had."""
    query = request.GET.copy()
    query[name] = value
    return f"{request.path}?{query.urlencode()}"


def follows_moves(view):
    """A view that may raise Moved answers it with a permanent redirect."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Moved as moved:
            return HttpResponsePermanentRedirect(moved.url)

    return wrapper
