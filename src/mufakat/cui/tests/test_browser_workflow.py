"""The analyst's workflow in a real browser, from an asset page to the incident page. With
MUFAKAT_SCREENSHOTS=docs/img each step leaves the picture docs/cui.md shows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mufakat.cui.models import Asset, Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("MUFAKAT_SCREENSHOTS")


def shot(page: Page, name: str, selector: str | None = None) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    target = page.locator(selector) if selector else page
    target.screenshot(path=str(Path(SHOTS) / f"cui-{name}.png"))


def log_in(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "t-sg-rep")
    page.fill("input[name=password]", "cui-test-password-1")
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_report_on_a_cable_from_its_page(
    live_server: Any, page: Page, assets: None, people: dict[str, Any]
) -> None:
    smw5 = Asset.objects.get(name="SeaMeWe-5")
    log_in(page, live_server)

    # The asset list: case-insensitive order, operator and status columns.
    page.goto(f"{live_server.url}/cui/assets/?q=sea")
    headers = [h.lower() for h in page.locator("#assets thead th").all_inner_texts()]
    assert headers[:4] == ["name", "kind", "operator", "status"]
    names = page.locator("#assets tbody td:first-child a").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    expect(page.locator("#assets tbody")).to_contain_text("In service since")
    shot(page, "assets", "main")

    page.goto(f"{live_server.url}/cui/assets/{smw5.pk}/")
    page.click("#report-on-asset")
    expect(page).to_have_url(f"{live_server.url}/cui/incidents/new/?asset={smw5.pk}")
    assert page.input_value("#id_asset") == str(smw5.pk)

    # Typing a position narrows the picker to routes nearby, nearest first, with distances.
    page.fill("#id_lat", "2.1712")
    page.fill("#id_lon", "101.7")
    page.locator("#id_lon").dispatch_event("change")
    expect(page.locator("#id_asset option", has_text="DAMAI Cable System · 0.4 km")).to_have_count(
        1
    )
    options = page.locator("#id_asset option").all_inner_texts()
    assert options[1].startswith("SeaMeWe-5 · 0.0 km")
    assert all(" km" in o for o in options[1:])
    assert len(options) < 30
    assert page.input_value("#id_asset") == str(smw5.pk)  # the choice survives the swap
    page.fill("#asset-q", "dama")
    # The search leaves DAMAI, plus the cable already chosen, which is never dropped.
    expect(page.locator("#id_asset option")).to_have_count(3)
    assert page.locator("#id_asset option").all_inner_texts()[1:] == [
        "SeaMeWe-5",
        "DAMAI Cable System · 0.4 km",
    ]
    page.fill("#asset-q", "")
    expect(page.locator("#id_asset option", has_text="SeaMeWe-5")).to_have_count(1)
    page.select_option("#id_asset", str(smw5.pk))

    # Dropdowns are as wide as the form, not cut to a grid cell.
    for field in ("#id_severity", "#id_distribution", "#id_asset"):
        box = page.locator(field).bounding_box()
        assert box is not None
        assert box["width"] > 400, field

    # The TLP rule is on the page before submit.
    expect(page.locator("#id_distribution-help")).to_contain_text("TLP:RED allows at most")
    page.fill("#id_title", "Fibre-pair fault, SeaMeWe-5 off Port Dickson")
    page.select_option("#id_incident_type", "fault")
    page.select_option("#id_distribution", "asean")
    page.select_option("#id_tlp", "red")
    shot(page, "report-form", "main")
    page.click("button:has-text('File report')")
    # ...and the server says the same when it is broken anyway; nothing is filed.
    expect(page.locator(".cui-field.has-error")).to_contain_text("TLP:RED allows at most")
    assert not Incident.objects.exists()
    assert page.input_value("#id_asset") == str(smw5.pk)
    page.select_option("#id_tlp", "green")
    page.click("button:has-text('File report')")

    # The incident page: SeaMeWe-5 alone is affected, DAMAI only nearby.
    expect(page.locator("#affected-assets")).to_contain_text("SeaMeWe-5")
    expect(page.locator("#affected-assets")).not_to_contain_text("DAMAI")
    expect(page.locator("#affected-basis")).to_contain_text("the asset named in the report")
    expect(page.locator("#affected-states")).to_have_text(", ".join(sorted(smw5.states)))
    page.locator("#nearby-assets summary").click()
    expect(page.locator("#nearby-assets")).to_contain_text("DAMAI Cable System")
    shot(page, "impact", "#impact-h >> xpath=..")

    # The status control proposes the next step forward and labels its note box.
    assert page.input_value("#id_status") == "confirmed"
    page.get_by_label("Note for the timeline (optional)").fill("Fault located by OTDR.")
    shot(page, "timeline", "#timeline-h >> xpath=..")
    page.click("button:has-text('Change status')")
    expect(page.locator(".cui-timeline")).to_contain_text("Fault located by OTDR.")
    inc = Incident.objects.get()
    assert inc.status == "confirmed"
    assert list(inc.affected_assets.values_list("name", flat=True)) == ["SeaMeWe-5"]
