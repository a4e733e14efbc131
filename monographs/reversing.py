"""``reverse()`` kept per name and arguments.

A monograph page links some thirty addresses: the header's and footer's,
each topic's, each citation's. Django's ``reverse()`` rebuilds every one
from its pattern, which was a tenth of an uncached page. An address
depends only on the view name, the arguments, the script prefix and the
URLconf, so it is kept per those, and forgotten when a test changes the
URLconf setting.
"""

from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse


def cached_reverse(viewname, args=()):
    """``reverse(viewname, args=args)``; ``args`` must be hashable values."""
    return _reverse(viewname, tuple(args), get_script_prefix(), get_urlconf())


@lru_cache(maxsize=4096)
def _reverse(viewname, args, prefix, urlconf):
    return reverse(viewname, args=args or None, urlconf=urlconf)


@receiver(setting_changed)
def _forget_reversed(*, setting, **kwargs):
    """Tests that change the URLconf get its addresses, not the kept ones."""
    if setting == "ROOT_URLCONF":
        _reverse.cache_clear()
