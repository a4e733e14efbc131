"""
The site's error handlers. Under /api/v1/ they answer in the API's JSON error
shape, with its CORS headers, so that a client reading JSON never gets an
HTML page: a bad Host header, a crash, an Http404 raised outside an
endpoint (addresses no route matches already reach ``api.not_found``).
Everywhere else they are Django's pages.
"""

from django.core.exceptions import DisallowedHost
from django.views import defaults

from monographs import security
from monographs.views import api
from monographs.views.api import API_PREFIX, api_error, with_cors


def _is_api(request):
    return request.path_info.startswith(API_PREFIX)


def bad_request(request, exception, template_name="400.html"):
    if _is_api(request):
        if isinstance(exception, DisallowedHost):
            response = api_error(
                "The request's Host header names no address this site serves.",
                400,
                parameter="Host",
            )
        else:
            response = api_error(
                "The request could not be read: it has more parameters or "
                "data than this site accepts.",
                400,
            )
        return with_cors(response)
    return security.bad_request(request, exception, template_name)


def page_not_found(request, exception, template_name="404.html"):
    if _is_api(request):
        return with_cors(api.not_found_error(request))
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name="500.html"):
    if _is_api(request):
        return with_cors(
            api_error(
                "Something went wrong on our side; it has been logged. "
                "Try again later.",
                500,
            )
        )
    return defaults.server_error(request, template_name)
