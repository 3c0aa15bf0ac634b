"""The one map component in a real browser: another state's hostile incident title is shown as
text in popups on the common map and the module map; filters, legend and the mini map work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mufakat.core.choices import TLP, Distribution
from mufakat.cui import services
from mufakat.cui.models import Incident, IncidentType, Severity

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<img src=x onerror=alert(1)> <a href="https://evil.example/">x</a>'
LAT, LON = 6.5, 109.5  # open sea, inside both maps' first view and clear of the side panel
SHOTS = os.environ.get("MUFAKAT_SCREENSHOTS")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.wait_for_timeout(400)  # let Leaflet's fade-in of a popup finish
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture
def hostile(assets: None, people: dict[str, Any]) -> Incident:
    """Filed by Singapore for all ASEAN states: a Vietnamese analyst sees it on every map."""
    return services.report_incident(
        people["sg_reporter"],
        services.IncidentInput(
            title=HOSTILE,
            incident_type=IncidentType.ANCHOR,
            severity=Severity.CRITICAL,
            lat=LAT,
            lon=LON,
            impact_radius_km=20,
            distribution=Distribution.ASEAN,
            tlp=TLP.GREEN,
        ),
        alert=False,
    )


def log_in(page: Page, live_server: Any, username: str) -> list[str]:
    """Logs in; returns the list that collects every dialog the page opens (alert, confirm)."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "cui-test-password-1")
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", level=1)).to_contain_text(username)
    return dialogs


def open_popup_at(page: Page, map_id: str, lat: float, lon: float) -> Any:
    """Clicks the map where (lat, lon) is drawn, as a person would; returns the popup content."""
    page.wait_for_selector(f"#{map_id}[data-ready='1']", timeout=30000)
    x, y = page.evaluate(
        "([id, lat, lon]) => { const p = document.getElementById(id).mufakatMap"
        ".latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [map_id, lat, lon],
    )
    box = page.locator(f"#{map_id}").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    popup = page.locator(f"#{map_id} .leaflet-popup-content")
    expect(popup).to_be_visible()
    return popup


def drawn(page: Page, map_id: str) -> list[dict[str, Any]]:
    """The options Leaflet draws each feature with (after L.geoJSON's own restyling)."""
    found: list[dict[str, Any]] = page.evaluate(
        "(id) => { const out = []; document.getElementById(id).mufakatMap.eachLayer((l) => {"
        " if (l.feature && l.feature.geometry.type === 'Point') out.push({ref: l.feature.properties"
        ".reference, circle: l instanceof L.Circle, radius: l.getRadius(), fill: l.options.fillColor,"
        " fillOpacity: l.options.fillOpacity, stroke: l.options.color}); }); return out; }",
        map_id,
    )
    return found


def assert_popup_is_text(page: Page, popup: Any, incident: Incident) -> None:
    expect(popup).to_contain_text(HOSTILE)  # the markup, shown literally
    assert popup.locator("img").count() == 0
    links = popup.locator("a")
    assert links.count() == 1  # the reference, linking to the incident page on this site
    assert links.first.get_attribute("href") == f"/cui/incidents/{incident.pk}/"
    expect(links.first).to_have_text(incident.reference)
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='https://evil.example']").count() == 0


def test_hostile_title_is_text_on_the_common_and_module_maps(
    page: Page, live_server: Any, hostile: Incident, people: dict[str, Any]
) -> None:
    dialogs = log_in(page, live_server, "t-vn-an")

    page.goto(f"{live_server.url}/map/")
    popup = open_popup_at(page, "map", LAT, LON)
    assert_popup_is_text(page, popup, hostile)
    # cui's pipelines are on the common map too, with the module map's legend.
    panel = page.locator("#map-panel")
    expect(panel.get_by_label("Pipelines", exact=True)).to_be_checked()
    expect(panel).to_contain_text("Gas pipeline")
    expect(panel).to_contain_text("Severity 4")
    expect(page.locator("#map")).to_have_attribute("data-shown-cui-incidents", "1")
    shot(page, "common-map-popup")

    page.goto(f"{live_server.url}/cui/")
    popup = open_popup_at(page, "cui-map", LAT, LON)
    assert_popup_is_text(page, popup, hostile)
    shot(page, "cui-map-popup")
    # Severity 4: the declared colour, outline and ramp radius (8 px at 1 to 14 px at 4).
    marker = {"ref": hostile.reference, "circle": False, "radius": 14, "fill": "#b42318"}
    marker |= {"fillOpacity": 0.9, "stroke": "#111111"}
    assert [m for m in drawn(page, "cui-map") if m["ref"] == hostile.reference] == [marker]

    # Opening the incident page draws its mini map from the same component.
    popup.get_by_role("link", name=hostile.reference).click()
    expect(page.locator("#cui-mini")).to_have_attribute("data-ready", "1", timeout=30000)
    expect(page.locator("#cui-mini")).to_have_attribute("data-shown-incident", "1")
    expect(page.locator("#cui-mini")).to_have_attribute("data-shown-impact", "1")
    # The impact circle is geographic (20 km), faint; the marker keeps its fixed 8 px.
    mini = sorted(drawn(page, "cui-mini"), key=lambda m: m["radius"])
    assert [(m["circle"], m["radius"], m["fillOpacity"]) for m in mini] == [
        (False, 8, 0.9),
        (True, 20000, 0.08),
    ]
    assert page.locator("img[src='x']").count() == 0
    shot(page, "cui-incident-mini-map")
    assert dialogs == []


def test_module_map_filters_and_language(
    page: Page, live_server: Any, hostile: Incident, people: dict[str, Any]
) -> None:
    log_in(page, live_server, "t-vn-an")
    page.goto(f"{live_server.url}/cui/")
    el = page.locator("#cui-map")
    expect(el).to_have_attribute("data-ready", "1", timeout=30000)
    expect(el).to_have_attribute("data-shown-cui-incidents", "1")
    panel = page.locator("#cui-map-panel")
    panel.get_by_label("Open", exact=True).uncheck()
    expect(el).to_have_attribute("data-shown-cui-incidents", "0")
    panel.get_by_label("Open", exact=True).check()
    panel.get_by_label("Anchor strike", exact=True).uncheck()
    expect(el).to_have_attribute("data-shown-cui-incidents", "0")
    panel.get_by_label("Anchor strike", exact=True).check()
    panel.get_by_label("Minimum severity").select_option("4")
    expect(el).to_have_attribute("data-shown-cui-incidents", "1")
    # Hiding a layer takes its features off the map; the panel folds away.
    panel.get_by_label("Incidents", exact=True).uncheck()
    assert (
        page.evaluate(
            "() => { const m = document.getElementById('cui-map').mufakatMap; let n = 0;"
            " m.eachLayer((l) => { if (l.feature && l.feature.properties.reference) n += 1; });"
            " return n; }"
        )
        == 0
    )
    panel.locator("summary").click()
    expect(panel.get_by_label("Incidents", exact=True)).to_be_hidden()
    shot(page, "cui-map-panel-folded")

    # Landing points are many: clustered (Leaflet.markercluster) until zoomed in.
    page.goto(f"{live_server.url}/map/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=30000)
    expect(page.locator("#map .marker-cluster")).to_have_count(0)
    page.locator("#map-panel").get_by_label("Landing points", exact=True).check()
    clusters = page.locator("#map .marker-cluster")
    expect(clusters.first).to_be_visible()
    counts = [int(t) for t in clusters.all_inner_texts()]
    shown = page.locator("#map").get_attribute("data-shown-cui-landing-points")
    assert len(counts) < sum(counts) <= int(shown or 0)
    shot(page, "common-map-clusters")

    page.locator("#lang-select").select_option("vi")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.goto(f"{live_server.url}/map/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=30000)
    expect(page.locator("#map-panel")).to_contain_text("Hạ tầng dưới biển")
    expect(page.locator("#map-panel").get_by_label("Đường ống", exact=True)).to_be_checked()
    shot(page, "common-map-vi")
    page.goto(f"{live_server.url}/cui/")
    popup = open_popup_at(page, "cui-map", LAT, LON)
    expect(popup).to_contain_text(HOSTILE)
    shot(page, "cui-map-vi")
