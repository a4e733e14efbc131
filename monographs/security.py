from django.conf import settings


def client_ip_address(request):
    """The client's address, read past ``MGREF_PROXY_COUNT`` trusted proxies.

    Each proxy appends the address it received the request from to
    X-Forwarded-For, so the client is the entry that many places from the
    right; anything further left was written by the client and is not trusted.
    """
    proxies = settings.MGREF_PROXY_COUNT
    if proxies:
        forwarded = [
            address.strip()
            for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if address.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
