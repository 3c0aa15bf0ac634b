"""Several ASGI workers on one database: a session made on one works on the other, and both serve
the same data. Run on PostgreSQL by scripts/test.py (and on the SQLite test file otherwise)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from mufakat.core.models import Organisation, SharingGroup
from mufakat.core.tenancy.demo import DEMO_PASSWORD, ensure_user

pytestmark = pytest.mark.django_db(transaction=True)


def login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{base}/accounts/login/", timeout=10).raise_for_status()
    r = s.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text[:500]
    assert "sessionid" in s.cookies
    return s


def test_two_workers_share_sessions_and_data(
    shared_db_env: dict[str, str], start_server: Any
) -> None:
    ensure_user(Organisation.objects.get(code="SG"), "sg-analyst", ["analyst", "reporter"])
    a = start_server(shared_db_env)
    b = start_server(shared_db_env)
    assert a.url != b.url

    session = login(a.url, "sg-analyst")
    # The cookie issued by worker A authenticates on worker B: sessions live in the database.
    me_a = session.get(f"{a.url}/api/core/me", timeout=10).json()
    me_b = session.get(f"{b.url}/api/core/me", timeout=10).json()
    assert me_b["username"] == "sg-analyst"
    assert me_a == me_b
    assert me_b["organisation"]["code"] == "SG"

    created = session.post(
        f"{b.url}/api/core/sharing-groups",
        data=json.dumps({"name": "Two-worker check", "member_codes": ["MY", "ID"]}),
        headers={"Content-Type": "application/json", "X-CSRFToken": session.cookies["csrftoken"]},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]

    listed_a = session.get(f"{a.url}/api/core/sharing-groups", timeout=10).json()
    listed_b = session.get(f"{b.url}/api/core/sharing-groups", timeout=10).json()
    assert listed_a == listed_b
    assert {"id": group_id, "owner": "SG", "members": ["ID", "MY", "SG"]}.items() <= next(
        g for g in listed_a if g["id"] == group_id
    ).items()
    assert SharingGroup.objects.filter(pk=group_id, name="Two-worker check").exists()

    # Logging out on A ends the session on B as well.
    r = session.post(
        f"{a.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    assert session.get(f"{b.url}/api/core/me", timeout=10).status_code == 401


def test_request_id_is_echoed_and_logged_as_json(
    shared_db_env: dict[str, str], start_server: Any, wait_until: Any
) -> None:
    server = start_server({**shared_db_env, "MUFAKAT_LOG_JSON": "1"})
    rid = "ops-check-0123456789"
    r = requests.get(f"{server.url}/no-such-page", headers={"X-Request-ID": rid}, timeout=10)
    assert r.status_code == 404
    assert r.headers["X-Request-ID"] == rid
    # An id that does not look like one is replaced, never echoed.
    bad = requests.get(f"{server.url}/healthz", headers={"X-Request-ID": "<script>"}, timeout=10)
    assert bad.headers["X-Request-ID"] != "<script>"
    assert len(bad.headers["X-Request-ID"]) == 36

    def logged() -> list[dict[str, Any]]:
        rows = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
        return [row for row in rows if row.get("request_id") == rid]

    wait_until(lambda: bool(logged()), 10, "the JSON log line of the 404")
    row = logged()[0]
    assert row["level"] == "WARNING"
    assert row["logger"] == "django.request"
    assert "/no-such-page" in row["message"]
    assert set(row) >= {"time", "level", "logger", "request_id", "message"}
