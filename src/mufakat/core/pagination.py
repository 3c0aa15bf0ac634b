"""API pagination with bounded offsets.

django-ninja's limit/offset pagination accepts any offset; one beyond the database's integer
range (SQLite and PostgreSQL both use signed 64-bit) turned into a 500. Offsets are capped well
below that, and a larger one is a 422 naming the limit.
"""

from __future__ import annotations

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 1_000_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
