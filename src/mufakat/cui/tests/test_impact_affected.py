"""Affected vs nearby with the shipped TeleGeography cables: a fault on one cable in a corridor
of many names that cable alone, everywhere the incident is shown or exported."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mufakat.core.choices import TLP, Distribution
from mufakat.cui import exports, queries, services
from mufakat.cui.filtersets import IncidentFilterSet
from mufakat.cui.impact import ROUTE_ACCURACY_KM, analyse, visible_impact
from mufakat.cui.models import Asset, AssetSource, Incident, IncidentType, Severity

pytestmark = pytest.mark.django_db

# On SeaMeWe-5 in the Malacca Strait off Muar: 15 routes within 50 km, no other within 3 km.
ON_SMW5 = (1.8225, 102.4164)
# Off Port Dickson, where DAMAI runs 0.4 km from SeaMeWe-5: only the named asset tells them apart.
PORT_DICKSON = (2.1712, 101.7)


def smw5() -> Asset:
    return Asset.objects.get(name="SeaMeWe-5")


def test_point_on_one_cable_in_a_corridor_affects_that_cable_alone(assets: None) -> None:
    result = analyse(*ON_SMW5, 50, uncertainty_km=1.0)
    affected = [a["name"] for a in result["assets"] if a["affected"]]
    nearby = [a for a in result["assets"] if not a["affected"]]
    assert affected == ["SeaMeWe-5"]
    assert len(nearby) >= 10
    assert min(a["distance_km"] for a in nearby) > 1.0 + ROUTE_ACCURACY_KM[AssetSource.GEM]
    assert result["basis"] == "position"
    assert result["affected_states"] == sorted(smw5().states)
    # Redundancy: only SeaMeWe-5 is down in each state it serves.
    assert {s: r["affected"] for s, r in result["redundancy"].items()} == dict.fromkeys(
        result["affected_states"], 1
    )
    for r in result["redundancy"].values():
        assert r["remaining"] == r["total"] - 1


def test_uncertainty_widens_the_affected_set(assets: None) -> None:
    tight = analyse(*ON_SMW5, 50, uncertainty_km=0.5)
    loose = analyse(*ON_SMW5, 50, uncertainty_km=20)
    n_tight = sum(a["affected"] for a in tight["assets"])
    n_loose = sum(a["affected"] for a in loose["assets"])
    assert n_tight == 1 < n_loose
    assert set(tight["affected_states"]) < set(loose["affected_states"])
    for a in loose["assets"]:
        assert a["affected"] == (a["distance_km"] <= 20 + a["accuracy_km"])


def test_reported_asset_is_the_affected_set(assets: None) -> None:
    by_position = analyse(*PORT_DICKSON, 50)
    assert {a["name"] for a in by_position["assets"] if a["affected"]} == {
        "SeaMeWe-5",
        "DAMAI Cable System",
    }
    named = analyse(*PORT_DICKSON, 50, asset_id=smw5().pk)
    assert [a["name"] for a in named["assets"] if a["affected"]] == ["SeaMeWe-5"]
    assert named["basis"] == "reported_asset"
    assert named["affected_states"] == sorted(smw5().states)
    assert "DAMAI Cable System" in {a["name"] for a in named["assets"]}  # still nearby


def test_reported_asset_outside_the_radius_is_still_affected(assets: None) -> None:
    apg = Asset.objects.get(name="Asia Pacific Gateway (APG)")
    result = analyse(*ON_SMW5, 5, asset_id=apg.pk)
    [entry] = [a for a in result["assets"] if a["affected"]]
    assert entry["id"] == apg.pk
    assert entry["distance_km"] > 5
    assert result["affected_states"] == sorted(apg.states)


def test_impact_stored_before_the_split_counts_as_affected() -> None:
    old = {"assets": [{"id": 1, "name": "x", "kind": "cable", "distance_km": 9.0, "segment_id": 3}]}
    assert [a["id"] for a in visible_impact(old, None)["assets"]] == [1]
    from mufakat.cui.impact import affected_entries, nearby_entries

    assert affected_entries(old) == old["assets"]
    assert nearby_entries(old) == []


@pytest.fixture
def port_dickson(assets: None, people: dict[str, Any]) -> Incident:
    """MY-area fault on SeaMeWe-5 (named), reported by SG, shared with ASEAN."""
    lat, lon = PORT_DICKSON
    return services.report_incident(
        people["sg_reporter"],
        services.IncidentInput(
            title="Fibre-pair fault, SeaMeWe-5 off Port Dickson",
            incident_type=IncidentType.FAULT,
            severity=Severity.MODERATE,
            lat=lat,
            lon=lon,
            asset_id=smw5().pk,
            distribution=Distribution.ASEAN,
            tlp=TLP.GREEN,
        ),
    )


def test_incident_stores_and_shows_the_affected_set(
    port_dickson: Incident, people: dict[str, Any]
) -> None:
    inc = port_dickson
    assert inc.affected_states == sorted(smw5().states)
    assert list(inc.affected_assets.values_list("name", flat=True)) == ["SeaMeWe-5"]
    c = Client()
    c.force_login(people["vn_analyst"])
    page = c.get(reverse("cui:incident", args=[inc.pk])).content.decode()
    affected_table = page.split('id="affected-assets"')[1].split("</table>")[0]
    nearby_block = page.split('id="nearby-assets"')[1].split("</details>")[0]
    assert "SeaMeWe-5" in affected_table
    assert "DAMAI Cable System" not in affected_table
    assert "DAMAI Cable System" in nearby_block
    assert "the asset named in the report" in page
    # The asset page's incident history and the filter by asset follow the affected set.
    damai = Asset.objects.get(name="DAMAI Cable System")
    f = IncidentFilterSet(
        {"asset_id": str(damai.pk)},
        queries.incidents(people["vn_analyst"]),
        user=people["vn_analyst"],
    )
    assert f.is_valid()
    assert not f.qs.exists()
    # Dashboard: served-by-affected-cable counts come from the same states.
    dash = queries.dashboard(people["vn_analyst"])
    served = {code for code, _n, _r, s in dash["by_state"] if s}
    assert served == {"ID", "MM", "MY", "SG"} & set(inc.affected_states)


def test_exports_carry_the_affected_set_only(
    port_dickson: Incident, people: dict[str, Any]
) -> None:
    inc = port_dickson
    user = people["sg_reporter"]
    bundle = json.loads(exports.render("stix", [inc], user))
    infra = [o for o in bundle["objects"] if o["type"] == "infrastructure"]
    assert [o["name"] for o in infra] == ["SeaMeWe-5"]
    misp = exports.misp_json([inc])["Event"]
    states = sorted(
        a["value"].removeprefix("affected-state:")
        for a in misp["Attribute"]
        if a["value"].startswith("affected-state:")
    )
    assert states == inc.affected_states
    feature = exports.geojson([inc])["features"][0]
    assert feature["properties"]["affected_states"] == inc.affected_states
    api = Client()
    api.force_login(user)
    body = api.get(f"/api/cui/incidents/{inc.pk}").json()
    assert [a["name"] for a in body["impact"]["assets"] if a["affected"]] == ["SeaMeWe-5"]
    assert body["impact"]["basis"] == "reported_asset"
