"""Demo incidents carry realistic timelines: each step at the time it happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mufakat.core.choices import RoleSlug
from mufakat.core.models import Organisation
from mufakat.core.tenancy.demo import ensure_user
from mufakat.cui import demo
from mufakat.cui.models import Incident, Status

pytestmark = pytest.mark.django_db


def test_demo_timelines_are_spread_over_the_incident(assets: None) -> None:
    for code, username, *_rest in demo.INCIDENTS:
        ensure_user(
            Organisation.objects.get(code=code), username, [RoleSlug.ANALYST, RoleSlug.REPORTER]
        )
    before = timezone.now()
    demo.load_demo()
    incidents = list(Incident.objects.filter(title__in=[i[2] for i in demo.INCIDENTS]))
    assert len(incidents) == len(demo.INCIDENTS)
    for inc in incidents:
        times = list(inc.updates.order_by("pk").values_list("created", flat=True))
        assert times == sorted(times)
        assert len(set(times)) == len(times), inc.title
        assert inc.occurred_at < times[0]
        assert times[-1] < before  # not the load time: every step happened before it
        if len(times) > 1:
            assert times[-1] - times[0] > timedelta(hours=3), inc.title
        steps = list(inc.updates.exclude(status_from="").values_list("status_to", "text"))
        assert all(text for _s, text in steps)  # each step says what happened
    restored = next(i for i in incidents if i.status == Status.RESTORED)
    last = restored.updates.order_by("pk").last()
    assert last is not None
    assert restored.restored_at == last.created
    assert restored.restored_at - restored.occurred_at == timedelta(hours=216)
