"""All CUI writes: report incidents (impact + alerts), lifecycle, updates, attachments,
subscriptions, STIX import and user asset uploads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stix2
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mufakat.core.audit import log as audit
from mufakat.core.choices import TLP, Action, AuditAction, Distribution, RoleSlug
from mufakat.core.models import Organisation, SharingGroup, user_org
from mufakat.core.notifications.alerts import notify
from mufakat.core.ops.uploads import check_upload
from mufakat.core.sharing import queries as core_queries
from mufakat.core.sharing.querysets import private_q
from mufakat.core.sharing.services import ensure_grant, guarded_write
from mufakat.cui import impact, importers
from mufakat.cui.exports import TLP_BY_MARKING, extension_properties
from mufakat.cui.geo import check_lat_lon, geodesic_km
from mufakat.cui.models import (
    TRANSITIONS,
    Asset,
    Incident,
    IncidentAttachment,
    IncidentType,
    IncidentUpdate,
    Segment,
    Severity,
    Status,
    Subscription,
    SubscriptionKind,
)
from mufakat.cui.queries import visible_assets, visible_segments

ATTACHMENT_TYPES = {".pdf", ".png", ".jpg", ".jpeg", ".txt", ".csv", ".kml", ".geojson", ".json"}
MAX_RADIUS_KM = 500.0


@dataclass
class IncidentInput:
    """What a reporter provides; position may come from an asset or segment instead of lat/lon."""

    title: str
    incident_type: str = IncidentType.UNKNOWN
    occurred_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    uncertainty_km: float = 1.0
    asset_id: int | None = None
    segment_id: int | None = None
    depth_m: float | None = None
    severity: int = Severity.MODERATE
    description: str = ""
    impact_radius_km: float = impact.DEFAULT_RADIUS_KM
    distribution: str = Distribution.ORGANISATION
    tlp: str = TLP.AMBER
    shared_with: list[Organisation] = field(default_factory=list)
    sharing_group: SharingGroup | None = None
    external_ref: str = ""


def _resolve_position(
    actor: Any, data: IncidentInput
) -> tuple[float, float, Asset | None, Segment | None]:
    # Another organisation's upload is "unknown", exactly like a missing id.
    asset = segment = None
    if data.segment_id is not None:
        segment = visible_segments(actor).select_related("asset").filter(pk=data.segment_id).first()
        if segment is None:
            raise ValidationError({"segment_id": _("Unknown segment id %s.") % data.segment_id})
        asset = segment.asset
    if data.asset_id is not None:
        asset = visible_assets(actor).filter(pk=data.asset_id).first()
        if asset is None:
            raise ValidationError({"asset_id": _("Unknown asset id %s.") % data.asset_id})
        if segment is not None and segment.asset_id != asset.pk:
            raise ValidationError({"segment_id": _("That segment belongs to another asset.")})
    if data.lat is not None and data.lon is not None:
        try:
            lat, lon = check_lat_lon(data.lat, data.lon)
        except ValidationError as exc:
            raise ValidationError({"lat": exc.messages}) from None
        return lat, lon, asset, segment
    if segment is None and asset is not None:
        segs = list(asset.segments.order_by("seq"))
        segment = segs[len(segs) // 2] if segs else None
    if segment is None:
        raise ValidationError({"lat": _("Give a position (latitude and longitude) or an asset.")})
    return (segment.lat1 + segment.lat2) / 2, (segment.lon1 + segment.lon2) / 2, asset, segment


def _check_sharing(actor: Any, data: IncidentInput) -> None:
    if data.distribution == Distribution.NAMED and not data.shared_with:
        raise ValidationError({"shared_with": _("Name at least one organisation to release to.")})
    if (
        data.sharing_group is not None
        and not core_queries.sharing_groups_for(actor).filter(pk=data.sharing_group.pk).exists()
    ):
        raise ValidationError(
            {"sharing_group": _("Your organisation is not in that sharing group.")}
        )


def apply_impact(incident: Incident, org_id: int | None) -> dict[str, Any]:
    """Analyse against public assets plus organisation `org_id`'s own uploads (the reporting
    state's). Each listed asset carries `private_to`, so readers are shown only what they may
    see, and `affected` (the reported asset, else routes within the position uncertainty plus
    the route's accuracy); affected states (which drive alerts to other states) come from
    affected public cables only."""
    result = impact.analyse(
        incident.lat,
        incident.lon,
        incident.impact_radius_km,
        org_id,
        uncertainty_km=incident.uncertainty_km,
        asset_id=incident.asset_id,
    )
    incident.impact = result
    incident.affected_states = result["affected_states"]
    return result


def report_incident(actor: Any, data: IncidentInput, *, alert: bool = True) -> Incident:
    """File an incident: validate, save under the actor's scope, analyse impact, alert."""
    if not data.title.strip():
        raise ValidationError({"title": _("Give the incident a short title.")})
    if not 0 < data.impact_radius_km <= MAX_RADIUS_KM:
        raise ValidationError(
            {
                "impact_radius_km": _("The impact radius must be between 0 and %s km.")
                % MAX_RADIUS_KM
            }
        )
    lat, lon, asset, segment = _resolve_position(actor, data)
    _check_sharing(actor, data)
    incident = Incident(
        title=data.title.strip()[:200],
        incident_type=data.incident_type,
        occurred_at=data.occurred_at or timezone.now(),
        lat=lat,
        lon=lon,
        uncertainty_km=data.uncertainty_km,
        asset=asset,
        segment=segment,
        depth_m=data.depth_m,
        severity=data.severity,
        description=data.description,
        impact_radius_km=data.impact_radius_km,
        distribution=data.distribution,
        tlp=data.tlp,
        sharing_group=data.sharing_group if data.distribution == Distribution.GROUP else None,
        external_ref=data.external_ref,
    )
    org = user_org(actor)
    result = apply_impact(incident, org.pk if org is not None else None)
    with transaction.atomic():
        guarded_write(actor, incident, Action.ADD)
        if data.distribution == Distribution.NAMED:
            incident.shared_with.set(data.shared_with)
        incident.affected_assets.set([a["id"] for a in impact.affected_entries(result)])
        IncidentUpdate.objects.create(
            # No text: the status line says it, and a stored sentence would keep the
            # reporter's language for every reader.
            incident=incident,
            author=actor,
            status_to=incident.status,
        )
        if alert:
            send_alerts(incident, _("New undersea incident"))
    return incident


def alert_recipients(incident: Incident) -> list[Any]:
    """Focal points of the owner and affected states, plus matching subscribers."""
    user_model = get_user_model()
    codes = {*incident.affected_states, incident.owner_org.code}
    focal = user_model.objects.filter(
        is_active=True,
        membership__organisation__code__in=codes,
        membership__roles__slug=RoleSlug.FOCAL_POINT,
    ).distinct()
    asset_ids = {a["id"] for a in impact.affected_entries(incident.impact)}
    if incident.asset_id:
        asset_ids.add(incident.asset_id)
    # An asset subscription counts only while the subscriber may see the asset: public, or an
    # upload of the subscriber's own organisation.
    subscriber_sees_asset = private_q(F("user__membership__organisation"), prefix="asset__")
    subs = Subscription.objects.filter(
        (Q(kind=SubscriptionKind.ASSET, asset_id__in=asset_ids) & subscriber_sees_asset)
        | Q(kind=SubscriptionKind.STATE, state__in=codes)
        | Q(kind=SubscriptionKind.AREA)
    ).select_related("user")
    users = list(focal)
    for s in subs:
        if s.kind == SubscriptionKind.AREA and not subscription_covers(
            s, incident.lat, incident.lon
        ):
            continue
        users.append(s.user)
    return users


def subscription_covers(s: Subscription, lat: float, lon: float) -> bool:
    if s.radius_km is not None and s.lat is not None and s.lon is not None:
        return geodesic_km(s.lat, s.lon, lat, lon) <= s.radius_km
    if None in (s.min_lon, s.min_lat, s.max_lon, s.max_lat):
        return False
    return bool(s.min_lat <= lat <= s.max_lat and s.min_lon <= lon <= s.max_lon)  # type: ignore[operator]


def send_alerts(incident: Incident, headline: str, *, once: bool = False) -> int:
    """notify() releases each alert only to recipients allowed to see the incident; with
    once=True, only to those not alerted about it before."""
    states = ", ".join(incident.affected_states) or _("none identified")
    body = _(
        "%(type)s, severity %(sev)s, status %(status)s. Assets within %(r)g km: %(n)d. States served: %(states)s."
    ) % {
        "type": incident.get_incident_type_display(),
        "sev": incident.severity,
        "status": incident.get_status_display(),
        "r": incident.impact_radius_km,
        # Public assets only: the same text goes to every recipient, in every state.
        "n": sum(1 for a in incident.impact.get("assets", []) if a.get("private_to") is None),
        "states": states,
    }
    sent = notify(
        incident,
        alert_recipients(incident),
        title=f"{headline}: {incident.title} ({incident.reference})",
        body=body,
        link=reverse("cui:incident", args=[incident.pk]),
        payload={"reference": incident.reference, "affected_states": incident.affected_states},
        once=once,
    )
    return len(sent)


def alert_newly_shared(incident: Incident) -> int:
    """After the owner widens an incident's audience, alert the focal points and subscribers
    it now reaches; those alerted before hear nothing twice."""
    return send_alerts(incident, _("Undersea incident shared with you"), once=True)


def change_status(actor: Any, incident: Incident, status: str, note: str = "") -> Incident:
    """Move along the lifecycle; only the transitions in TRANSITIONS are allowed."""
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status %s.") % status})
    previous = incident.status
    if status not in TRANSITIONS[previous]:
        allowed = ", ".join(str(Status(s).label) for s in incident.allowed_next()) or _("none")
        raise ValidationError(
            {
                "status": _("Cannot go from %(a)s to %(b)s (allowed: %(allowed)s).")
                % {"a": Status(previous).label, "b": Status(status).label, "allowed": allowed}
            }
        )

    def mutate(obj: Incident) -> None:
        obj.status = status
        if status == Status.RESTORED:
            obj.restored_at = timezone.now()

    with transaction.atomic():
        guarded_write(actor, incident, Action.CHANGE, mutate)
        IncidentUpdate.objects.create(
            incident=incident, author=actor, status_from=previous, status_to=status, text=note
        )
        send_alerts(incident, _("Status %s") % incident.get_status_display())
    return incident


def add_update(actor: Any, incident: Incident, text: str) -> IncidentUpdate:
    if not text.strip():
        raise ValidationError({"text": _("Write the update first.")})
    if not core_queries.can(actor, incident, Action.CHANGE):
        raise PermissionDenied(_("Only the reporting state may add updates."))
    return IncidentUpdate.objects.create(incident=incident, author=actor, text=text.strip())


def add_attachment(actor: Any, incident: Incident, f: UploadedFile[bytes]) -> IncidentAttachment:
    if not core_queries.can(actor, incident, Action.CHANGE):
        raise PermissionDenied(_("Only the reporting state may attach files."))
    check_upload(f, allowed=ATTACHMENT_TYPES)
    name = (f.name or "file").rsplit("/", 1)[-1][:200]
    with transaction.atomic():
        att = IncidentAttachment(incident=incident, name=name, size=f.size or 0, uploaded_by=actor)
        att.file.save(name, f, save=False)
        att.save()
        audit.record(AuditAction.UPDATE, incident, message=f"attachment {name}")
    return att


def subscribe(
    actor: Any,
    *,
    kind: str,
    asset_id: int | None = None,
    state: str = "",
    bbox: tuple[float, float, float, float] | None = None,
    point: tuple[float, float] | None = None,
    radius_km: float | None = None,
) -> Subscription:
    s = Subscription(user=actor, kind=kind)
    if kind == SubscriptionKind.ASSET:
        if asset_id is None or not visible_assets(actor).filter(pk=asset_id).exists():
            raise ValidationError({"asset_id": _("Unknown asset id %s.") % asset_id})
        s.asset_id = asset_id
    elif kind == SubscriptionKind.STATE:
        code = state.strip().upper()
        if not Organisation.objects.filter(code=code).exists():
            raise ValidationError({"state": _("Unknown state code %s.") % (state or "-")})
        s.state = code
    elif kind == SubscriptionKind.AREA:
        if point is not None and radius_km is not None:
            s.lat, s.lon = check_lat_lon(*point)
            if not 0 < radius_km <= MAX_RADIUS_KM:
                raise ValidationError({"radius_km": _("Radius must be between 0 and 500 km.")})
            s.radius_km = radius_km
        elif bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            check_lat_lon(min_lat, min_lon)
            check_lat_lon(max_lat, max_lon)
            if min_lat >= max_lat or min_lon >= max_lon:
                raise ValidationError({"bbox": _("The box must have min < max on both axes.")})
            s.min_lon, s.min_lat, s.max_lon, s.max_lat = bbox
        else:
            raise ValidationError({"kind": _("An area needs a box or a point and radius.")})
    else:
        raise ValidationError({"kind": _("Unknown subscription kind.")})
    s.save()
    return s


def unsubscribe(actor: Any, pk: int) -> None:
    Subscription.objects.filter(user=actor, pk=pk).delete()


def upload_assets(actor: Any, f: UploadedFile[bytes]) -> importers.ImportReport:
    org = user_org(actor)
    if org is None:
        raise PermissionDenied(_("Your account has no organisation."))
    ensure_grant(actor, Asset, Action.ADD)
    ext = check_upload(f, allowed={".geojson", ".json", ".kml"})
    report = importers.import_upload(f.read(), f"upload{ext}", org)
    audit.record(
        AuditAction.IMPORT,
        actor=actor,
        object_type="cui.asset",
        object_repr=f"{f.name}: {report.as_dict()['assets']}",
    )
    return report


def _stix_objects(data: bytes | str) -> list[Any]:
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(_("The STIX file is not valid JSON: %s.") % exc) from None
    if not isinstance(raw, dict) or raw.get("type") != "bundle":
        raise ValidationError(_("Expected a STIX 2.1 bundle (an object with type “bundle”)."))
    if not isinstance(raw.get("objects"), list) or not raw["objects"]:
        raise ValidationError(_("The bundle contains no incident objects."))
    try:
        bundle = stix2.parse(raw, allow_custom=True)
    except Exception as exc:  # stix2 raises many exception types for invalid content
        raise ValidationError(_("Not a valid STIX 2.1 bundle: %s") % str(exc)[:300]) from None
    return list(getattr(bundle, "objects", None) or [])


def import_stix(actor: Any, data: bytes | str) -> list[Incident]:
    """Create incidents from a STIX 2.1 bundle, owned by the importer's organisation, shared with
    nobody else until the importer decides; all or nothing; already-imported ids are skipped."""
    org = user_org(actor)
    if org is None:
        raise PermissionDenied(_("Your account has no organisation."))
    objects = _stix_objects(data)
    by_id = {o["id"]: o for o in objects}
    incidents = [o for o in objects if o["type"] == "incident"]
    if not incidents:
        raise ValidationError(_("The bundle contains no incident objects."))
    located: dict[str, Any] = {}
    for o in objects:
        if o["type"] == "relationship" and o["relationship_type"] == "located-at":
            target = by_id.get(o["target_ref"])
            if target is not None and target["type"] == "location":
                located[o["source_ref"]] = target
    created: list[Incident] = []
    with transaction.atomic():
        for inc in incidents:
            if Incident.objects.filter(owner_org=org, external_ref=inc["id"]).exists():
                continue
            loc = located.get(inc["id"])
            if loc is None or "latitude" not in loc or "longitude" not in loc:
                raise ValidationError(
                    _(
                        "Incident %s has no location with latitude/longitude (located-at relationship)."
                    )
                    % inc["id"]
                )
            tlp = next(
                (
                    TLP_BY_MARKING[m]
                    for m in inc.get("object_marking_refs", [])
                    if m in TLP_BY_MARKING
                ),
                TLP.AMBER,
            )
            props = extension_properties(inc)
            itype = str(props.get("incident_type", IncidentType.UNKNOWN))
            severity = props.get("severity", Severity.MODERATE)
            occurred = props.get("occurred_at")
            data_in = IncidentInput(
                title=str(inc.get("name", ""))[:200],
                incident_type=itype if itype in IncidentType.values else IncidentType.UNKNOWN,
                occurred_at=parse_datetime(str(occurred)) if occurred else inc["created"],
                lat=loc["latitude"],
                lon=loc["longitude"],
                depth_m=props.get("depth_m"),
                severity=severity if severity in Severity.values else Severity.MODERATE,
                description=str(inc.get("description", "")),
                distribution=Distribution.ORGANISATION,
                tlp=tlp,
                external_ref=inc["id"],
            )
            created.append(report_incident(actor, data_in, alert=False))
        audit.record(
            AuditAction.IMPORT,
            actor=actor,
            object_type="cui.incident",
            object_repr=f"{len(created)} incident(s) from STIX",
            message=",".join(str(i.pk) for i in created),
        )
    return created


def ensure_states(codes: Iterable[str]) -> list[Organisation]:
    codes = {c.upper() for c in codes}
    orgs = list(Organisation.objects.filter(code__in=codes))
    unknown = codes - {o.code for o in orgs}
    if unknown:
        raise ValidationError(
            {"shared_with": _("Unknown organisation codes: %s") % ", ".join(sorted(unknown))}
        )
    return orgs
