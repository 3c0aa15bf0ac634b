"""List endpoints page safely whatever offset a client sends."""

from __future__ import annotations

import pytest
from django.test import Client

from mufakat.core.models import Notification, Organisation
from mufakat.core.tenancy.demo import ensure_user
from mufakat.pagination import MAX_OFFSET

pytestmark = pytest.mark.django_db


def test_offsets_past_the_cap_are_a_clear_422_not_a_500() -> None:
    user = ensure_user(Organisation.objects.get(code="SG"), "sg-pager", ["viewer"])
    Notification.objects.bulk_create(Notification(recipient=user, title=f"n{i}") for i in range(3))
    c = Client()
    c.force_login(user)
    ok = c.get("/api/core/notifications?limit=2&offset=1")
    assert ok.status_code == 200
    assert ok.json()["count"] == 3
    assert len(ok.json()["items"]) == 2
    assert c.get(f"/api/core/notifications?offset={MAX_OFFSET}").json()["items"] == []
    huge = c.get("/api/core/notifications?limit=308&offset=74816200548902752078528512&unread=true")
    assert huge.status_code == 422
    assert "offset" in huge.content.decode()
