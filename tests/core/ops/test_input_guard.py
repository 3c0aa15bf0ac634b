"""NUL characters are refused with a clear 400 on every path, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mufakat.core.models import Organisation, SharingGroup
from mufakat.core.tenancy.demo import ensure_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    user = ensure_user(
        Organisation.objects.get(code="SG"), "sg-nul", ["focal_point"], two_factor=True
    )
    c = Client()
    c.force_login(user)
    return c


def test_json_body_with_nul_is_refused_and_nothing_is_written(client: Client) -> None:
    body = {"name": "Straits", "member_codes": ["MY", "0=\x00"]}
    resp = client.post(
        "/api/core/sharing-groups", json.dumps(body), content_type="application/json"
    )
    assert resp.status_code == 400
    assert "NUL" in resp.json()["detail"]
    assert not SharingGroup.objects.filter(name="Straits").exists()


def test_query_and_form_nul_are_refused(client: Client) -> None:
    assert client.get("/api/core/notifications?unread=%00").status_code == 400
    page = client.post(
        "/sharing-groups/", "name=a%00b", content_type="application/x-www-form-urlencoded"
    )
    assert page.status_code == 400
    assert "NUL" in page.content.decode()


def test_escaped_backslash_u_sequences_are_ordinary_text(client: Client) -> None:
    body = {"name": "literal \\u0000 text", "member_codes": []}
    raw = json.dumps(body)
    assert "\\\\u0000" in raw
    resp = client.post("/api/core/sharing-groups", raw, content_type="application/json")
    assert resp.status_code == 201
    assert SharingGroup.objects.filter(name="literal \\u0000 text").exists()
