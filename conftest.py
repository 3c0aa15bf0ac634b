"""Fixtures for every test of the repository (tests/ and each module's tests/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in another language leaves that language active in the thread (Django resets
    it per request only in the handler's next request), so later tests would see, say, Thai
    messages. Each test starts and ends in the default language."""
    translation.deactivate()
    yield
    translation.deactivate()
