from django.core.exceptions import DisallowedHost


def site(request):
    """The canonical address of the page: its path, without the query string.

    A request whose Host header is not allowed is answered with the 400 page,
    which is rendered with this context too: it gets the bare path, since
    asking for the host would raise DisallowedHost again and turn the 400
    into a 500.
    """
    try:
        canonical_url = request.build_absolute_uri(request.path)
    except DisallowedHost:
        canonical_url = request.path
    return {"canonical_url": canonical_url}
