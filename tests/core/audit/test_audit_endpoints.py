"""Every state-changing endpoint writes exactly one audit entry per logical change.

The test walks the URLconf and the API schema (core, cui, the test module tests/sharedapp and
any module mounted later): every endpoint must be classified here, so a new endpoint that
nobody thought about fails until someone says how it is audited. Each audited endpoint is then
called for real, and the entries carrying its request id are checked: at least one, the
expected kind, and no object audited twice for one request. The chain still verifies."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from mufakat.api import api
from mufakat.core.accounts.auth import issue_token
from mufakat.core.audit.log import verify
from mufakat.core.models import (
    ApiToken,
    AuditEntry,
    Membership,
    Notification,
    Organisation,
    Role,
    Subscription,
)
from mufakat.core.sharing import services as core_services
from mufakat.core.sharing.testing import make_user
from mufakat.core.tenancy.demo import ensure_user
from mufakat.cui import services as cui_services
from mufakat.cui.models import Incident
from tests.sharedapp.models import Dossier

pytestmark = pytest.mark.django_db
PASSWORD = "walk-the-urlconf-2026"


@dataclass
class World:
    admin: Any  # SG focal point + organisation admin, with a second factor
    viewer: Any  # SG viewer, password log-in without a second factor
    incident: Incident
    dossier: Dossier
    ai_dossier: Dossier
    client: Client  # logged in as admin
    token: str  # admin's API token


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world() -> World:
    sg = Organisation.objects.get(code="SG")
    admin = make_user("sg-walk", sg, ["focal_point", "org_admin"])
    viewer = make_user("sg-walk-v", sg, ["viewer"])
    for u in (admin, viewer):
        u.set_password(PASSWORD)
        u.save()
    incident = cui_services.report_incident(
        admin,
        cui_services.IncidentInput(title="Walk fault", lat=1.25, lon=104.1, depth_m=40.0),
        alert=False,
    )
    dossier = core_services.guarded_write(admin, Dossier(title="Walk dossier"), "add")
    ai = core_services.guarded_write(admin, Dossier(title="Walk summary", ai_generated=True), "add")
    Notification.objects.create(recipient=admin, title="hello")
    c = Client()
    c.force_login(admin)
    _tok, raw = issue_token(admin, "walk")
    return World(admin, viewer, incident, dossier, ai, c, raw)


def _geojson_upload() -> io.BytesIO:
    f = io.BytesIO(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "Walk route", "kind": "cable"},
                        "geometry": {"type": "LineString", "coordinates": [[104, 1], [105, 2]]},
                    }
                ],
            }
        ).encode()
    )
    f.name = "walk.geojson"
    return f


def _stix_upload() -> io.BytesIO:
    """Another state's bundle: one incident located at a position."""
    import stix2

    loc = stix2.v21.Location(latitude=1.21, longitude=104.05)
    inc = stix2.v21.Incident(name="Imported fault", allow_custom=True, x_mufakat_severity=3)
    rel = stix2.v21.Relationship(
        source_ref=inc.id, relationship_type="located-at", target_ref=loc.id
    )
    return _named(
        io.BytesIO(stix2.v21.Bundle(inc, loc, rel, allow_custom=True).serialize().encode()),
        "walk.json",
    )


def _bearer(w: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.token}"}


def _login_totp(w: World, h: dict[str, str]) -> Any:
    c = Client()
    c.post(reverse("core:login"), {"username": "sg-walk", "password": PASSWORD})
    m = Membership.objects.get(user=w.admin)
    return c.post(reverse("core:login_totp"), {"code": pyotp.TOTP(m.totp_secret).now()}, headers=h)


def _enrol(w: World, h: dict[str, str]) -> Any:
    user = ensure_user(w.admin.membership.organisation, "sg-walk-new", ["focal_point"])
    c = Client()
    c.force_login(user)
    c.get(reverse("core:twofactor_setup"))
    secret = Membership.objects.get(user=user).totp_secret
    return c.post(reverse("core:twofactor_setup"), {"code": pyotp.TOTP(secret).now()}, headers=h)


def _subscribe_and_delete(w: World, h: dict[str, str]) -> Any:
    s = Subscription.objects.create(user=w.admin, kind="state", target_id="MY")
    return w.client.post(reverse("cui:subscriptions"), {"delete": str(s.pk)}, headers=h)


def _incident_form() -> dict[str, Any]:
    return {
        "title": "Anchor drag",
        "incident_type": "unknown",
        "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "lat": "1.2",
        "lon": "104.0",
        "uncertainty_km": "1",
        "severity": "3",
        "impact_radius_km": "50",
        "distribution": "org",
        "tlp": "amber",
    }


Call = Callable[[World, dict[str, str]], Any]


# Endpoint → (call, the audit actions its one request must write, object type expected).
AUDITED: dict[str, tuple[Call, set[str], str]] = {
    "url core:login": (
        lambda w, h: Client().post(
            reverse("core:login"), {"username": "sg-walk-v", "password": PASSWORD}, headers=h
        ),
        {"login"},
        "auth.user",
    ),
    "url core:login_totp": (_login_totp, {"login"}, "auth.user"),
    "url core:logout": (
        lambda w, h: w.client.post(reverse("core:logout"), headers=h),
        {"logout"},
        "auth.user",
    ),
    "url core:twofactor_setup": (_enrol, {"two_factor"}, "core.membership"),
    "url core:tokens": (
        lambda w, h: w.client.post(reverse("core:tokens"), {"name": "ci", "days": 30}, headers=h),
        {"token"},
        "core.apitoken",
    ),
    "url core:token_revoke": (
        lambda w, h: w.client.post(
            reverse("core:token_revoke", args=[ApiToken.objects.get(user=w.admin).pk]), headers=h
        ),
        {"token"},
        "core.apitoken",
    ),
    "url core:sharing_groups": (
        lambda w, h: w.client.post(
            reverse("core:sharing_groups"),
            {"name": "Walkers", "members": [Organisation.objects.get(code="MY").pk]},
            headers=h,
        ),
        {"create"},
        "core.sharinggroup",
    ),
    "url core:share": (
        lambda w, h: w.client.post(
            reverse("core:share", args=["sharedapp", "dossier", w.dossier.pk]),
            {
                "distribution": "named",
                "tlp": "amber",
                "shared_with": [Organisation.objects.get(code="MY").pk],
            },
            headers=h,
        ),
        {"share"},
        "sharedapp.dossier",
    ),
    "url core:approve_ai": (
        lambda w, h: w.client.post(
            reverse("core:approve_ai", args=["sharedapp", "dossier", w.ai_dossier.pk]), headers=h
        ),
        {"approve"},
        "sharedapp.dossier",
    ),
    "url core:org_members": (
        lambda w, h: w.client.post(
            reverse("core:org_members"),
            {
                "username": "sg-walk-made",
                "email": "m@sg.invalid",
                "password": "harbour-lantern-93-kite",
                "roles": [Role.objects.get(slug="analyst").pk],
            },
            headers=h,
        ),
        {"create"},
        "auth.user",
    ),
    "url core:org_member_roles": (
        lambda w, h: w.client.post(
            reverse("core:org_member_roles", args=[w.viewer.membership.pk]),
            {f"m{w.viewer.membership.pk}-roles": [Role.objects.get(slug="analyst").pk]},
            headers=h,
        ),
        {"update"},
        "core.membership",
    ),
    "url cui:incident_new": (
        lambda w, h: w.client.post(reverse("cui:incident_new"), _incident_form(), headers=h),
        {"create"},
        "cui.incident",
    ),
    "url cui:incident_status": (
        lambda w, h: w.client.post(
            reverse("cui:incident_status", args=[w.incident.pk]),
            {"status": "confirmed", "note": "divers saw it"},
            headers=h,
        ),
        {"update"},
        "cui.incident",
    ),
    "url cui:incident_update": (
        lambda w, h: w.client.post(
            reverse("cui:incident_update", args=[w.incident.pk]), {"text": "ship sailed"}, headers=h
        ),
        {"create"},
        "cui.incidentupdate",
    ),
    "url cui:incident_attach": (
        lambda w, h: w.client.post(
            reverse("cui:incident_attach", args=[w.incident.pk]),
            {"file": _named(io.BytesIO(b"survey notes\n"), "survey.txt")},
            headers=h,
        ),
        {"create"},
        "cui.incidentattachment",
    ),
    "url cui:upload": (
        lambda w, h: w.client.post(
            reverse("cui:upload"), {"kind": "assets", "file": _geojson_upload()}, headers=h
        ),
        {"import"},
        "cui.asset",
    ),
    "url cui:subscriptions": (_subscribe_and_delete, {"delete"}, "core.subscription"),
    "url cui:incident_export": (
        lambda w, h: w.client.get(
            reverse("cui:incident_export", args=[w.incident.pk, "stix"]), headers=h
        ),
        {"export"},
        "cui.incident",
    ),
    "url cui:incidents_export": (
        lambda w, h: w.client.get(reverse("cui:incidents_export", args=["kml"]), headers=h),
        {"export"},
        "cui.incident",
    ),
    "url sharedapp:export": (
        lambda w, h: w.client.get(reverse("sharedapp:export"), headers=h),
        {"export"},
        "sharedapp.dossier",
    ),
    "api POST /api/core/sharing-groups": (
        lambda w, h: Client().post(
            "/api/core/sharing-groups",
            {"name": "Walk API", "member_codes": ["MY"]},
            content_type="application/json",
            headers={**h, **_bearer(w)},
        ),
        {"create"},
        "core.sharinggroup",
    ),
    "api POST /api/cui/incidents": (
        lambda w, h: Client().post(
            "/api/cui/incidents",
            {"title": "API fault", "lat": 1.3, "lon": 104.2},
            content_type="application/json",
            headers={**h, **_bearer(w)},
        ),
        {"create"},
        "cui.incident",
    ),
    "api POST /api/cui/incidents/{incident_id}/status": (
        lambda w, h: Client().post(
            f"/api/cui/incidents/{w.incident.pk}/status",
            {"status": "confirmed"},
            content_type="application/json",
            headers={**h, **_bearer(w)},
        ),
        {"update"},
        "cui.incident",
    ),
    "api POST /api/cui/import/stix": (
        lambda w, h: Client().post(
            "/api/cui/import/stix", {"file": _stix_upload()}, headers={**h, **_bearer(w)}
        ),
        {"import", "create"},
        "cui.incident",
    ),
    "api POST /api/sharedapp/dossiers": (
        lambda w, h: Client().post(
            "/api/sharedapp/dossiers",
            {"title": "API dossier"},
            content_type="application/json",
            headers={**h, **_bearer(w)},
        ),
        {"create"},
        "sharedapp.dossier",
    ),
    "api POST /api/core/ai/{type_label}/{record_id}/approve": (
        lambda w, h: Client().post(
            f"/api/core/ai/sharedapp.dossier/{w.ai_dossier.pk}/approve", headers={**h, **_bearer(w)}
        ),
        {"approve"},
        "sharedapp.dossier",
    ),
    "api POST /api/core/ai/{type_label}/{record_id}/reject": (
        lambda w, h: Client().post(
            f"/api/core/ai/sharedapp.dossier/{w.ai_dossier.pk}/reject",
            {"reason": "unsupported claim"},
            content_type="application/json",
            headers={**h, **_bearer(w)},
        ),
        {"reject"},
        "sharedapp.dossier",
    ),
    "api POST /api/core/records/{type_label}/{record_id}/share": (
        lambda w, h: Client().post(
            f"/api/core/records/sharedapp.dossier/{w.dossier.pk}/share",
            {"distribution": "named", "tlp": "amber", "shared_with": ["MY"]},
            content_type="application/json",
            headers={**h, **_bearer(w)},
        ),
        {"share"},
        "sharedapp.dossier",
    ),
    "api GET /api/cui/export/{fmt}": (
        lambda w, h: Client().get("/api/cui/export/kml", headers={**h, **_bearer(w)}),
        {"export"},
        "cui.incident",
    ),
    "api GET /api/cui/incidents/{incident_id}/export/{fmt}": (
        lambda w, h: Client().get(
            f"/api/cui/incidents/{w.incident.pk}/export/geojson", headers={**h, **_bearer(w)}
        ),
        {"export"},
        "cui.incident",
    ),
}

# Endpoints that change state that is not a record, with the reason it is not audited.
UNAUDITED = {
    # Approves or rejects through the same services as the API (walked above); its form needs
    # the queue's own fields, so it is listed, not called, here.
    "url core:ai_decide": "the approval queue's form; same services as the API approve/reject",
    "url core:inbox_read": "marks the reader's own notification read",
    "url core:inbox_read_all": "marks the reader's own notifications read",
    "api POST /api/core/notifications/read-all": "the same, through the API",
    "url core:inbox_mute": "the reader's own alert preference",
    "url core:inbox_unmute": "the reader's own alert preference",
    "api POST /api/core/notifications/{notification_id}/read": "the same, through the API",
    "url set_language": "the reader's language preference (a cookie)",
    # A job's own row is bookkeeping; what the job changes is audited where it is written.
    "url core:job_cancel": "asks the reader's own background job to stop",
    "api POST /api/core/jobs/{job_id}/cancel": "the same, through the API",
}

# Endpoints that only read (exports above are reads that are audited).
READ_ONLY = {
    "url core:home",
    "url core:ai_approvals",
    "url core:search",
    "url core:job",
    "url core:jobs",
    "url core:map",
    "url core:inbox",
    "url core:audit",
    "url core:audit_entry",
    "url core:healthz",
    "url core:readyz",
    "url cui:map",
    "url cui:incidents",
    "url cui:incident",
    "url cui:attachment",
    "url cui:dashboard",
    "url cui:assets",
    "url cui:asset",
    "url cui:cables_geojson",
    "url cui:pipelines_geojson",
    "url cui:landing_points_geojson",
    "url cui:incidents_geojson",
    "url cui:asset_options",
    "url cui:taxii_root",
    "url cui:taxii_discovery",
    "url cui:taxii_collections",
    "url cui:taxii_collection",
    "url cui:taxii_objects",
    "url sharedapp:list",
    "url sharedapp:detail",
    "url sharedapp:places",
    "url admin_login_redirect",
}


def _named(f: io.BytesIO, name: str) -> io.BytesIO:
    f.name = name
    return f


def _url_names(patterns: list[Any], ns: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            # The admin is audited by the model signals (tested in test_audit); the API is
            # walked through its schema below.
            if p.namespace in {"admin", "api"}:
                continue
            inner = f"{ns}{p.namespace}:" if p.namespace else ns
            yield from _url_names(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            yield f"url {ns}{p.name}"


def discovered() -> set[str]:
    found = set(_url_names(get_resolver().url_patterns))
    schema = api.get_openapi_schema()
    for path, ops in schema["paths"].items():
        for method in ops:
            found.add(f"api {method.upper()} {path}")
    return found


def test_every_endpoint_is_classified() -> None:
    found = discovered()
    api_reads = {k for k in found if k.startswith("api GET ")} - AUDITED.keys()
    classified = AUDITED.keys() | UNAUDITED.keys() | READ_ONLY | api_reads
    missing = sorted(found - classified)
    assert not missing, f"endpoints nobody said how they are audited: {missing}"
    stale = sorted((AUDITED.keys() | UNAUDITED.keys() | READ_ONLY) - found)
    assert not stale, f"classified endpoints that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint", sorted(AUDITED))
def test_a_state_changing_endpoint_writes_one_entry_per_logical_change(
    world: World, endpoint: str
) -> None:
    call, actions, object_type = AUDITED[endpoint]
    rid = f"walk-{abs(hash(endpoint)) % 10**12:012d}"
    resp = call(world, {"X-Request-ID": rid})
    assert resp.status_code < 400, (endpoint, resp.status_code, resp.content[:300])
    entries = list(AuditEntry.objects.filter(request_id=rid).order_by("seq"))
    assert entries, f"{endpoint} wrote no audit entry"
    assert {e.action for e in entries} == actions, [(e.action, e.object_type) for e in entries]
    assert object_type in {e.object_type for e in entries}
    per_object = Counter((e.object_type, e.object_id) for e in entries if e.object_id)
    twice = {k: n for k, n in per_object.items() if n > 1}
    assert not twice, f"{endpoint}: one logical change audited {twice}"
    assert verify().ok


def test_api_reads_write_no_change_entries(world: World) -> None:
    """GET operations without path parameters, as the admin: no create/update/delete/share."""
    reads = sorted(
        k.split(" ", 2)[2]
        for k in discovered()
        if k.startswith("api GET ") and "{" not in k and k not in AUDITED
    )
    assert reads
    for path in reads:
        rid = f"read-{abs(hash(path)) % 10**12:012d}"
        resp = Client().get(path, headers={**_bearer(world), "X-Request-ID": rid})
        assert resp.status_code < 500, path
        kinds = set(AuditEntry.objects.filter(request_id=rid).values_list("action", flat=True))
        assert not kinds & {"create", "update", "delete", "share", "approve"}, (path, kinds)
