"""Alerts reach only people (and machines) allowed to see the record, on every channel."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail

from mufakat.core.models import Delivery, Notification, Organisation, Webhook
from mufakat.core.notifications.alerts import deliver, notify
from mufakat.core.sharing import services
from mufakat.core.sharing.testing import make_user
from tests.sharedapp.models import Dossier

pytestmark = pytest.mark.django_db


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def hook_server() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cast() -> dict[str, Any]:
    orgs = {o.code: o for o in Organisation.objects.filter(code__in=["SG", "MY", "VN"])}
    focal = make_user("sg-f", orgs["SG"], ["focal_point"])
    d = services.guarded_write(focal, Dossier(title="Cable fault"), "add")
    services.set_sharing(focal, d, distribution="named", tlp="amber", shared_with=[orgs["MY"]])
    return {
        "orgs": orgs,
        "doc": d,
        "owner": make_user("sg-v", orgs["SG"], ["viewer"]),
        "named": make_user("my-v", orgs["MY"], ["viewer"]),
        "outsider": make_user("vn-v", orgs["VN"], ["viewer"]),
    }


def test_inbox_and_email_skip_recipients_who_may_not_see(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        created = notify(
            cast["doc"],
            [cast["owner"], cast["named"], cast["outsider"], cast["named"]],
            title="Cable fault reported",
            body="Segment 4",
            link="/sharedapp/1/",
        )
    assert {n.recipient.username for n in created} == {"sg-v", "my-v"}
    assert not Notification.objects.filter(recipient=cast["outsider"]).exists()
    emails = Delivery.objects.filter(channel="email")
    assert set(emails.values_list("target", flat=True)) == {
        "sg-v@test.invalid",
        "my-v@test.invalid",
    }
    assert len(callbacks) == 1  # delivery is queued after commit, never inside the request
    for d in emails:
        assert deliver(d.pk) == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == ["my-v@test.invalid", "sg-v@test.invalid"]
    assert mail.outbox[0].subject == "Cable fault reported"


def test_webhook_is_signed_and_filtered(cast: dict[str, Any], hook_server: Any) -> None:
    url, handler = hook_server
    allowed = Webhook.objects.create(
        organisation=cast["orgs"]["MY"],
        name="MY SOC",
        url=url,
        secret="s3cret",
        run_as=cast["named"],
    )
    Webhook.objects.create(
        organisation=cast["orgs"]["VN"], name="VN SOC", url=url, secret="x", run_as=cast["outsider"]
    )
    notify(cast["doc"], [cast["named"], cast["outsider"]], title="Cable fault", body="b")
    hooks = Delivery.objects.filter(channel="webhook")
    assert list(hooks.values_list("target", flat=True)) == [str(allowed.pk)]
    assert deliver(hooks.get().pk) == "sent"
    assert len(handler.received) == 1
    headers, body = handler.received[0]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Mufakat-Signature"], expected)
    payload = json.loads(body)
    assert payload["object_type"] == "sharedapp.dossier"
    assert payload["object_id"] == str(cast["doc"].pk)


def test_failed_delivery_is_recorded_not_raised(cast: dict[str, Any], hook_server: Any) -> None:
    url, handler = hook_server
    handler.status = 500
    hook = Webhook.objects.create(
        organisation=cast["orgs"]["MY"], name="MY SOC", url=url, secret="k", run_as=cast["named"]
    )
    notify(cast["doc"], [cast["named"]], title="t")
    d = Delivery.objects.get(channel="webhook")
    assert deliver(d.pk) == "failed"
    d.refresh_from_db()
    assert d.attempts == 1
    assert "500" in d.error
    # An endpoint that is down entirely is also recorded.
    hook.url = "http://127.0.0.1:9/closed"
    hook.save()
    assert deliver(d.pk) == "failed"
    d.refresh_from_db()
    assert d.attempts == 2
    assert d.error


def test_marking_read_touches_only_the_readers_own_notification(cast: dict[str, Any]) -> None:
    from django.test import Client

    mine, theirs = notify(
        cast["doc"], [cast["named"], cast["owner"]], title="Cable fault", link="/somewhere/"
    )
    api = Client()
    api.force_login(cast["named"])
    r = api.post(f"/api/core/notifications/{mine.pk}/read")
    assert r.status_code == 200
    assert r.json()["read_at"]
    first = Notification.objects.get(pk=mine.pk).read_at
    api.post(f"/api/core/notifications/{mine.pk}/read")  # idempotent: the first time stays
    assert Notification.objects.get(pk=mine.pk).read_at == first
    # Someone else's notification is missing, on the API and on the page alike.
    assert api.post(f"/api/core/notifications/{theirs.pk}/read").status_code == 404
    assert api.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None

    page = Client()
    page.force_login(cast["owner"])
    r = page.post(f"/inbox/{theirs.pk}/read/")
    assert r.status_code == 302
    assert r["Location"] == "/somewhere/"
    assert Notification.objects.get(pk=theirs.pk).read_at is not None
