"""Alerts people actually receive: who by default, mutes, threads, badges, filters, read state,
their own language and absolute links."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils.translation import gettext as _

from mufakat import config
from mufakat.core.models import Delivery, Membership, Mute, Notification, Organisation, Webhook
from mufakat.core.notifications import inbox as box
from mufakat.core.notifications.alerts import fanout, notify
from mufakat.core.notifications.recipients import recipients_for
from mufakat.core.notifications.subscriptions import AlertSubject, subscribe
from mufakat.core.sharing import services
from mufakat.core.sharing.testing import make_user
from tests.sharedapp.models import Dossier

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    orgs = {o.code: o for o in Organisation.objects.filter(code__in=["SG", "MY", "VN", "TH"])}
    focal = make_user("sg-f", orgs["SG"], ["focal_point"])
    doc = services.guarded_write(focal, Dossier(title="Cable fault"), "add")
    services.set_sharing(
        focal, doc, distribution="named", tlp="amber", shared_with=[orgs["MY"], orgs["TH"]]
    )
    return {
        "orgs": orgs,
        "doc": doc,
        "focal": focal,
        "my_focal": make_user("my-f", orgs["MY"], ["focal_point"]),
        "my_analyst": make_user("my-a", orgs["MY"], ["analyst"]),
        "my_viewer": make_user("my-v", orgs["MY"], ["viewer"]),
        "th_analyst": make_user("th-a", orgs["TH"], ["analyst"]),
        "vn_analyst": make_user("vn-a", orgs["VN"], ["analyst"]),
    }


def names(users: list[Any]) -> list[str]:
    return sorted(u.username for u in users)


def test_recipients_are_focal_points_plus_the_module_roles_plus_subscribers(
    world: dict[str, Any],
) -> None:
    assert names(recipients_for(["MY", "VN"])) == ["my-f"]
    assert names(recipients_for(["my", "VN"], roles=["analyst"])) == ["my-a", "my-f", "vn-a"]
    subscribe(world["my_viewer"], "state", target_id="vn")
    subject = AlertSubject(states=frozenset({"VN"}))
    assert names(recipients_for(["MY"], subject=subject)) == ["my-f", "my-v"]
    # notify() then keeps only those the record is shared with: VN is not named on it.
    sent = notify(world["doc"], recipients_for(["MY", "VN"], roles=["analyst"]), title="t")
    assert sorted(n.recipient.username for n in sent) == ["my-a", "my-f"]


def test_mute_per_record_and_per_module(world: dict[str, Any]) -> None:
    doc, analyst, focal = world["doc"], world["my_analyst"], world["my_focal"]
    first = notify(doc, [analyst, focal], title="Fault reported")
    mine = next(n for n in first if n.recipient == analyst)
    mute = box.mute_thread(analyst, mine.pk)
    assert mute is not None
    assert mute.object_id == str(doc.pk)
    assert box.mute_thread(analyst, mine.pk) == mute  # idempotent
    again = notify(doc, [analyst, focal], title="Status repaired")
    assert [n.recipient for n in again] == [focal]
    # Another record of the same module still reaches the analyst until the module is muted.
    other = services.guarded_write(world["focal"], Dossier(title="Second"), "add")
    services.set_sharing(
        world["focal"], other, distribution="named", tlp="green", shared_with=[world["orgs"]["MY"]]
    )
    assert [n.recipient for n in notify(other, [analyst], title="x")] == [analyst]
    module_mute = box.mute(analyst, "sharedapp")
    assert notify(other, [analyst], title="y") == []
    # Unmuting turns alerts back on; a mute belongs to its user only.
    assert not box.unmute(focal, module_mute.pk)
    assert box.unmute(analyst, module_mute.pk)
    assert [n.recipient for n in notify(other, [analyst], title="z")] == [analyst]
    # Someone else's inbox entry cannot be muted (missing, like any other's).
    assert box.mute_thread(focal, mine.pk) is None
    assert Mute.objects.filter(user=focal).count() == 0


def test_thirteen_updates_are_one_thread(world: dict[str, Any]) -> None:
    doc, analyst = world["doc"], world["my_analyst"]
    for i in range(13):
        notify(doc, [analyst], title=f"Update {i}", severity=3, states=["MY", "SG"])
    other = services.guarded_write(world["focal"], Dossier(title="Other"), "add")
    services.set_sharing(
        world["focal"], other, distribution="named", tlp="green", shared_with=[world["orgs"]["MY"]]
    )
    notify(other, [analyst], title="Other fault", severity=1, states=["MY"])
    assert box.unread_threads(analyst) == 2
    rows = list(box.threads(box.inbox(analyst)))
    assert [r["n"] for r in rows] == [1, 13]
    threads = box.load_threads(analyst, rows, box.inbox(analyst))
    big = threads[1]
    assert big.latest.title == "Update 12"
    assert [n.title for n in big.older][:2] == ["Update 11", "Update 10"]
    assert (big.latest.severity, big.latest.tlp, big.latest.states) == (3, "amber", ["MY", "SG"])
    # Reading the latest update reads its thread, not the other one.
    box.mark_read(analyst, big.latest.pk)
    assert box.unread_threads(analyst) == 1
    assert not box.inbox(analyst).filter(thread=big.latest.thread, read_at__isnull=True).exists()
    page = Client()
    page.force_login(analyst)
    html = page.get("/inbox/").content.decode()
    assert html.count('class="alert-thread') == 2
    assert "12 earlier updates" in html
    assert "Severity 3" in html
    assert "TLP:AMBER" in html


def test_filters_and_mark_all_read(world: dict[str, Any]) -> None:
    doc, analyst, viewer = world["doc"], world["my_analyst"], world["my_viewer"]
    notify(doc, [analyst, viewer], title="Severe", severity=4, states=["SG"])
    group = services.create_sharing_group(
        world["focal"], name="Straits", members=Organisation.objects.filter(code="MY")
    )
    notify(group, [analyst], title="Group created", states=["MY"])
    f = box.InboxFilter
    qs = box.inbox(analyst)
    assert [n.title for n in box.filtered(qs, f(module="core"))] == ["Group created"]
    assert [n.title for n in box.filtered(qs, f(state="SG"))] == ["Severe"]
    assert [n.title for n in box.filtered(qs, f(severity=4))] == ["Severe"]
    assert not box.filtered(qs, f(severity=2)).exists()
    assert box.InboxFilter.from_query({"severity": "x", "state": "my", "unread": "1"}) == f(
        state="MY", unread=True
    )
    # Mark all read within a filter, then everything; the viewer's inbox is untouched.
    assert box.mark_all_read(analyst, f(module="core")) == 1
    assert box.unread_threads(analyst) == 1
    c = Client()
    c.force_login(analyst)
    r = c.post("/inbox/read-all/")
    assert r.status_code == 302
    assert box.unread_threads(analyst) == 0
    assert box.unread_threads(viewer) == 1
    # The same through the API, with the UI's filters.
    notify(doc, [analyst], title="Again", severity=2, states=["SG"])
    api = c.get("/api/core/notifications?severity=2&state=sg").json()
    assert [n["title"] for n in api["items"]] == ["Again"]
    assert api["items"][0]["thread"] == f"sharedapp.dossier:{doc.pk}"
    assert c.post("/api/core/notifications/read-all?module=core").json() == {"marked": 0}
    assert c.post("/api/core/notifications/read-all").json() == {"marked": 1}
    # The page filters too, and keeps the filter when marking all read.
    notify(doc, [analyst], title="Latest", severity=2)
    page = c.get("/inbox/?module=core").content.decode()
    assert "Group created" in page
    assert "Latest" not in page
    r = c.post("/inbox/read-all/", {"module": "core"})
    assert r["Location"] == "/inbox/?module=core"
    assert box.unread_threads(analyst) == 1


def test_each_recipient_reads_the_alert_in_their_language(world: dict[str, Any]) -> None:
    analyst, focal = world["my_analyst"], world["my_focal"]
    c = Client()
    c.force_login(analyst)
    c.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert Membership.objects.get(user=analyst).language == "id"
    c.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # unknown: ignored
    assert Membership.objects.get(user=analyst).language == "id"
    analyst.refresh_from_db()
    sent = notify(
        world["doc"],
        [analyst, focal],
        title=lambda: _("Alerts"),
        body=lambda: _("Open"),
        link="/x/",
    )
    got = {n.recipient.username: (n.title, n.body) for n in sent}
    assert got == {"my-a": ("Peringatan", "Buka"), "my-f": ("Alerts", "Open")}
    mails = {d.target: d.payload["subject"] for d in Delivery.objects.filter(channel="email")}
    assert mails == {"my-a@test.invalid": "Peringatan", "my-f@test.invalid": "Alerts"}


def test_links_in_mail_and_webhooks_are_absolute(world: dict[str, Any], settings: Any) -> None:
    settings.MUFAKAT_SITE_URL = "https://mufakat.example.org"
    hook = Webhook.objects.create(
        organisation=world["orgs"]["MY"],
        name="MY SOC",
        url="https://soc.my.invalid/",
        secret="s",
        run_as=world["my_focal"],
    )
    result = fanout(world["doc"], [world["my_focal"]], title="t", body="b", link="/sharedapp/7/")
    assert result.counts() == {"inbox": 1, "email": 1, "webhook": 1}
    assert result.states == ["MY"]
    assert result.webhooks == [hook]
    assert Notification.objects.get().link == "/sharedapp/7/"  # in-app stays on this site
    mail = Delivery.objects.get(channel="email")
    assert mail.payload["body"].endswith("\n\nhttps://mufakat.example.org/sharedapp/7/")
    assert Delivery.objects.get(channel="webhook").payload["link"] == (
        "https://mufakat.example.org/sharedapp/7/"
    )


@pytest.mark.parametrize(
    "bad", ["localhost:8000", "ftp://host", "https://host/mufakat", "https://"]
)
def test_site_url_setting_is_validated(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("MUFAKAT_SITE_URL", bad)
    with pytest.raises(ImproperlyConfigured, match="MUFAKAT_SITE_URL"):
        config.load()
    monkeypatch.setenv("MUFAKAT_SITE_URL", "https://mufakat.example.org:8443/")
    assert config.load().site_url == "https://mufakat.example.org:8443"


def test_inbox_actions_on_anothers_alert_are_404(world: dict[str, Any]) -> None:
    (n,) = notify(world["doc"], [world["my_analyst"]], title="t")
    c = Client()
    c.force_login(world["my_viewer"])
    assert c.post(f"/inbox/{n.pk}/mute/").status_code == 404
    mute = Mute.objects.create(user=world["my_analyst"], module="sharedapp")
    assert c.post(f"/inbox/mutes/{mute.pk}/delete/").status_code == 404
    assert Mute.objects.filter(pk=mute.pk).exists()
