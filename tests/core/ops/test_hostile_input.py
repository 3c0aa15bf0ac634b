"""The hostile-input corpus (tests/hostile) thrown at every upload, import and API body: never a
5xx, always a 4xx that says what is wrong, and nothing partially written."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from mufakat.api import api
from mufakat.core.accounts.auth import issue_token
from mufakat.core.models import Organisation, SharingGroup, Subscription
from mufakat.core.sharing.testing import make_user
from mufakat.cui import services as cui_services
from mufakat.cui.models import Asset, Incident, IncidentAttachment, IncidentUpdate
from tests.hostile import DEEP_KML, JSON_CASES, KML_CASES, STIX_CASES, Case
from tests.sharedapp.models import Dossier

pytestmark = pytest.mark.django_db


@pytest.fixture
def sg_focal() -> Any:
    return make_user("sg-hostile", Organisation.objects.get(code="SG"), ["focal_point"])


@pytest.fixture
def client(sg_focal: Any) -> Client:
    c = Client()
    c.force_login(sg_focal)
    return c


@pytest.fixture
def bearer(sg_focal: Any) -> dict[str, str]:
    _tok, raw = issue_token(sg_focal, "hostile")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def incident(sg_focal: Any) -> Incident:
    return cui_services.report_incident(
        sg_focal, cui_services.IncidentInput(title="Base", lat=1.2, lon=104.0), alert=False
    )


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (
            Asset,
            Incident,
            IncidentUpdate,
            IncidentAttachment,
            Subscription,
            SharingGroup,
            Dossier,
        )
    }


@pytest.fixture
def unchanged() -> Iterator[None]:
    """Whatever happens in the test, no record is added, changed away or half-written."""
    before = counts()
    yield
    assert counts() == before


def _file(case: Case, ext: str) -> io.BytesIO:
    f = io.BytesIO(case.body)
    f.name = f"{case.name}{ext}"
    return f


def _refused(resp: Any) -> str:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.content[:300])
    return str(resp.content.decode(errors="replace"))


@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.name)
def test_route_uploads_refuse_hostile_geojson(client: Client, case: Case, unchanged: None) -> None:
    body = _refused(
        client.post(reverse("cui:upload"), {"kind": "assets", "file": _file(case, ".geojson")})
    )
    assert 'class="error' in body or "errorlist" in body


@pytest.mark.parametrize("case", KML_CASES, ids=lambda c: c.name)
def test_route_uploads_refuse_hostile_kml(client: Client, case: Case, unchanged: None) -> None:
    _refused(client.post(reverse("cui:upload"), {"kind": "assets", "file": _file(case, ".kml")}))


def test_deeply_nested_kml_is_harmless(client: Client) -> None:
    resp = client.post(reverse("cui:upload"), {"kind": "assets", "file": _file(DEEP_KML, ".kml")})
    # Refused on the page, or accepted as a well-formed file and imported as a job whose page
    # answers (never a 500 either way).
    assert resp.status_code in {200, 302, 422}
    if resp.status_code == 302:
        assert client.get(resp["Location"]).status_code == 200


@pytest.mark.parametrize("case", [*STIX_CASES, *JSON_CASES], ids=lambda c: c.name)
def test_stix_imports_refuse_hostile_bundles(
    client: Client, bearer: dict[str, str], case: Case, unchanged: None
) -> None:
    _refused(client.post(reverse("cui:upload"), {"kind": "stix", "file": _file(case, ".json")}))
    resp = Client().post("/api/cui/import/stix", {"file": _file(case, ".json")}, headers=bearer)
    _refused(resp)
    assert resp.json()["detail"]


def test_stix_import_names_the_field(bearer: dict[str, str], unchanged: None) -> None:
    by_name = {c.name: c for c in STIX_CASES}
    for name, field in (
        ("date-2026-13-45", "occurred_at"),
        ("date-9999", "occurred_at"),
        ("date-0001-offset", "occurred_at"),
        ("depth-negative", "depth_m"),
        ("depth-1e308", "depth_m"),
        ("depth-string", "depth_m"),
    ):
        resp = Client().post(
            "/api/cui/import/stix", {"file": _file(by_name[name], ".json")}, headers=bearer
        )
        assert resp.status_code == 422, (name, resp.content)
        assert field in resp.json()["detail"], (name, resp.json())


WELL_FORMED = {"empty-object", "huge-key-count", "array-top", "string-top"}


def _body_operations() -> list[str]:
    schema = api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                out.append(f"{method.upper()} {path}")
    return sorted(out)


def test_every_json_body_refuses_the_corpus(
    bearer: dict[str, str], incident: Incident, unchanged: None
) -> None:
    operations = _body_operations()
    assert "POST /api/cui/incidents" in operations
    assert "POST /api/core/sharing-groups" in operations
    for op in operations:
        method, path = op.split(" ", 1)
        url = path.replace("{incident_id}", str(incident.pk)).replace("{notification_id}", "1")
        for case in JSON_CASES:
            if case.name in WELL_FORMED:
                continue  # plain JSON values: the schema answers those, checked below
            resp = Client().generic(
                method, url, case.body, content_type="application/json", headers=bearer
            )
            assert 400 <= resp.status_code < 500, (
                op,
                case.name,
                resp.status_code,
                resp.content[:200],
            )
    # Well-formed JSON of the wrong shape, on a copy of the world that is thrown away.
    with transaction.atomic():
        for op in operations:
            method, path = op.split(" ", 1)
            url = path.replace("{incident_id}", str(incident.pk)).replace("{notification_id}", "1")
            for case in JSON_CASES:
                if case.name in WELL_FORMED:
                    resp = Client().generic(
                        method, url, case.body, content_type="application/json", headers=bearer
                    )
                    assert resp.status_code < 500, (op, case.name, resp.status_code)
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", "0001-01-01T00:00+14:00"),
        ("occurred_at", "9999-12-31T23:59-14:00"),
        ("occurred_at", "9999-12-31T00:00:00Z"),
        ("occurred_at", "1700-01-01T00:00:00Z"),
        ("depth_m", -5000),
        ("depth_m", 1e308),
        ("uncertainty_km", 1e308),
        ("uncertainty_km", -1),
        ("severity", 2**70),
        ("lat", 91),
        ("lon", 1e308),
    ],
)
def test_api_incident_fields_out_of_range_name_the_field(
    bearer: dict[str, str], field: str, value: Any, unchanged: None
) -> None:
    payload = {"title": "Edge", "lat": 1.2, "lon": 104.0, field: value}
    resp = Client().post(
        "/api/cui/incidents", payload, content_type="application/json", headers=bearer
    )
    assert resp.status_code in {400, 422}, resp.content
    assert field in json.dumps(resp.json()["detail"]), resp.json()


def test_a_far_future_incident_cannot_be_filed_through_the_form(
    client: Client, unchanged: None
) -> None:
    form = {
        "title": "Future",
        "incident_type": "unknown",
        "occurred_at": "9999-12-31T23:59",
        "lat": "1.2",
        "lon": "104.0",
        "uncertainty_km": "1",
        "severity": "3",
        "impact_radius_km": "50",
        "distribution": "org",
        "tlp": "amber",
    }
    resp = client.post(reverse("cui:incident_new"), form)
    assert resp.status_code == 422
    assert "1850" in resp.content.decode()


def test_ids_and_numbers_past_64_bits(
    client: Client, bearer: dict[str, str], incident: Incident, unchanged: None
) -> None:
    huge = 2**70
    assert client.get(f"/cui/incidents/{huge}/").status_code == 404
    assert Client().get(f"/api/cui/incidents/{huge}", headers=bearer).status_code in {400, 404}
    assert Client().get(f"/api/cui/assets/{huge}", headers=bearer).status_code in {400, 404}
    form = {"title": "Big id", "asset": str(huge), "severity": "3", "distribution": "org"}
    assert client.post(reverse("cui:incident_new"), form).status_code == 422
    sub = client.post(reverse("cui:subscriptions"), {"kind": "asset", "asset": str(huge)})
    assert sub.status_code == 422
    assert client.post(reverse("cui:subscriptions"), {"delete": str(huge)}).status_code == 302
    roles = client.post(reverse("core:org_member_roles", args=[huge]), {})
    assert roles.status_code == 404
    assert client.post(reverse("core:inbox_read", args=[huge])).status_code == 404
    assert Client().get(f"/api/core/notifications?page={huge}", headers=bearer).status_code < 500


def test_tiny_and_huge_speeds(client: Client, bearer: dict[str, str], incident: Incident) -> None:
    for speed in ("1e-300", "0", "-1", "1e308", "nan", "inf"):
        page = client.get(reverse("cui:incident", args=[incident.pk]), {"speed": speed})
        assert page.status_code == 200, speed
        resp = Client().get(
            f"/api/cui/incidents/{incident.pk}/repair-etas",
            {"speed_knots": speed},
            headers=bearer,
        )
        assert resp.status_code == 422, (speed, resp.content)


def test_uploaded_text_files_with_nul_anywhere_are_refused(
    client: Client, incident: Incident, unchanged: None
) -> None:
    padded = b"route notes\n" * 2000 + b"\x00 hidden"  # past the 8 KiB head
    f = io.BytesIO(padded)
    f.name = "notes.txt"
    resp = client.post(reverse("cui:incident_attach", args=[incident.pk]), {"file": f}, follow=True)
    assert "not a text file" in resp.content.decode()
    geo = io.BytesIO(b'{"type":"FeatureCollection","features":[]}' + b" " * 9000 + b"\x00")
    geo.name = "nul.geojson"
    assert client.post(reverse("cui:upload"), {"kind": "assets", "file": geo}).status_code == 422
