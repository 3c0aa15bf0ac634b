from __future__ import annotations

import pytest

# Show the differing sets when a contract assertion in the shared test helpers fails.
pytest.register_assert_rewrite("mufakat.core.testing")


@pytest.fixture(autouse=True)
def _fresh_caches(settings: object) -> None:
    """Each test starts with an empty cache (throttles, content types stay valid)."""
    from django.core.cache import cache

    cache.clear()
