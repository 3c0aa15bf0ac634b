"""Report an incident from the map in a real browser; the served states' focal points get it."""

from __future__ import annotations

import os
from typing import Any

import pytest

from mufakat.core.models import Notification
from mufakat.cui.models import Incident

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_report_from_map(live_server: Any, page: Any, assets: None, people: dict[str, Any]) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "t-sg-rep")
    page.fill("input[name=password]", "cui-test-password-1")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/cui/")
    page.wait_for_selector("#cui-map[data-ready='1']", timeout=30000)
    box = page.locator("#cui-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.6)
    link = page.locator("a.cui-report-here")
    link.wait_for(timeout=10000)
    href = link.get_attribute("href")
    assert "lat=" in href
    assert "lon=" in href
    link.click()
    page.wait_for_selector("#id_title")
    assert page.input_value("#id_lat") != ""
    # Put the position in the Strait so that cables are nearby whatever the click landed on.
    page.fill("#id_lat", "1.20")
    page.fill("#id_lon", "104.00")
    page.fill("#id_title", "Anchor strike reported from the map")
    page.select_option("#id_incident_type", "anchor_strike")
    page.select_option("#id_distribution", "asean")
    page.select_option("#id_tlp", "green")
    page.click("button:has-text('File report')")
    page.wait_for_selector("#affected-states")
    states = page.inner_text("#affected-states")
    assert "SG" in states
    assert "MY" in states
    inc = Incident.objects.get(title="Anchor strike reported from the map")
    got = set(
        Notification.objects.filter(object_id=str(inc.pk)).values_list(
            "recipient__username", flat=True
        )
    )
    assert {"t-sg-fp", "t-my-fp", "t-id-fp"} <= got


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_form_errors_are_shown(
    live_server: Any, page: Any, assets: None, people: dict[str, Any]
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "t-sg-rep")
    page.fill("input[name=password]", "cui-test-password-1")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/cui/incidents/new/?lat=95&lon=104")
    page.click("button:has-text('File report')")
    page.wait_for_selector("#form-errors")
    assert "less than or equal to 90" in page.content()
    assert not Incident.objects.exists()
