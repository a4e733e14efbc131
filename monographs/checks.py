"""System checks for mgref's own settings (``manage.py check``)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def proxy_count_check(app_configs, **kwargs):
    """Behind a proxy, login throttling needs to know how many there are.

    SECURE_PROXY_SSL_HEADER says a reverse proxy terminates TLS in front of
    mgref. With DJANGO_PROXY_COUNT at 0 the client's address is then the
    proxy's for every request, so the per-address login limit counts all
    clients together and one of them can lock everyone out.
    """
    if settings.SECURE_PROXY_SSL_HEADER and not settings.MGREF_PROXY_COUNT:
        return [
            Warning(
                "SECURE_PROXY_SSL_HEADER is set, so mgref runs behind a reverse "
                "proxy, but DJANGO_PROXY_COUNT is 0: login throttling would see "
                "the proxy's address for every client.",
                hint=(
                    "Set DJANGO_PROXY_COUNT to the number of reverse proxies in "
                    "front of mgref that append to X-Forwarded-For (usually 1)."
                ),
                id="mgref.W001",
            )
        ]
    return []
