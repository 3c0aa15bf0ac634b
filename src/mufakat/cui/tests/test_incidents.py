"""Incidents: reporting, impact, alerts, lifecycle, and who sees what everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stix2
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mufakat.core.choices import TLP, Distribution, RoleSlug
from mufakat.core.models import (
    AuditEntry,
    Delivery,
    Notification,
    Organisation,
    Subscription,
    Webhook,
)
from mufakat.core.sharing.markings import TLP2_MARKINGS
from mufakat.core.sharing.services import create_sharing_group, set_sharing
from mufakat.core.tenancy.demo import ensure_user
from mufakat.cui import queries, services
from mufakat.cui.models import Incident, IncidentType, RepairShip, Severity, Status

pytestmark = pytest.mark.django_db

STRAIT = {"lat": 1.2, "lon": 104.0}


def report(user: Any, **kw: Any) -> Incident:
    data: dict[str, Any] = {
        "title": "Anchor strike, Singapore Strait",
        "incident_type": IncidentType.ANCHOR,
        "severity": Severity.SERIOUS,
        "impact_radius_km": 30,
        **STRAIT,
    }
    data.update(kw)
    return services.report_incident(user, services.IncidentInput(**data))


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def group_only(assets: None, people: dict[str, Any]) -> Incident:
    """SG → sharing group {SG, MY, ID}: TLP:AMBER. VN and PH are outside."""
    group = create_sharing_group(
        people["sg_reporter"],
        name="Straits watch",
        members=Organisation.objects.filter(code__in=["MY", "ID"]),
    )
    return report(
        people["sg_reporter"], distribution=Distribution.GROUP, tlp=TLP.AMBER, sharing_group=group
    )


def test_report_computes_impact_and_updates(group_only: Incident) -> None:
    inc = group_only
    assert inc.owner_org.code == "SG"
    assert {"SG", "MY", "ID"} <= set(inc.affected_states)
    affected = [a["id"] for a in inc.impact["assets"] if a["affected"]]
    assert sorted(inc.affected_assets.values_list("pk", flat=True)) == sorted(affected)
    assert 5 < len(affected) < len(inc.impact["assets"])
    assert inc.updates.get().status_to == Status.REPORTED


def test_alerts_reach_focal_points_inside_distribution_only(
    group_only: Incident, people: dict[str, Any]
) -> None:
    got = set(
        Notification.objects.filter(object_id=str(group_only.pk)).values_list(
            "recipient__username", flat=True
        )
    )
    assert {"t-sg-fp", "t-my-fp", "t-id-fp"} <= got
    # PH is served by cables in the radius? Either way it is outside the group: nothing.
    assert "t-ph-fp" not in got


def test_named_distribution_alerts_named_state(assets: None, people: dict[str, Any]) -> None:
    ph = Organisation.objects.get(code="PH")
    inc = report(
        people["sg_reporter"],
        lat=14.0,
        lon=120.3,
        uncertainty_km=10,  # EAC-C2C (PH) lies 8 km off
        distribution=Distribution.NAMED,
        tlp=TLP.AMBER,
        shared_with=[ph],
    )
    got = set(
        Notification.objects.filter(object_id=str(inc.pk)).values_list(
            "recipient__username", flat=True
        )
    )
    assert "t-ph-fp" in got
    assert "t-my-fp" not in got


def _alerted(inc: Incident) -> list[str]:
    return sorted(
        Notification.objects.filter(object_id=str(inc.pk)).values_list(
            "recipient__username", flat=True
        )
    )


def test_widening_alerts_the_states_it_now_reaches_once(
    assets: None, people: dict[str, Any], focal_point: Any
) -> None:
    for code in ("LA", "TL", "KH", "VN"):
        focal_point(code)
    inc = report(people["sg_reporter"], distribution=Distribution.ORGANISATION, tlp=TLP.AMBER)
    # MY and ID are served, but outside the audience. Analysts of the states concerned are
    # alerted by default, like focal points (issue 10): here the SG reporter, an analyst.
    assert _alerted(inc) == ["t-sg-fp", "t-sg-rep"]
    hook = Webhook.objects.create(
        organisation=Organisation.objects.get(code="MY"),
        name="MY SOC",
        url="https://soc.my.invalid/hook",
        secret="s",
        run_as=people["my_focal"],
    )
    group = create_sharing_group(
        people["sg_focal"], name="Straits", members=Organisation.objects.filter(code="MY")
    )
    set_sharing(
        people["sg_focal"], inc, distribution=Distribution.GROUP, tlp=TLP.AMBER, sharing_group=group
    )
    assert _alerted(inc) == ["t-my-fp", "t-sg-fp", "t-sg-rep"]
    new = Notification.objects.get(object_id=str(inc.pk), recipient=people["my_focal"])
    assert "shared with you" in new.title
    assert Delivery.objects.filter(channel="webhook", target=str(hook.pk)).count() == 1

    set_sharing(people["sg_focal"], inc, distribution=Distribution.ASEAN, tlp=TLP.GREEN)
    # Every served state's focal points and analysts the incident now reaches (ASEAN: not the
    # AU analyst), each once; unserved states' never.
    focal = {
        u.username: u.membership.organisation.code
        for u in get_user_model()
        .objects.filter(membership__roles__slug__in=[RoleSlug.FOCAL_POINT, RoleSlug.ANALYST])
        .distinct()
        if Incident.objects.restrict(u, "view").filter(pk=inc.pk).exists()
    }
    served = sorted(u for u, code in focal.items() if code in inc.affected_states)
    assert {"t-id-fp", "t-my-fp", "t-sg-fp"} <= set(served) != set(focal)
    assert _alerted(inc) == served
    assert Delivery.objects.filter(channel="webhook", target=str(hook.pk)).count() == 1

    set_sharing(people["sg_focal"], inc, distribution=Distribution.ORGANISATION, tlp=TLP.RED)
    set_sharing(people["sg_focal"], inc, distribution=Distribution.ASEAN, tlp=TLP.GREEN)
    assert _alerted(inc) == served


def test_outsider_sees_nothing_anywhere(group_only: Incident, people: dict[str, Any]) -> None:
    inc = group_only
    vn = client_for(people["vn_analyst"])
    assert vn.get(reverse("cui:incident", args=[inc.pk])).status_code == 404
    assert inc.title not in vn.get(reverse("cui:incidents")).content.decode()
    assert inc.title not in vn.get(reverse("cui:incidents") + "?q=Anchor").content.decode()
    geo = vn.get(reverse("cui:incidents_geojson")).json()
    assert all(f["id"] != inc.pk for f in geo["features"])
    assert vn.get(f"/api/cui/incidents/{inc.pk}").status_code == 404
    assert all(i["id"] != inc.pk for i in vn.get("/api/cui/incidents").json()["items"])
    assert vn.get(f"/api/cui/incidents/{inc.pk}/export/stix").status_code == 404
    bundle = vn.get("/api/cui/export/stix").content.decode()
    assert inc.title not in bundle
    assert vn.get(reverse("cui:incident_export", args=[inc.pk, "geojson"])).status_code == 404
    assert queries.dashboard(people["vn_analyst"])["total"] == 0
    dash = vn.get(reverse("cui:dashboard")).content.decode()
    assert 'id="dash-total">0<' in dash
    asset_page = vn.get(reverse("cui:asset", args=[inc.impact["assets"][0]["id"]])).content.decode()
    assert inc.title not in asset_page
    assert inc.reference not in asset_page
    assert not Notification.objects.filter(recipient=people["vn_analyst"]).exists()


def test_insider_sees_it(group_only: Incident, people: dict[str, Any]) -> None:
    my = client_for(people["my_focal"])
    page = my.get(reverse("cui:incident", args=[group_only.pk]))
    assert page.status_code == 200
    assert group_only.title in page.content.decode()
    assert queries.dashboard(people["my_focal"])["total"] == 1
    assert my.get(f"/api/cui/incidents/{group_only.pk}").json()["owner"] == "SG"


def test_dashboard_counts_members_and_partners_with_labels(
    group_only: Incident, people: dict[str, Any]
) -> None:
    stats = queries.dashboard(people["my_focal"])
    assert stats["by_type"] == [("Anchor strike", 1)]
    codes = {code for code, _name, _rep, _srv in stats["by_state"]}
    assert codes <= set(Organisation.objects.values_list("code", flat=True))
    rows = {code: (rep, srv) for code, _name, rep, srv in stats["by_state"]}
    assert rows["SG"][0] == 1
    assert rows["MY"] == (0, 1)
    page = client_for(people["my_focal"]).get(reverse("cui:dashboard")).content.decode()
    assert "Anchor strike" in page
    assert "ANCHOR" not in page


def test_tlp_red_limits_even_inside_asean(assets: None, people: dict[str, Any]) -> None:
    my = Organisation.objects.get(code="MY")
    inc = report(
        people["sg_reporter"], distribution=Distribution.NAMED, tlp=TLP.RED, shared_with=[my]
    )
    assert not queries.incidents(people["vn_analyst"]).filter(pk=inc.pk).exists()
    assert (
        queries.incidents(people["my_focal"]).filter(pk=inc.pk).exists()
    )  # focal point: individual


def test_asean_distribution_excludes_partners(assets: None, people: dict[str, Any]) -> None:
    inc = report(people["sg_reporter"], distribution=Distribution.ASEAN, tlp=TLP.GREEN)
    assert queries.incidents(people["vn_viewer"]).filter(pk=inc.pk).exists()
    assert not queries.incidents(people["au_analyst"]).filter(pk=inc.pk).exists()


def test_lifecycle_enforced(assets: None, people: dict[str, Any]) -> None:
    rep = people["sg_reporter"]
    inc = report(rep)
    with pytest.raises(ValidationError, match="Cannot go from Reported to Restored"):
        services.change_status(rep, inc, Status.RESTORED)
    for s in (
        Status.CONFIRMED,
        Status.REPAIR_PLANNED,
        Status.UNDER_REPAIR,
        Status.RESTORED,
        Status.CLOSED,
    ):
        services.change_status(rep, inc, s, "step")
    inc.refresh_from_db()
    assert inc.status == Status.CLOSED
    assert inc.restored_at is not None
    assert [u.status_to for u in inc.updates.all()][-1] == Status.CLOSED
    with pytest.raises(ValidationError):
        services.change_status(rep, inc, Status.CONFIRMED)


def test_other_state_cannot_change(assets: None, people: dict[str, Any]) -> None:
    inc = report(people["sg_reporter"], distribution=Distribution.ASEAN, tlp=TLP.GREEN)
    with pytest.raises(PermissionDenied):
        services.change_status(people["vn_analyst"], inc, Status.CONFIRMED)
    resp = client_for(people["vn_analyst"]).post(
        f"/api/cui/incidents/{inc.pk}/status",
        {"status": "confirmed"},
        content_type="application/json",
    )
    assert resp.status_code in (403, 404)
    inc.refresh_from_db()
    assert inc.status == Status.REPORTED


def test_validation_errors(assets: None, people: dict[str, Any]) -> None:
    rep = people["sg_reporter"]
    with pytest.raises(ValidationError, match="Unknown asset id 999999"):
        report(rep, lat=None, lon=None, asset_id=999999)
    with pytest.raises(ValidationError, match="out of range"):
        report(rep, lat=91.0)
    with pytest.raises(ValidationError, match="allows at most"):
        report(rep, distribution=Distribution.PUBLIC, tlp=TLP.AMBER)
    with pytest.raises(ValidationError, match="Name at least one"):
        report(rep, distribution=Distribution.NAMED, tlp=TLP.AMBER)
    assert not Incident.objects.exists()


def test_position_from_asset(assets: None, people: dict[str, Any]) -> None:
    from mufakat.cui.models import Asset

    apg = Asset.objects.get(name="Asia Pacific Gateway (APG)")
    inc = report(people["sg_reporter"], lat=None, lon=None, asset_id=apg.pk)
    assert inc.asset == apg
    assert inc.segment is not None
    assert any(a["id"] == apg.pk and a["distance_km"] < 0.01 for a in inc.impact["assets"])


def test_api_create_and_errors(assets: None, people: dict[str, Any]) -> None:
    c = client_for(people["sg_reporter"])
    ok = c.post(
        "/api/cui/incidents",
        {"title": "Fault", **STRAIT, "distribution": "asean", "tlp": "green"},
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content
    body = ok.json()
    assert body["owner"] == "SG"
    assert "SG" in body["affected_states"]
    assert body["impact"]["assets"]
    bad = c.post(
        "/api/cui/incidents",
        {"title": "Fault", "lat": 100, "lon": 104},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert "out of range" in json.dumps(bad.json())
    unknown = c.post(
        "/api/cui/incidents",
        {"title": "Fault", "asset_id": 987654},
        content_type="application/json",
    )
    assert unknown.status_code == 422
    assert "Unknown asset id" in json.dumps(unknown.json())
    imp = c.get("/api/cui/impact?lat=1.2&lon=104&radius_km=10").json()
    assert imp["assets"]
    assert imp["assets"][0]["distance_km"] <= 10
    assert c.get("/api/cui/impact?lat=1.2&lon=204").status_code == 422
    assert c.get("/api/cui/assets?kind=cable").json()["count"] == 95


def test_stix_roundtrip_and_import(group_only: Incident, people: dict[str, Any]) -> None:
    c = client_for(people["sg_reporter"])
    resp = c.get(f"/api/cui/incidents/{group_only.pk}/export/stix")
    assert resp.status_code == 200
    bundle = stix2.parse(resp.content.decode(), allow_custom=True)
    types = {o.type for o in bundle.objects}
    assert {"incident", "location", "infrastructure", "marking-definition", "relationship"} <= types
    inc = next(o for o in bundle.objects if o.type == "incident")
    assert inc.object_marking_refs == [TLP2_MARKINGS[TLP.AMBER][0]]
    assert AuditEntry.objects.filter(action="export", object_type="cui.incident").exists()
    # A member of the group imports it: a new record owned by MY, shared with nobody else.
    created = services.import_stix(people["my_focal"], resp.content)
    assert len(created) == 1
    copy = created[0]
    assert copy.owner_org.code == "MY"
    assert copy.distribution == Distribution.ORGANISATION
    assert copy.tlp == TLP.AMBER
    assert copy.lat == pytest.approx(group_only.lat)
    assert services.import_stix(people["my_focal"], resp.content) == []  # already imported


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"nope", "not valid JSON"),
        (b'{"type": "incident"}', "Expected a STIX 2.1 bundle"),
        (
            b'{"type": "bundle", "id": "bundle--1", "objects": [{"type": "incident"}]}',
            "Not a valid STIX",
        ),
        (
            json.dumps(
                {
                    "type": "bundle",
                    "id": "bundle--6b0f4a54-3c1e-4d8e-9a57-6d7566616b61",
                    "objects": [],
                }
            ).encode(),
            "no incident",
        ),
    ],
)
def test_stix_import_errors(
    assets: None, people: dict[str, Any], payload: bytes, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        services.import_stix(people["sg_reporter"], payload)
    resp = client_for(people["sg_reporter"]).post(
        "/api/cui/import/stix", {"file": SimpleUploadedFile("b.json", payload)}
    )
    assert resp.status_code == 422
    assert not Incident.objects.exists()


def test_other_exports(group_only: Incident, people: dict[str, Any]) -> None:
    c = client_for(people["sg_reporter"])
    misp = c.get(reverse("cui:incident_export", args=[group_only.pk, "misp"])).json()
    assert misp["Event"]["distribution"] == "4"
    assert {"name": "tlp:amber"} in misp["Event"]["Tag"]
    geo = c.get(reverse("cui:incidents_export", args=["geojson"]) + "?state=SG").json()
    assert geo["features"][0]["properties"]["reference"] == group_only.reference
    kml = c.get(reverse("cui:incident_export", args=[group_only.pk, "kml"])).content.decode()
    assert "<Placemark>" in kml
    assert "104.0,1.2" in kml
    assert c.get(reverse("cui:incident_export", args=[group_only.pk, "pdf"])).status_code == 404


def test_viewer_cannot_export(group_only: Incident, people: dict[str, Any]) -> None:

    my_viewer = ensure_user(Organisation.objects.get(code="MY"), "t-my-view", [RoleSlug.VIEWER])
    c = client_for(my_viewer)
    assert c.get(reverse("cui:incident", args=[group_only.pk])).status_code == 200
    assert c.get(f"/api/cui/incidents/{group_only.pk}/export/stix").status_code == 404


def test_subscriptions_filtered_by_sharing(group_only: Incident, people: dict[str, Any]) -> None:
    vn, my = people["vn_viewer"], people["my_focal"]
    services.subscribe(vn, kind="area", point=(1.2, 104.0), radius_km=100)
    services.subscribe(my, kind="state", state="sg")
    inc = report(
        people["sg_reporter"],
        distribution=Distribution.GROUP,
        tlp=TLP.AMBER,
        sharing_group=group_only.sharing_group,
        title="Second fault",
    )
    got = set(
        Notification.objects.filter(object_id=str(inc.pk)).values_list(
            "recipient__username", flat=True
        )
    )
    assert "t-vn-view" not in got
    assert "t-my-fp" in got
    public = report(
        people["sg_reporter"], distribution=Distribution.ASEAN, tlp=TLP.GREEN, title="Third"
    )
    assert Notification.objects.filter(object_id=str(public.pk), recipient=vn).exists()
    with pytest.raises(ValidationError, match="Unknown asset id"):
        services.subscribe(vn, kind="asset", asset_id=424242)
    with pytest.raises(ValidationError):
        services.subscribe(vn, kind="area", bbox=(105.0, 1.0, 104.0, 2.0))
    assert Subscription.objects.filter(user=vn).count() == 1


def test_repair_etas(group_only: Incident) -> None:
    RepairShip.objects.create(
        name="CS Test", home_port="Batangas", lat=13.75, lon=121.04, speed_knots=10
    )
    RepairShip.objects.create(
        name="CS Near", home_port="Singapore", lat=1.264, lon=103.84, speed_knots=10
    )
    etas = queries.repair_etas(group_only, None, group_only.occurred_at)
    assert [e.ship.name for e in etas] == ["CS Near", "CS Test"]
    far = etas[1]
    assert far.distance_nm is not None
    assert 1000 < far.distance_nm < 2000
    assert far.hours == pytest.approx(far.distance_nm / 10, rel=0.01)
    faster = queries.repair_etas(group_only, 20.0)
    assert far.hours is not None
    assert faster[1].hours == pytest.approx(far.hours / 2, rel=0.01)


def test_pages_render_and_htmx(group_only: Incident, people: dict[str, Any]) -> None:
    c = client_for(people["sg_reporter"])
    for name, args in [
        ("cui:map", []),
        ("cui:incidents", []),
        ("cui:dashboard", []),
        ("cui:assets", []),
        ("cui:incident", [group_only.pk]),
        ("cui:incident_new", []),
        ("cui:subscriptions", []),
        ("cui:upload", []),
    ]:
        resp = c.get(reverse(name, args=args))
        assert resp.status_code == 200, name
    page = c.get(reverse("cui:incident", args=[group_only.pk])).content.decode()
    assert "CC BY-NC-SA 3.0" in page
    assert "Redundancy left per state" in page
    partial = c.get(
        reverse("cui:incidents") + "?status=reported", headers={"HX-Request": "true"}
    ).content.decode()
    assert partial.lstrip().startswith('<div id="incident-table">')
    assert group_only.reference in partial
    empty = c.get(
        reverse("cui:incidents") + "?status=closed", headers={"HX-Request": "true"}
    ).content.decode()
    assert group_only.reference not in empty
    asset_page = c.get(
        reverse("cui:asset", args=[group_only.impact["assets"][0]["id"]])
    ).content.decode()
    assert group_only.reference in asset_page
    assert "TeleGeography" in asset_page
    assert c.get(reverse("cui:asset", args=[99999999])).status_code == 404


def test_form_shows_errors(assets: None, people: dict[str, Any]) -> None:
    c = client_for(people["sg_reporter"])
    resp = c.post(
        reverse("cui:incident_new"),
        {
            "title": "",
            "incident_type": "cut",
            "occurred_at": "2026-01-02T03:04",
            "lat": "95",
            "lon": "104",
            "uncertainty_km": "1",
            "severity": "2",
            "impact_radius_km": "50",
            "distribution": "public",
            "tlp": "amber",
        },
    )
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "This field is required." in html
    assert "less than or equal to 90" in html
    assert "allows at most" in html
    assert not Incident.objects.exists()


def test_form_files_incident(assets: None, people: dict[str, Any]) -> None:
    c = client_for(people["sg_reporter"])
    my = Organisation.objects.get(code="MY")
    resp = c.post(
        reverse("cui:incident_new"),
        {
            "title": "Cut near Batam",
            "incident_type": "cut",
            "occurred_at": "2026-01-02T03:04",
            "lat": "1.15",
            "lon": "104.0",
            "uncertainty_km": "2",
            "severity": "3",
            "impact_radius_km": "40",
            "distribution": "named",
            "tlp": "amber",
            "shared_with": [my.pk],
        },
    )
    assert resp.status_code == 302
    inc = Incident.objects.get(title="Cut near Batam")
    assert list(inc.shared_with.values_list("code", flat=True)) == ["MY"]
    att = c.post(
        reverse("cui:incident_attach", args=[inc.pk]),
        {"file": SimpleUploadedFile("survey.txt", b"side-scan sonar notes")},
    )
    assert att.status_code == 302
    assert inc.attachments.count() == 1
    bad = c.post(
        reverse("cui:incident_attach", args=[inc.pk]),
        {"file": SimpleUploadedFile("x.exe", b"MZ")},
        follow=True,
    )
    assert "are not accepted here" in bad.content.decode()
    assert inc.attachments.count() == 1
    vn = client_for(people["vn_analyst"])
    assert vn.get(reverse("cui:attachment", args=[inc.attachments.get().pk])).status_code == 404


def test_set_sharing_widens_later(assets: None, people: dict[str, Any]) -> None:
    inc = report(people["sg_reporter"])
    assert not queries.incidents(people["vn_viewer"]).filter(pk=inc.pk).exists()
    set_sharing(people["sg_focal"], inc, distribution=Distribution.ASEAN, tlp=TLP.GREEN)
    assert queries.incidents(people["vn_viewer"]).filter(pk=inc.pk).exists()


def test_map_layer_names_follow_the_language(people: dict[str, Any]) -> None:
    c = client_for(people["vn_viewer"])
    c.post("/i18n/setlang/", {"language": "th", "next": "/"})
    body = c.get(reverse("cui:map")).content.decode()
    # The layer control's names come from the page (cui-map.js has no strings of its own).
    for name in ("สายเคเบิล", "ท่อส่ง", "จุดขึ้นฝั่ง", "เหตุการณ์"):
        assert f'-label="{name}"' in body


def test_analyst_of_an_affected_state_is_alerted_unless_muted(
    assets: None, people: dict[str, Any]
) -> None:
    """Issue 10: an analyst of an affected state with the incident shared to them got nothing."""
    from mufakat.core.notifications import inbox

    my_analyst = ensure_user(Organisation.objects.get(code="MY"), "t-my-an", [RoleSlug.ANALYST])
    inc = report(people["sg_reporter"], distribution=Distribution.ASEAN, tlp=TLP.GREEN)
    assert "MY" in inc.affected_states
    alerted = _alerted(inc)
    assert {"t-my-an", "t-my-fp"} <= set(alerted)
    assert "t-vn-view" not in alerted  # viewers only through a subscription
    assert "t-au-an" not in alerted  # a partner: ASEAN distribution does not reach AU
    n = Notification.objects.get(object_id=str(inc.pk), recipient=my_analyst)
    assert (n.module, n.severity, n.tlp) == ("cui", Severity.SERIOUS, TLP.GREEN)
    assert n.thread == f"cui.incident:{inc.pk}"
    # The status change joins the same thread; after muting the record, nothing more arrives.
    services.change_status(people["sg_reporter"], inc, Status.CONFIRMED)
    assert Notification.objects.filter(recipient=my_analyst, thread=n.thread).count() == 2
    assert inbox.unread_threads(my_analyst) == 1
    inbox.mute_thread(my_analyst, n.pk)
    services.change_status(people["sg_reporter"], inc, Status.REPAIR_PLANNED)
    assert Notification.objects.filter(recipient=my_analyst, thread=n.thread).count() == 2
    assert Notification.objects.filter(recipient=people["my_focal"], thread=n.thread).count() == 3


def test_banner_says_who_was_alerted_through_which_channel(
    assets: None, people: dict[str, Any], settings: Any
) -> None:
    settings.MUFAKAT_SITE_URL = "https://mufakat.example.org"
    Webhook.objects.create(
        organisation=Organisation.objects.get(code="MY"),
        name="MY SOC",
        url="https://soc.my.invalid/hook",
        secret="s",
        run_as=people["my_focal"],
    )
    c = client_for(people["sg_reporter"])
    r = c.post(
        reverse("cui:incident_new"),
        {
            "title": "Fault near Batam",
            "incident_type": "fault",
            "occurred_at": "2026-01-02T03:04",
            "lat": "1.2",
            "lon": "104.0",
            "uncertainty_km": "1",
            "severity": "3",
            "impact_radius_km": "30",
            "distribution": "asean",
            "tlp": "green",
        },
        follow=True,
    )
    inc = Incident.objects.get(title="Fault near Batam")
    inbox_users = Notification.objects.filter(object_id=str(inc.pk))
    emails = Delivery.objects.filter(channel="email", payload__subject__icontains=inc.reference)
    page = r.content.decode()
    assert (
        f"Alerted: {inbox_users.count()} people in their Mufakat inbox, {emails.count()} by "
        "e-mail, 1 webhook(s)"
    ) in page
    states = sorted(
        set(inbox_users.values_list("recipient__membership__organisation__code", flat=True))
    )
    assert len(states) > 1
    for code in states:
        assert f"{Organisation.objects.get(code=code).name} ({code})" in page
    # No longer the count of affected states (42 for one fault in the issue).
    assert f"{len(inc.affected_states)} state(s) alerted" not in page
    # E-mail links are absolute.
    mail = emails.first()
    assert mail is not None
    assert mail.payload["body"].endswith(f"https://mufakat.example.org/cui/incidents/{inc.pk}/")


def test_alerts_are_written_in_each_recipients_language(
    assets: None, people: dict[str, Any]
) -> None:
    from mufakat.core.models import Membership

    Membership.objects.filter(user=people["my_focal"]).update(language="id")
    inc = report(people["sg_reporter"], distribution=Distribution.ASEAN, tlp=TLP.GREEN)
    mine = Notification.objects.get(object_id=str(inc.pk), recipient=people["my_focal"])
    theirs = Notification.objects.get(object_id=str(inc.pk), recipient=people["sg_focal"])
    assert theirs.title.startswith("New undersea incident: ")
    assert not mine.title.startswith("New undersea incident")
    assert mine.title.endswith(f"{inc.title} ({inc.reference})")
    assert "severity" in theirs.body
    assert "severity" not in mine.body
