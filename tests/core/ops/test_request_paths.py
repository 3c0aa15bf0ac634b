"""The per-request fast paths: membership loaded once, bounded pagination, the served ASGI app."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mufakat.core.accounts.twofactor import requires_two_factor
from mufakat.core.choices import RoleSlug
from mufakat.core.models import Membership, Organisation, Role, membership_of, role_slugs, user_org
from mufakat.core.sharing.testing import make_user

pytestmark = pytest.mark.django_db


def _sg() -> Organisation:
    return Organisation.objects.get(code="SG")


def test_membership_roles_and_org_come_from_one_load() -> None:
    made = make_user("sg-perf", _sg(), [RoleSlug.ANALYST])
    user = type(made).objects.get(pk=made.pk)  # as a request loads it
    sg = _sg()
    with CaptureQueriesContext(connection) as cold:
        m = membership_of(user)
        assert m is not None
        assert user_org(user) == sg
        assert role_slugs(user) == {RoleSlug.ANALYST}
        assert not requires_two_factor(user)
        assert user.membership is m
    # Membership with organisation, the access stamp, then (first time in this process) the
    # roles, groups, grants and their object types, kept for the following requests.
    assert len(cold) == 6, [q["sql"] for q in cold.captured_queries]
    again = type(user).objects.get(pk=user.pk)  # the next request's user object
    with CaptureQueriesContext(connection) as warm:
        assert role_slugs(again) == {RoleSlug.ANALYST}
        assert user_org(again) == sg
        assert not requires_two_factor(again)
    assert len(warm) == 2, [q["sql"] for q in warm.captured_queries]  # membership, stamp


def test_role_change_is_seen_by_a_fresh_user_object() -> None:
    user = make_user("sg-perf2", _sg(), [RoleSlug.VIEWER])
    assert role_slugs(user) == {RoleSlug.VIEWER}
    Membership.objects.get(user=user).roles.add(Role.objects.get(slug=RoleSlug.FOCAL_POINT))
    user.refresh_from_db()
    assert requires_two_factor(user)


def test_user_without_membership_has_no_org_or_roles() -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("loner", password="x" * 16)
    assert membership_of(user) is None
    assert user_org(user) is None
    assert role_slugs(user) == frozenset()


def test_session_user_is_loaded_with_membership(client: Client) -> None:
    user = make_user("sg-perf3", _sg(), [RoleSlug.ANALYST])
    client.force_login(user)
    client.get("/")  # the first page of a session stores its refresh time
    with CaptureQueriesContext(connection) as q:
        assert client.get("/").status_code == 200
    # session, user with membership and organisation, the access stamp (roles and grants come
    # from the cross-request cache while it holds), unread threads, latest alerts
    assert len(q) == 5, [x["sql"][:80] for x in q.captured_queries]


def test_huge_offset_is_refused_not_a_server_error(client: Client) -> None:
    client.force_login(make_user("sg-perf4", _sg(), [RoleSlug.ANALYST]))
    r = client.get("/api/core/notifications", {"offset": 2**70})
    assert r.status_code == 422
    assert client.get("/api/core/notifications", {"offset": 0}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_asgi_application_serves_a_request() -> None:
    from mufakat.asgi import application

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    # Browser tests leave Playwright's event loop running in this thread, so the ASGI call gets
    # a loop of its own in a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, application(scope, receive, send)).result(timeout=30)
    assert sent[0]["status"] == 200
    assert b'"ok"' in b"".join(m.get("body", b"") for m in sent[1:])


def test_asgi_import_loads_every_url_before_serving(tmp_path: Path) -> None:
    """A worker imports the URLconf (views, API schema) before it accepts connections, so its
    first requests do not wait for it (benchmarks/README.md, the log-in burst)."""
    probe = (
        "import sys, mufakat.asgi; "
        "print(all(m in sys.modules for m in ('mufakat.urls', 'mufakat.api', 'mufakat.cui.views')))"
    )
    env = {
        **os.environ,
        "MUFAKAT_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "mufakat.settings",
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True", out.stderr
