import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: pages cached by one never answer another."""
    cache.clear()
    yield
    cache.clear()
