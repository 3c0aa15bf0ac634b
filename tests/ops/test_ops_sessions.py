"""Idle session expiry without a database write on every request."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from mufakat.core.models import Organisation
from mufakat.core.ops.middleware import SESSION_REFRESH_SECONDS, SESSION_SEEN_KEY
from mufakat.core.tenancy.demo import DEMO_PASSWORD, ensure_user

pytestmark = pytest.mark.django_db


def logged_in_client() -> Client:
    ensure_user(Organisation.objects.get(code="PH"), "ph-viewer", ["viewer"])
    client = Client()
    r = client.post("/accounts/login/", {"username": "ph-viewer", "password": DEMO_PASSWORD})
    assert r.status_code == 302
    return client


def stored() -> Session:
    return Session.objects.get()


def test_requests_within_the_refresh_window_do_not_rewrite_the_session() -> None:
    client = logged_in_client()
    assert client.get("/").status_code == 200
    first = stored()
    Session.objects.filter(pk=first.pk).update(expire_date=first.expire_date - timedelta(hours=1))
    assert client.get("/api/core/me").status_code == 200
    assert stored().expire_date == first.expire_date - timedelta(hours=1)


def test_a_request_after_the_window_pushes_the_idle_deadline_forward() -> None:
    client = logged_in_client()
    client.get("/")
    session = client.session
    session[SESSION_SEEN_KEY] = int(time.time()) - SESSION_REFRESH_SECONDS - 1
    session.save()
    Session.objects.update(expire_date=stored().expire_date - timedelta(hours=1))
    before = stored().expire_date
    assert client.get("/").status_code == 200
    assert stored().expire_date > before + timedelta(minutes=59)


def test_an_expired_session_logs_the_user_out() -> None:
    client = logged_in_client()
    client.get("/")
    Session.objects.update(expire_date=stored().expire_date - timedelta(days=2))
    r = client.get("/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")
