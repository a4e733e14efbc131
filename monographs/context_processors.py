def site(request):
    """The canonical address of the page: its path, without the query string."""
    return {"canonical_url": request.build_absolute_uri(request.path)}
