"""cui's figures for the strategic framework dashboard (registered in apps.MODULE). Each counts
only the incidents the asking user may see."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from mufakat.core.choices import Distribution
from mufakat.core.registry import IndicatorValue
from mufakat.cui.models import Incident
from mufakat.cui.queries import incidents


def _in_period(user: Any, start: date, end: date) -> QuerySet[Incident]:
    return incidents(user).filter(occurred_at__date__gte=start, occurred_at__date__lte=end)


def incidents_reported(user: Any, start: date, end: date) -> IndicatorValue:
    n = _in_period(user, start, end).count()
    return IndicatorValue(float(n), n)


def incidents_shared(user: Any, start: date, end: date) -> IndicatorValue:
    n = _in_period(user, start, end).exclude(distribution=Distribution.ORGANISATION).count()
    return IndicatorValue(float(n), n)


def mean_hours_to_restore(user: Any, start: date, end: date) -> IndicatorValue:
    rows = _in_period(user, start, end).filter(restored_at__isnull=False)
    hours = [
        (i.restored_at - i.occurred_at).total_seconds() / 3600
        for i in rows.only("occurred_at", "restored_at")
        if i.restored_at is not None and i.restored_at >= i.occurred_at
    ]
    return IndicatorValue(sum(hours) / len(hours) if hours else None, len(hours))
