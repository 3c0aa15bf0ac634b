"""API pagination: ninja's limit/offset with the offset bounded to what databases accept, and the
total counted in the page's own query.

An offset beyond a signed 64-bit integer made SQLite fail with "datatype mismatch" (a 500 found
by tests/core/ops/test_api_fuzz.py); such a request is now refused with 422 like any other bad parameter.

ninja counts with a second query (`COUNT(*)` over the same filter, then the page): on a shared
record list that compiled and ran restrict()'s sharing filter twice. Here the page carries the
total as a window column (`COUNT(*) OVER ()`), one query for both (benchmarks/README.md, "API
lists"); a second query is made only for an empty page past the end.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 2**63 - 1
TOTAL = "_mufakat_total"


def one_query_page(queryset: QuerySet[Any], offset: int, limit: int) -> tuple[list[Any], int]:
    """The page and the total number of rows of `queryset`, in one query when possible."""
    q = queryset.query
    plain = (
        queryset._iterable_class is ModelIterable
        and not q.distinct
        and not q.combinator
        and not q.is_sliced
        and q.group_by is None
        and not any(getattr(a, "contains_aggregate", False) for a in q.annotations.values())
    )
    if not plain:
        return list(queryset[offset : offset + limit]), queryset.count()
    page = list(queryset.annotate(**{TOTAL: Window(Count("*"))})[offset : offset + limit])
    if page:
        return page, int(getattr(page[0], TOTAL))
    return page, (queryset.count() if offset else 0)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def paginate_queryset(
        self,
        queryset: Any,  # a QuerySet, or a list from endpoints that build one
        pagination: Any,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        if not isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset, pagination, request, **params)
        limit = min(pagination.limit, self.max_limit)
        items, count = one_query_page(queryset, pagination.offset, limit)
        return {self.items_attribute: items, "count": count}
