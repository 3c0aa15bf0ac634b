"""API pagination: ninja's limit/offset with the offset bounded to what databases accept.

An offset beyond a signed 64-bit integer made SQLite fail with "datatype mismatch" (a 500 found
by tests/test_api_fuzz.py); such a request is now refused with 422 like any other bad parameter.
"""

from __future__ import annotations

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 2**63 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
