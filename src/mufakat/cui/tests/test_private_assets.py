"""Uploaded routes are private to the uploading organisation, through every path.

A Singapore analyst uploads a cable route near the Singapore Strait through the web form. A
Vietnamese analyst and a Malaysian focal point must not learn of it anywhere (pages, search, map,
API, redundancy, incident impact, exports, alerts, forms); Singapore's own users see it
everywhere. Public reference assets (the operator's imports) stay visible to all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mufakat.core.choices import TLP, Distribution
from mufakat.core.models import Notification, Subscription
from mufakat.cui import services
from mufakat.cui.models import Asset, AssetSource, Incident, IncidentType, Severity

pytestmark = pytest.mark.django_db

NAME = "Aardvark Strait Link"  # sorts onto the first page of every asset list
# Served by the private route only: no public cable near the Strait lands in Cambodia or Laos.
ONLY_PRIVATE = {"KH", "LA"}
ROUTE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": NAME, "kind": "cable", "states": ["SG", "KH", "LA"]},
            # From off Singapore (~17 km from the Strait position) south-west to open water
            # ~30 km from any public route.
            "geometry": {
                "type": "LineString",
                "coordinates": [[103.85, 1.22], [103.6, 0.9], [103.35, 0.5]],
            },
        }
    ],
}
STRAIT = {"lat": 1.2, "lon": 104.0}
REMOTE = {"lat": 0.5, "lon": 103.35}  # on the private route, far from every public one
OUTSIDERS = ("vn_analyst", "my_focal")


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def report(user: Any, **kw: Any) -> Incident:
    data: dict[str, Any] = {
        "title": "Anchor drag reported near the Strait",
        "incident_type": IncidentType.ANCHOR,
        "severity": Severity.SERIOUS,
        "impact_radius_km": 30,
        "distribution": Distribution.ASEAN,
        "tlp": TLP.GREEN,
        **STRAIT,
    }
    data.update(kw)
    return services.report_incident(user, services.IncidentInput(**data))


@pytest.fixture
def route(assets: None, people: dict[str, Any]) -> Asset:
    """The SG analyst's upload, through the web form."""
    resp = client_for(people["sg_reporter"]).post(
        reverse("cui:upload"),
        {
            "kind": "assets",
            "file": SimpleUploadedFile("routes.geojson", json.dumps(ROUTE).encode()),
        },
        follow=True,  # to the import job's page, which shows its report
    )
    assert resp.status_code == 200, resp.content
    a = Asset.objects.get(name=NAME)
    assert a.owner_org is not None
    assert a.owner_org.code == "SG"
    return a


def test_upload_page_and_result_say_routes_stay_private(
    route: Asset, people: dict[str, Any]
) -> None:
    c = client_for(people["sg_reporter"])
    page = c.get(reverse("cui:upload")).content.decode()
    assert "Uploaded routes are visible to your own organisation only" in page
    again = c.post(
        reverse("cui:upload"),
        {
            "kind": "assets",
            "file": SimpleUploadedFile("routes.geojson", json.dumps(ROUTE).encode()),
        },
        follow=True,  # to the import job's page, which shows its report
    )
    assert "1 unchanged. Visible to your organisation only." in again.content.decode()
    detail = c.get(reverse("cui:asset", args=[route.pk])).content.decode()
    assert "visible to your own organisation only" in detail
    spec = c.get("/api/openapi.json").json()
    assert "visible to that organisation only" in json.dumps(spec["paths"]["/api/cui/assets"])


@pytest.fixture
def strait_incident(route: Asset, people: dict[str, Any], focal_point: Any) -> Incident:
    """SG incident in the Strait, shared with all ASEAN (TLP:GREEN); the route is within 30 km.
    The position is known to 20 km only, so the private route (~17 km off) is among the
    affected assets, not merely nearby: every path below must still keep it out."""
    for code in ONLY_PRIVATE:
        focal_point(code)
    return report(people["sg_reporter"], uncertainty_km=20)


# Each path returns what a client gets back for the private route: (status, text).
def _get(c: Client, url: str, **headers: str) -> tuple[int, str]:
    resp = c.get(url, headers=headers)
    return resp.status_code, resp.content.decode()


def _apg(route: Asset) -> int:
    return Asset.objects.get(name="Asia Pacific Gateway (APG)").pk


PATHS: dict[str, Callable[[Client, Asset, Incident], tuple[int, str]]] = {
    "asset list": lambda c, a, i: _get(c, reverse("cui:assets")),
    "asset list, cables": lambda c, a, i: _get(c, reverse("cui:assets") + "?kind=cable"),
    "asset search": lambda c, a, i: _get(c, reverse("cui:assets") + "?q=aardvark"),
    "asset search (HTMX)": lambda c, a, i: _get(
        c, reverse("cui:assets") + "?q=Strait", **{"HX-Request": "true"}
    ),
    "map cables layer": lambda c, a, i: _get(c, reverse("cui:cables_geojson")),
    "API asset list": lambda c, a, i: _get(c, "/api/cui/assets"),
    "API asset search": lambda c, a, i: _get(c, "/api/cui/assets?q=Aardvark"),
    "redundancy of a public cable": lambda c, a, i: _get(c, reverse("cui:asset", args=[_apg(a)])),
    "incident page": lambda c, a, i: _get(c, reverse("cui:incident", args=[i.pk])),
    "API incident detail": lambda c, a, i: _get(c, f"/api/cui/incidents/{i.pk}"),
    "API incident list": lambda c, a, i: _get(c, "/api/cui/incidents"),
    "API what-if impact": lambda c, a, i: _get(c, "/api/cui/impact?lat=1.2&lon=104&radius_km=30"),
    "report form choices": lambda c, a, i: _get(c, reverse("cui:incident_new")),
    "subscription form choices": lambda c, a, i: _get(c, reverse("cui:subscriptions")),
}

INCIDENT_PATHS = {"API incident detail", "API incident list", "API what-if impact"}
# List items carry no impact (the detail does): the owner sees the incident there, and no path
# may name the private route to anyone else.
NO_ASSET_NAMES = {"API incident list"}


@pytest.mark.parametrize("path", list(PATHS))
def test_route_shows_to_its_organisation_only(
    path: str, route: Asset, strait_incident: Incident, people: dict[str, Any]
) -> None:
    fetch = PATHS[path]
    for owner in ("sg_reporter", "sg_focal"):
        status, text = fetch(client_for(people[owner]), route, strait_incident)
        assert status == 200, (owner, text[:300])
        if path in NO_ASSET_NAMES:
            assert f'"id": {strait_incident.pk},' in text, owner
        else:
            assert NAME in text, owner
    for outsider in OUTSIDERS:
        status, text = fetch(client_for(people[outsider]), route, strait_incident)
        assert status == 200, (outsider, text[:300])
        assert NAME not in text, outsider
        # The incident's own id may equal the route's (PostgreSQL's sequences make that likely):
        # leave the incident object's id out, then no other object may carry the route's id.
        others = text.replace(f'"id": {strait_incident.pk}, "reference"', '"reference"')
        assert f'"id": {route.pk},' not in others, outsider
        if path in INCIDENT_PATHS:  # nor the states only the private route serves
            for code in ONLY_PRIVATE:
                assert f'"{code}"' not in text, (outsider, code)


@pytest.mark.parametrize(
    "url",
    [lambda pk: reverse("cui:asset", args=[pk]), lambda pk: f"/api/cui/assets/{pk}"],
    ids=["asset page", "API asset detail"],
)
def test_detail_is_404_like_a_missing_asset(
    url: Callable[[int], str], route: Asset, people: dict[str, Any]
) -> None:
    page = client_for(people["sg_reporter"]).get(url(route.pk))
    assert page.status_code == 200
    assert NAME in page.content.decode()
    for outsider in OUTSIDERS:
        c = client_for(people[outsider])
        forbidden, missing = c.get(url(route.pk)), c.get(url(99999999))
        assert forbidden.status_code == missing.status_code == 404
        assert NAME not in forbidden.content.decode()


def test_exports_carry_no_private_route(strait_incident: Incident, people: dict[str, Any]) -> None:
    inc = strait_incident
    urls = [
        *(reverse("cui:incident_export", args=[inc.pk, f]) for f in ("stix", "misp", "geojson")),
        *(f"/api/cui/incidents/{inc.pk}/export/{f}" for f in ("stix", "misp", "geojson", "kml")),
        *(reverse("cui:incidents_export", args=[f]) for f in ("stix", "misp", "geojson", "kml")),
        reverse("cui:incident_export", args=[inc.pk, "kml"]),
        reverse("cui:incidents_geojson"),
    ]
    sg = client_for(people["sg_reporter"])
    stix = sg.get(f"/api/cui/incidents/{inc.pk}/export/stix").content.decode()
    assert NAME in stix  # the owner's own export lists its own route
    for outsider in OUTSIDERS:
        c = client_for(people[outsider])
        for url in urls:
            resp = c.get(url)
            assert resp.status_code == 200, (outsider, url)
            body = resp.content.decode()
            assert inc.reference in body or inc.title in body, (outsider, url)
            assert NAME not in body, (outsider, url)
            for code in ONLY_PRIVATE:
                assert f'"{code}"' not in body, url
                assert f"affected-state:{code}" not in body, url


def test_private_route_adds_no_states_and_alerts_no_other_state(
    route: Asset, people: dict[str, Any], focal_point: Any
) -> None:
    for code in ONLY_PRIVATE:
        focal_point(code)
    inc = report(people["sg_reporter"], impact_radius_km=5, **REMOTE)
    # SG itself sees its route in the impact list...
    assert [a["id"] for a in inc.impact["assets"]] == [route.pk]
    sg_page = client_for(people["sg_reporter"]).get(reverse("cui:incident", args=[inc.pk]))
    assert NAME in sg_page.content.decode()
    # ...but the route serves no state for the alert fan-out, and counts for nobody else.
    assert inc.affected_states == []
    assert inc.impact["redundancy"] == {}
    alerted = set(
        Notification.objects.filter(object_id=str(inc.pk)).values_list(
            "recipient__membership__organisation__code", flat=True
        )
    )
    assert alerted == {"SG"}
    body = Notification.objects.filter(object_id=str(inc.pk)).values_list("body", flat=True)[0]
    assert "Assets within 5 km: 0." in body
    assert "KH" not in body
    assert "LA" not in body
    my_page = client_for(people["my_focal"]).get(reverse("cui:incident", args=[inc.pk]))
    assert my_page.status_code == 200
    assert NAME not in my_page.content.decode()
    assert "No known asset within the radius." in my_page.content.decode()


def test_strait_incident_alerts_served_states_from_public_cables_only(
    strait_incident: Incident, people: dict[str, Any]
) -> None:
    inc = strait_incident
    assert route_in(inc)
    assert {"SG", "MY", "ID"} <= set(inc.affected_states)
    assert not ONLY_PRIVATE & set(inc.affected_states)
    alerted = set(
        Notification.objects.filter(object_id=str(inc.pk)).values_list(
            "recipient__username", flat=True
        )
    )
    assert {"t-sg-fp", "t-my-fp"} <= alerted
    assert not {"t-kh-fp", "t-la-fp"} & alerted
    # The redundancy table counts public cables only: the private one is no "remaining" cable.
    sg = inc.impact["redundancy"]["SG"]
    public_sg = Asset.objects.filter(
        kind="cable", owner_org__isnull=True, states__icontains='"SG"'
    ).count()
    assert sg["total"] == public_sg


def route_in(inc: Incident) -> bool:
    return any(a["name"] == NAME and a["affected"] for a in inc.impact["assets"])


def test_outsiders_cannot_report_on_or_subscribe_to_it(
    route: Asset, people: dict[str, Any]
) -> None:
    segment = route.segments.order_by("seq").first()
    assert segment is not None
    for outsider in OUTSIDERS:
        user = people[outsider]
        with pytest.raises(ValidationError, match=f"Unknown asset id {route.pk}"):
            report(user, lat=None, lon=None, asset_id=route.pk)
        with pytest.raises(ValidationError, match=f"Unknown segment id {segment.pk}"):
            report(user, lat=None, lon=None, segment_id=segment.pk)
        c = client_for(user)
        api = c.post(
            "/api/cui/incidents",
            {"title": "Fault", "asset_id": route.pk},
            content_type="application/json",
        )
        assert api.status_code == 422
        assert "Unknown asset id" in api.content.decode()
        form = c.post(
            reverse("cui:incident_new"),
            {
                "title": "Fault on the link",
                "incident_type": "fault",
                "occurred_at": "2026-01-02T03:04",
                "asset": route.pk,
                "uncertainty_km": "1",
                "severity": "2",
                "impact_radius_km": "20",
                "distribution": "org",
                "tlp": "amber",
            },
        )
        assert form.status_code == 422
        assert "Select a valid choice" in form.content.decode()
        with pytest.raises(ValidationError, match="Unknown asset id"):
            services.subscribe(user, kind="asset", asset_id=route.pk)
        sub = c.post(reverse("cui:subscriptions"), {"kind": "asset", "asset": route.pk})
        assert sub.status_code == 422
    assert not Incident.objects.exists()
    assert not Subscription.objects.exists()
    # Its own organisation can do both.
    sg = people["sg_reporter"]
    inc = report(sg, lat=None, lon=None, segment_id=segment.pk, distribution=Distribution.ASEAN)
    assert inc.asset == route
    services.subscribe(sg, kind="asset", asset_id=route.pk)


def test_incident_on_the_route_hides_the_route_from_others(
    route: Asset, people: dict[str, Any]
) -> None:
    inc = report(people["sg_reporter"], lat=None, lon=None, asset_id=route.pk)
    assert inc.asset == route
    sg = client_for(people["sg_reporter"])
    assert sg.get(f"/api/cui/incidents/{inc.pk}").json()["asset_id"] == route.pk
    assert NAME in sg.get(reverse("cui:incident", args=[inc.pk])).content.decode()
    for outsider in OUTSIDERS:
        c = client_for(people[outsider])
        assert c.get(f"/api/cui/incidents/{inc.pk}").json()["asset_id"] is None
        page = c.get(reverse("cui:incident", args=[inc.pk])).content.decode()
        assert NAME not in page
        assert f"/cui/assets/{route.pk}/" not in page


def test_filter_by_asset_needs_a_visible_asset(
    strait_incident: Incident, route: Asset, people: dict[str, Any]
) -> None:
    from mufakat.cui import queries
    from mufakat.cui.filtersets import IncidentFilterSet

    def by_route(user: Any) -> IncidentFilterSet:
        return IncidentFilterSet({"asset_id": route.pk}, queries.incidents(user), user=user)

    sg = people["sg_reporter"]
    assert list(by_route(sg).qs) == [strait_incident]
    missing = IncidentFilterSet({"asset_id": 10**9}, queries.incidents(sg), user=sg)
    for outsider in OUTSIDERS:
        user = people[outsider]
        assert queries.incidents(user).filter(pk=strait_incident.pk).exists()
        assert not by_route(user).qs.exists()
        # Another organisation's upload is refused exactly like an id that does not exist.
        assert by_route(user).errors["asset_id"] == [
            m.replace(str(10**9), str(route.pk)) for m in missing.errors["asset_id"]
        ]


def test_subscription_alerts_only_while_the_asset_is_visible(
    route: Asset, people: dict[str, Any]
) -> None:
    """A subscription to another state's route (left from before uploads were private) is
    neither listed nor alerted; the owner state's subscriber is alerted."""
    Subscription.objects.create(user=people["vn_analyst"], kind="asset", target_id=str(route.pk))
    services.subscribe(people["sg_reporter"], kind="asset", asset_id=route.pk)
    inc = report(people["sg_reporter"], impact_radius_km=5, **REMOTE)
    alerted = set(
        Notification.objects.filter(object_id=str(inc.pk)).values_list(
            "recipient__username", flat=True
        )
    )
    assert "t-sg-rep" in alerted
    assert "t-vn-an" not in alerted
    page = client_for(people["vn_analyst"]).get(reverse("cui:subscriptions")).content.decode()
    assert NAME not in page


def test_impact_stored_before_the_fix_is_filtered_too(
    strait_incident: Incident, route: Asset, people: dict[str, Any]
) -> None:
    """An impact without `private_to` (analysed by an older version) is checked against the
    asset table, so it does not leak either."""
    inc = strait_incident
    legacy = {**inc.impact, "assets": [{**a} for a in inc.impact["assets"]]}
    for a in legacy["assets"]:
        a.pop("private_to", None)
    legacy["assets"].append(
        {"id": route.pk, "name": NAME, "kind": "cable", "distance_km": 1.0, "segment_id": 0}
    )
    Incident.objects.filter(pk=inc.pk).update(impact=legacy)
    inc.affected_assets.add(route)
    for outsider in OUTSIDERS:
        c = client_for(people[outsider])
        assert NAME not in c.get(reverse("cui:incident", args=[inc.pk])).content.decode()
        assert NAME not in c.get(f"/api/cui/incidents/{inc.pk}").content.decode()
        assert NAME not in c.get(f"/api/cui/incidents/{inc.pk}/export/stix").content.decode()
    assert NAME in (
        client_for(people["sg_reporter"])
        .get(reverse("cui:incident", args=[inc.pk]))
        .content.decode()
    )


def test_public_reference_assets_stay_visible_to_all(route: Asset, people: dict[str, Any]) -> None:
    """The operator's imports carry no uploader: every signed-in user sees all of them."""
    public = Asset.objects.filter(owner_org__isnull=True)
    assert set(public.values_list("source", flat=True)) == {
        AssetSource.TELEGEOGRAPHY,
        AssetSource.GEM,
    }
    assert public.count() == 95 + 229
    for who in ("vn_analyst", "my_focal", "sg_reporter", "au_analyst", "vn_viewer"):
        data = client_for(people[who]).get("/api/cui/assets?limit=500").json()
        mine = 1 if who.startswith("sg") else 0
        assert data["count"] == 95 + 229 + mine, who
