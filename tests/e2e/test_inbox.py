"""The alert inbox in a real browser: one thread per record, filters, mute, mark all read."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_shell import shot
from tests.sharedapp.models import Dossier

from mufakat.core.models import Organisation
from mufakat.core.notifications.alerts import notify
from mufakat.core.sharing import services
from mufakat.core.tenancy.demo import DEMO_PASSWORD, ensure_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_inbox_threads_filter_mute_and_mark_all_read(page: Page, live_server: Any) -> None:
    sg, my = Organisation.objects.get(code="SG"), Organisation.objects.get(code="MY")
    owner = ensure_user(sg, "sg-owner", ["focal_point"], two_factor=True)
    reader = ensure_user(my, "my-reader", ["analyst"])
    fault = services.guarded_write(owner, Dossier(title="Cable fault"), "add")
    services.set_sharing(owner, fault, distribution="named", tlp="amber", shared_with=[my])
    drill = services.guarded_write(owner, Dossier(title="Drill"), "add")
    services.set_sharing(owner, drill, distribution="named", tlp="green", shared_with=[my])
    for i in range(13):
        notify(fault, [reader], title=f"Cable fault update {i}", severity=4, states=["SG"])
    notify(drill, [reader], title="Drill planned", severity=1, states=["MY"])

    page.goto(f"{live_server.url}/accounts/login/?next=/inbox/")
    page.get_by_label("Username").fill("my-reader")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    threads = page.locator("li.alert-thread")
    # Thirteen updates of one record are one thread (plus the other record's), newest first.
    expect(threads).to_have_count(2)
    expect(threads.nth(1)).to_contain_text("Cable fault update 12")
    expect(threads.nth(1).locator(".sev-badge")).to_have_text("Severity 4")
    expect(threads.nth(1).locator(".tlp")).to_have_text("TLP:AMBER")
    expect(page.locator(".inbox-link .badge")).to_have_text("2")
    threads.nth(1).get_by_text("12 earlier updates").click()
    expect(threads.nth(1).locator(".thread-older li")).to_have_count(12)
    shot(page, "inbox")

    # Filtering by state swaps the list in place (HTMX) and keeps it in the address.
    page.get_by_label("State").select_option("SG")
    expect(threads).to_have_count(1)
    expect(threads.first).to_contain_text("Cable fault update 12")
    expect(page).to_have_url(f"{live_server.url}/inbox/?module=&state=SG&severity=")
    page.get_by_label("State").select_option("")
    page.get_by_label("Severity").select_option("1")
    expect(threads).to_have_count(1)
    expect(threads.first).to_contain_text("Drill planned")
    page.get_by_label("Severity").select_option("")
    expect(threads).to_have_count(2)

    # Muting a record says so and stops its alerts.
    threads.first.get_by_role("button", name="Mute this record").click()
    expect(page.locator("#mutes")).to_contain_text("Drill planned")
    expect(page.locator("li.alert-thread").first).to_contain_text("Muted")
    assert notify(drill, [reader], title="Drill moved") == []

    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("status")).to_contain_text("14 alert(s) marked read")
    expect(page.locator("li.alert-thread.unread")).to_have_count(0)
    expect(page.locator(".inbox-link .badge")).to_have_count(0)
    shot(page, "inbox-read")
