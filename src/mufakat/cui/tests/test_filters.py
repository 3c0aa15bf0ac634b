"""One filter definition (cui.filtersets) behind the incident list page, the API and the CLI.

The same filter values give the same incidents through all three; a bad value or an unknown
parameter is a 422 naming it; an asset or sharing group the reader may not see is refused
exactly like one that does not exist."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect
from typer.testing import CliRunner

from mufakat.core.choices import TLP, Distribution
from mufakat.core.models import Organisation
from mufakat.core.sharing import services as core_services
from mufakat.cui.cli import app as cui_cli
from mufakat.cui.models import (
    Asset,
    AssetKind,
    AssetSource,
    Incident,
    IncidentType,
    Severity,
    Status,
)

pytestmark = pytest.mark.django_db

ROUTE = {"type": "LineString", "coordinates": [[103.9, 1.2], [104.2, 1.3]]}


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def world(people: dict[str, Any]) -> dict[str, Any]:
    """Public cable, an SG-private upload, an SG-owned sharing group with MY, and SG incidents
    that differ in every filtered field, shared with all ASEAN (TLP:GREEN)."""
    sg = Organisation.objects.get(code="SG")
    public = Asset.objects.create(
        kind=AssetKind.CABLE,
        source=AssetSource.TELEGEOGRAPHY,
        external_id="t-public",
        name="Public Test Cable",
        geometry=ROUTE,
        states=["SG", "ID"],
    )
    private = Asset.objects.create(
        kind=AssetKind.CABLE,
        source=AssetSource.UPLOAD,
        external_id="t-private",
        name="Private Test Cable",
        geometry=ROUTE,
        states=["SG", "KH"],
        owner_org=sg,
    )
    group = core_services.create_sharing_group(
        people["sg_focal"], name="Straits test", members=Organisation.objects.filter(code="MY")
    )

    def incident(title: str, **kw: Any) -> Incident:
        fields: dict[str, Any] = {
            "owner_org": sg,
            "created_by": people["sg_reporter"],
            "title": title,
            "occurred_at": datetime(2026, 3, 10, 8, 0, tzinfo=UTC),
            "lat": 1.25,
            "lon": 104.0,
            "distribution": Distribution.ASEAN,
            "tlp": TLP.GREEN,
            "affected_states": ["SG", "ID"],
            **kw,
        }
        return Incident.objects.create(**fields)

    incs = {
        "anchor": incident(
            "Anchor drag off Batam",
            incident_type=IncidentType.ANCHOR,
            severity=Severity.SERIOUS,
            asset=public,
        ),
        "fault": incident(
            "Shunt fault",
            incident_type=IncidentType.FAULT,
            severity=Severity.LOW,
            status=Status.CONFIRMED,
            occurred_at=datetime(2026, 1, 5, 3, 0, tzinfo=UTC),
            affected_states=["SG", "KH"],
        ),
        "private": incident(
            "Fault on our own route",
            incident_type=IncidentType.FAULT,
            severity=Severity.SERIOUS,
            asset=private,
            occurred_at=datetime(2026, 4, 1, 3, 0, tzinfo=UTC),
        ),
        "group": incident(
            "Group-only fishing gear",
            incident_type=IncidentType.FISHING,
            severity=Severity.MODERATE,
            distribution=Distribution.GROUP,
            tlp=TLP.AMBER,
            sharing_group=group,
        ),
    }
    incs["fault"].affected_assets.add(public)
    return {"public": public, "private": private, "group": group, "incidents": incs}


def ui_ids(user: Any, params: dict[str, Any]) -> set[int]:
    resp = client_for(user).get(
        reverse("cui:incidents"), {**params, "size": 200}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 200
    return {int(pk) for pk in re.findall(r'data-pk="(\d+)"', resp.content.decode())}


def api_ids(user: Any, params: dict[str, Any]) -> set[int]:
    resp = client_for(user).get("/api/cui/incidents", {**params, "limit": 200})
    assert resp.status_code == 200, resp.content
    return {i["id"] for i in resp.json()["items"]}


def cli_ids(user: Any, params: dict[str, Any]) -> set[int]:
    args = ["incidents", "--user", user.username, "--json", "--limit", "200"]
    for key, value in params.items():
        for v in value if isinstance(value, list) else [value]:
            args += ["--filter", f"{key}={v}"]
    r = CliRunner().invoke(cui_cli, args)
    assert r.exit_code == 0, r.output
    return {row["id"] for row in json.loads(r.stdout)}


CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "no filter": ({}, {"anchor", "fault", "private", "group"}),
    "text": ({"q": "fault"}, {"fault", "private"}),
    "type": ({"incident_type": "fault"}, {"fault", "private"}),
    "severity": ({"severity": "3"}, {"anchor", "private"}),
    "status": ({"status": "confirmed"}, {"fault"}),
    "state served": ({"state": "kh"}, {"fault"}),
    "owner": ({"owner": "sg"}, {"anchor", "fault", "private", "group"}),
    "dates": ({"since": "2026-02-01", "until": "2026-03-31"}, {"anchor", "group"}),
    "asset id: reported on or affected": ({"asset_id": "PUBLIC"}, {"anchor", "fault"}),
    "asset name": ({"asset": "Public Test Cable"}, {"anchor", "fault"}),
    "combined": ({"incident_type": "fault", "severity": "1"}, {"fault"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_filters_same_incidents_through_page_api_and_cli(
    case: str, world: dict[str, Any], people: dict[str, Any]
) -> None:
    params, expected = CASES[case]
    params = {k: (world["public"].pk if v == "PUBLIC" else v) for k, v in params.items()}
    want = {world["incidents"][name].pk for name in expected}
    reader = people["sg_reporter"]
    assert ui_ids(reader, params) == want
    assert api_ids(reader, params) == want
    assert cli_ids(reader, params) == want


def test_filters_only_narrow_what_the_reader_may_see(
    world: dict[str, Any], people: dict[str, Any]
) -> None:
    incs = world["incidents"]
    vn = people["vn_analyst"]
    visible = {incs[n].pk for n in ("anchor", "fault", "private")}  # not the group's
    for fetch in (ui_ids, api_ids, cli_ids):
        assert fetch(vn, {}) == visible
        assert fetch(vn, {"owner": "SG"}) == visible
    my = people["my_focal"]  # in the group
    assert api_ids(my, {"sharing_group": world["group"].pk}) == {incs["group"].pk}


def test_updated_since_is_a_sync_cursor(world: dict[str, Any], people: dict[str, Any]) -> None:
    incs = world["incidents"]
    Incident.objects.filter(pk=incs["fault"].pk).update(
        updated=datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
    )
    reader = people["sg_reporter"]
    params = {"updated_since": "2029-12-31T23:59:00Z"}
    assert api_ids(reader, params) == {incs["fault"].pk}
    assert cli_ids(reader, params) == {incs["fault"].pk}
    assert ui_ids(reader, params) == {incs["fault"].pk}  # carried as a hidden field


def test_invalid_values_are_a_422_naming_the_field(
    world: dict[str, Any], people: dict[str, Any]
) -> None:
    c = client_for(people["sg_reporter"])
    for params, field in (
        ({"severity": "9"}, "severity"),
        ({"since": "March"}, "since"),
        ({"state": "Singapore"}, "state"),
        ({"asset_id": "x"}, "asset_id"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"owner": "ZZ"}, "owner"),
    ):
        for url in ("/api/cui/incidents", "/api/cui/export/stix"):
            resp = c.get(url, params)
            assert resp.status_code == 422, (url, params, resp.content)
            assert {tuple(e["loc"]) for e in resp.json()["detail"]} == {("query", field)}
    # The page shows the error beside the field and lists nothing rather than everything.
    page = c.get(reverse("cui:incidents"), {"severity": "9"}).content.decode()
    assert "Select a valid choice" in page
    assert "data-pk=" not in page
    r = CliRunner().invoke(cui_cli, ["incidents", "--user", "t-sg-rep", "--filter", "severity=9"])
    assert r.exit_code == 2
    assert "severity:" in r.output


def test_unknown_parameters_are_a_422_but_pagination_is_not(
    world: dict[str, Any], people: dict[str, Any]
) -> None:
    c = client_for(people["sg_reporter"])
    for url in (
        "/api/cui/incidents",
        "/api/cui/assets",
        "/api/core/notifications",
        "/api/core/audit",
        "/api/cui/export/geojson",
    ):
        resp = c.get(url, {"severty": "3"})
        assert resp.status_code == 422, (url, resp.content)
        (error,) = resp.json()["detail"]
        assert error["loc"] == ["query", "severty"]
        assert error["type"] == "unknown_parameter"
    ok = c.get("/api/cui/incidents", {"limit": "1", "offset": "1", "severity": "3"})
    assert ok.status_code == 200
    assert ok.json()["count"] == 2
    assert len(ok.json()["items"]) == 1
    r = CliRunner().invoke(cui_cli, ["incidents", "--user", "t-sg-rep", "--filter", "severty=3"])
    assert r.exit_code == 2
    assert "severty: unknown filter" in r.output


def test_a_forbidden_asset_or_group_answers_like_a_missing_one(
    world: dict[str, Any], people: dict[str, Any]
) -> None:
    private, group = world["private"], world["group"]
    missing_asset = Asset.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]
    missing_group = group.pk + 1000
    vn = client_for(people["vn_analyst"])

    def detail(params: dict[str, Any]) -> Any:
        resp = vn.get("/api/cui/incidents", params)
        assert resp.status_code == 422
        return resp.json()["detail"]

    def same(a: Any, b: Any, forbidden: int, missing: int) -> None:
        assert json.dumps(a).replace(str(forbidden), "N") == json.dumps(b).replace(
            str(missing), "N"
        )

    same(
        detail({"asset_id": private.pk}),
        detail({"asset_id": missing_asset}),
        private.pk,
        missing_asset,
    )
    assert detail({"asset": private.name}) == [
        {**e, "msg": e["msg"].replace("Missing Cable", private.name)}
        for e in detail({"asset": "Missing Cable"})
    ]
    same(
        detail({"sharing_group": group.pk}),
        detail({"sharing_group": missing_group}),
        group.pk,
        missing_group,
    )
    # The owner organisation sees its own upload's incidents.
    assert api_ids(people["sg_reporter"], {"asset_id": private.pk}) == {
        world["incidents"]["private"].pk
    }


def test_reporting_to_a_group_you_are_not_in_errors_like_a_missing_group(
    world: dict[str, Any], people: dict[str, Any]
) -> None:
    """Creating through the API: a VN analyst names the SG group (not VN's) or an unused id."""
    vn = client_for(people["vn_analyst"])
    body = {
        "title": "Cut",
        "lat": 1.2,
        "lon": 104.0,
        "distribution": "group",
        "tlp": "amber",
    }
    answers = []
    for gid in (world["group"].pk, world["group"].pk + 1000):
        resp = vn.post(
            "/api/cui/incidents", {**body, "sharing_group_id": gid}, content_type="application/json"
        )
        answers.append((resp.status_code, resp.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 422
    assert not Incident.objects.filter(title="Cut").exists()


def test_sharing_group_detail_is_404_outside_the_group(
    world: dict[str, Any], people: dict[str, Any]
) -> None:
    group = world["group"]
    my = client_for(people["my_focal"]).get(f"/api/core/sharing-groups/{group.pk}")
    assert my.status_code == 200
    assert my.json()["members"] == ["MY", "SG"]
    vn = client_for(people["vn_analyst"])
    forbidden = vn.get(f"/api/core/sharing-groups/{group.pk}")
    missing = vn.get(f"/api/core/sharing-groups/{group.pk + 1000}")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content


def test_openapi_documents_every_filter(world: dict[str, Any], people: dict[str, Any]) -> None:
    from mufakat.core.filtersets import AuditEntryFilterSet, NotificationFilterSet
    from mufakat.cui.filtersets import AssetFilterSet, IncidentFilterSet

    spec = client_for(people["sg_reporter"]).get("/api/openapi.json").json()
    for path, filterset in (
        ("/api/cui/incidents", IncidentFilterSet),
        ("/api/cui/export/{fmt}", IncidentFilterSet),
        ("/api/cui/assets", AssetFilterSet),
        ("/api/core/notifications", NotificationFilterSet),
        ("/api/core/audit", AuditEntryFilterSet),
    ):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert set(filterset.base_filters) <= set(params), path
        assert "mufakat_filters" not in params
    incidents = {p["name"]: p for p in spec["paths"]["/api/cui/incidents"]["get"]["parameters"]}
    assert {"limit", "offset"} <= set(incidents)
    assert incidents["severity"]["schema"]["enum"] == ["1", "2", "3", "4"]
    assert incidents["since"]["schema"]["format"] == "date"
    assert "ISO 8601" in incidents["updated_since"]["description"]


def test_asset_filters_and_detail_geometry(world: dict[str, Any], people: dict[str, Any]) -> None:
    c = client_for(people["vn_analyst"])
    # Other tests' session may hold the shipped cables too: look at the two test routes only.
    for state, expected in (("id", {"Public Test Cable"}), ("KH", set())):
        items = c.get("/api/cui/assets", {"state": state, "q": "Test Cable"}).json()["items"]
        assert {a["name"] for a in items} == expected
    sg = client_for(people["sg_reporter"])
    items = sg.get("/api/cui/assets", {"state": "KH", "q": "Test Cable"}).json()["items"]
    assert {a["name"] for a in items} == {"Private Test Cable"}
    assert c.get("/api/cui/assets", {"kind": "volcano"}).status_code == 422
    assert c.get("/api/cui/assets", {"source": "upload"}).json()["count"] == 0  # not VN's
    page = c.get(
        reverse("cui:assets"), {"state": "ID", "q": "Test Cable"}, headers={"HX-Request": "true"}
    )
    assert "Public Test Cable" in page.content.decode()
    assert "Private Test Cable" not in page.content.decode()
    detail = c.get(f"/api/cui/assets/{world['public'].pk}").json()
    assert detail["geometry"] == ROUTE
    assert c.get(f"/api/cui/assets/{world['private'].pk}").status_code == 404


def test_core_lists_filter_through_their_filtersets(people: dict[str, Any]) -> None:
    from mufakat.core.models import Notification

    user = people["vn_viewer"]
    Notification.objects.create(recipient=user, title="unread one")
    Notification.objects.create(recipient=user, title="read one", read_at=datetime.now(UTC))
    c = client_for(user)
    assert [
        n["title"] for n in c.get("/api/core/notifications", {"unread": "true"}).json()["items"]
    ] == ["unread one"]
    assert c.get("/api/core/notifications", {"unread": "false"}).json()["count"] == 2
    bad = c.get("/api/core/notifications", {"unread": "maybe"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "unread"]
    admin = get_user_model().objects.get(username="t-sg-fp")
    assert client_for(admin).get("/api/core/audit", {"action": "launch"}).status_code == 422


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_filter_form_swaps_the_table_in_a_browser(
    live_server: Any, page: Any, world: dict[str, Any], people: dict[str, Any]
) -> None:
    """The page's form is IncidentFilterSet's: changing a select swaps the table by HTMX, and a
    hidden filter from the link (asset_id) is kept across swaps."""
    incs = world["incidents"]
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "t-sg-rep")
    page.fill("input[name=password]", "cui-test-password-1")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/cui/incidents/")
    rows = page.locator("#incident-table tbody tr[data-pk]")
    expect(rows).to_have_count(4)
    page.select_option("#id_severity", "3")
    expect(rows).to_have_count(2)  # swapped by HTMX (the CSP forbids evaluated JS waits)
    shown = {int(pk) for pk in rows.evaluate_all("rs => rs.map(r => r.dataset.pk)")}
    assert shown == {incs["anchor"].pk, incs["private"].pk}
    page.goto(f"{live_server.url}/cui/incidents/?asset_id={world['public'].pk}")
    expect(rows).to_have_count(2)  # reported on the cable, or affecting it
    page.select_option("#id_incident_type", "fault")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-pk") == str(incs["fault"].pk)
