"""All CUI writes: report incidents (impact + alerts), lifecycle, updates, attachments,
subscriptions, STIX import and user asset uploads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import stix2
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mufakat.core.audit import log as audit
from mufakat.core.choices import TLP, Action, AuditAction, Distribution, RoleSlug
from mufakat.core.geo.geometry import check_lat_lon
from mufakat.core.jobs import JobContext
from mufakat.core.models import Organisation, SharingGroup, Subscription, user_org
from mufakat.core.notifications import subscriptions as core_subscriptions
from mufakat.core.notifications.alerts import Fanout, fanout
from mufakat.core.notifications.recipients import recipients_for
from mufakat.core.notifications.subscriptions import STATE, AlertSubject
from mufakat.core.ops import safejson
from mufakat.core.ops.uploads import check_upload
from mufakat.core.sharing import queries as core_queries
from mufakat.core.sharing.markings import tlp_of
from mufakat.core.sharing.services import ensure_grant, guarded_write
from mufakat.cui import impact, importers
from mufakat.cui.exports import extension_properties
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
)
from mufakat.cui.queries import visible_assets, visible_segments
from mufakat.cui.subscriptions import ASSET

# Besides focal points, who in an affected state hears of an incident shared with them.
ALERTED_ROLES = (RoleSlug.ANALYST.value,)

ATTACHMENT_TYPES = {".pdf", ".png", ".jpg", ".jpeg", ".txt", ".csv", ".kml", ".geojson", ".json"}
MAX_RADIUS_KM = 500.0
MIN_SPEED_KNOTS = 1.0
MAX_ID = 2**63 - 1


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
    for name in ("segment_id", "asset_id"):
        if not -MAX_ID <= (getattr(data, name) or 0) <= MAX_ID:
            # Past what the database can hold: no such row (and no driver overflow, a 500).
            raise ValidationError({name: _("Unknown %s.") % name})
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


# The first submarine cable was laid in 1850; an incident cannot be older, nor in the future
# (a day of slack for clocks and time zones). A date of 9999-12-31 used to break every page
# that showed it, for every reader.
EARLIEST_INCIDENT = datetime(1850, 1, 1, tzinfo=UTC)
MAX_DEPTH_M = 11_000.0  # deeper than the Challenger Deep
MAX_UNCERTAINTY_KM = MAX_RADIUS_KM


def check_occurred_at(value: datetime) -> datetime:
    """An aware time in the accepted range, or ValidationError naming the field."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    message = _("The time must lie between 1850 and now.")
    try:
        in_utc = value.astimezone(UTC)  # years 1 and 9999 with an offset overflow here
    except (OverflowError, ValueError):
        raise ValidationError({"occurred_at": message}) from None
    if not EARLIEST_INCIDENT <= in_utc <= timezone.now() + timedelta(days=1):
        raise ValidationError({"occurred_at": message})
    return in_utc


def _check_measures(data: IncidentInput) -> None:
    """Depth, uncertainty and severity within physical and defined bounds (NaN included)."""
    if data.depth_m is not None and not 0 <= data.depth_m <= MAX_DEPTH_M:  # NaN fails too
        raise ValidationError(
            {"depth_m": _("Depth is in metres below the surface, 0 to %d.") % MAX_DEPTH_M}
        )
    if not 0 <= data.uncertainty_km <= MAX_UNCERTAINTY_KM:
        raise ValidationError(
            {"uncertainty_km": _("The uncertainty must be between 0 and %s km.") % MAX_RADIUS_KM}
        )
    if data.severity not in Severity.values:
        raise ValidationError({"severity": _("Severity is a whole number from 1 to 5.")})


def _check_input(
    actor: Any, data: IncidentInput
) -> tuple[float, float, Asset | None, Segment | None]:
    """Everything report_incident refuses, checked before it writes (imports check a whole
    bundle first, so bad input writes nothing)."""
    if not data.title.strip():
        raise ValidationError({"title": _("Give the incident a short title.")})
    _check_measures(data)
    if data.occurred_at:
        check_occurred_at(data.occurred_at)
    if not 0 < data.impact_radius_km <= MAX_RADIUS_KM:
        raise ValidationError(
            {
                "impact_radius_km": _("The impact radius must be between 0 and %s km.")
                % MAX_RADIUS_KM
            }
        )
    position = _resolve_position(actor, data)
    _check_sharing(actor, data)
    return position


@dataclass
class Filed:
    """A filed incident and who its alert reached (for the banner)."""

    incident: Incident
    alerted: Fanout


def report_incident(actor: Any, data: IncidentInput, *, alert: bool = True) -> Incident:
    """File an incident: validate, save under the actor's scope, analyse impact, alert."""
    return file_incident(actor, data, alert=alert).incident


def file_incident(actor: Any, data: IncidentInput, *, alert: bool = True) -> Filed:
    """report_incident(), also saying who was alerted through which channel."""
    lat, lon, asset, segment = _check_input(actor, data)
    occurred_at = check_occurred_at(data.occurred_at) if data.occurred_at else timezone.now()
    incident = Incident(
        title=data.title.strip()[:200],
        incident_type=data.incident_type,
        occurred_at=occurred_at,
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
    # One audit entry for the report: the row, its audience, its affected assets, its first
    # timeline line.
    with audit.logical_change(incident, AuditAction.CREATE):
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
        alerted = send_alerts(incident, lambda: _("New undersea incident")) if alert else Fanout()
    return Filed(incident, alerted)


def alert_recipients(incident: Incident) -> list[Any]:
    """Focal points and analysts of the owner and affected states, plus subscribers to the
    incident's states, position or assets (an asset subscription only while the subscriber
    may see the asset). notify() then keeps those the incident is shared with and who have not
    muted it."""
    codes = {*incident.affected_states, incident.owner_org.code}
    asset_ids = {str(a["id"]) for a in impact.affected_entries(incident.impact)}
    if incident.asset_id:
        asset_ids.add(str(incident.asset_id))
    subject = AlertSubject(
        states=frozenset(codes),
        point=(incident.lat, incident.lon),
        targets={ASSET: frozenset(asset_ids)},
    )
    return recipients_for(codes, roles=ALERTED_ROLES, subject=subject)


def send_alerts(incident: Incident, headline: Callable[[], str], *, once: bool = False) -> Fanout:
    """notify() releases each alert only to recipients allowed to see the incident; with
    once=True, only to those not alerted about it before. Title and body are rendered in each
    recipient's language."""

    def title() -> str:
        return f"{headline()}: {incident.title} ({incident.reference})"

    def body() -> str:
        return _(
            "%(type)s, severity %(sev)s, status %(status)s. Assets within %(r)g km: %(n)d. States served: %(states)s."
        ) % {
            "type": incident.get_incident_type_display(),
            "sev": incident.severity,
            "status": incident.get_status_display(),
            "r": incident.impact_radius_km,
            # Public assets only: the same text goes to every recipient, in every state.
            "n": sum(1 for a in incident.impact.get("assets", []) if a.get("private_to") is None),
            "states": ", ".join(incident.affected_states) or _("none identified"),
        }

    return fanout(
        incident,
        alert_recipients(incident),
        title=title,
        body=body,
        link=reverse("cui:incident", args=[incident.pk]),
        payload={"reference": incident.reference, "affected_states": incident.affected_states},
        once=once,
        severity=incident.severity,
        states=incident.affected_states,
    )


def alert_newly_shared(incident: Incident) -> int:
    """After the owner widens an incident's audience, alert the focal points and subscribers
    it now reaches; those alerted before hear nothing twice."""
    return len(
        send_alerts(
            incident, lambda: _("Undersea incident shared with you"), once=True
        ).notifications
    )


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

    with audit.logical_change(
        incident,
        AuditAction.UPDATE,
        f"status {previous} → {status}" + (" with note" if note else ""),
    ):
        guarded_write(actor, incident, Action.CHANGE, mutate)
        IncidentUpdate.objects.create(
            incident=incident, author=actor, status_from=previous, status_to=status, text=note
        )
        send_alerts(incident, lambda: _("Status %s") % incident.get_status_display())
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
    # Audited by the save signal as a child of the incident (IncidentAttachment.audit_parent).
    with transaction.atomic():
        att = IncidentAttachment(incident=incident, name=name, size=f.size or 0, uploaded_by=actor)
        att.file.save(name, f, save=False)
        att.save()
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
    """Follow an asset (cui's kind), a state or an area (core's kinds)."""
    target = str(
        asset_id if kind == ASSET and asset_id is not None else state if kind == STATE else ""
    )
    return core_subscriptions.subscribe(
        actor,
        kind,
        target_id=target,
        bbox=bbox,
        point=point if radius_km is not None else None,
        radius_km=radius_km,
    )


def unsubscribe(actor: Any, pk: int) -> None:
    core_subscriptions.unsubscribe(actor, pk)


def _route_fingerprints(org: Organisation) -> dict[str, Any]:
    """Per uploaded route of `org`: a digest of its geometry and its length, for the audit."""
    qs = Asset.objects.filter(owner_org=org)
    return {
        a.external_id: {
            "id": a.pk,
            "name": a.name,
            "geometry_sha256": hashlib.sha256(
                json.dumps(a.geometry, sort_keys=True).encode()
            ).hexdigest(),
            "length_km": a.length_km,
        }
        for a in qs.only("pk", "external_id", "name", "geometry", "length_km")
    }


def check_asset_upload(actor: Any, f: UploadedFile[bytes]) -> str:
    """Refuse at once what the upload job would refuse; returns the file's checked extension."""
    if user_org(actor) is None:
        raise PermissionDenied(_("Your account has no organisation."))
    ensure_grant(actor, Asset, Action.ADD)
    ext = check_upload(f, allowed={".geojson", ".json", ".kml"})
    # Parsing is quick next to writing: malformed or hostile files get their message on the
    # upload page itself, not later on the job page.
    data = f.read()
    f.seek(0)
    if b"\x00" in data:
        raise ValidationError(_("The file contains NUL characters; it is not a text route file."))
    importers.parse_routes(data, f"upload{ext}")
    return ext


def import_asset_routes(
    actor: Any, data: bytes, filename: str, *, label: str = "", job: JobContext | None = None
) -> importers.ImportReport:
    """The actor's organisation's own routes from GeoJSON/KML bytes (`filename` gives the
    format), in bounded transactions; one audit entry for the import."""
    org = user_org(actor)
    if org is None:
        raise PermissionDenied(_("Your account has no organisation."))
    ensure_grant(actor, Asset, Action.ADD)
    if b"\x00" in data:
        # Text formats never hold NUL; PostgreSQL text cannot store it either.
        raise ValidationError(_("The file contains NUL characters; it is not a text route file."))
    before = _route_fingerprints(org)
    report = importers.import_upload(data, filename, org, job)
    after = _route_fingerprints(org)
    # One entry for the upload, naming each route it created or whose geometry it changed
    # (before and after digests), not only a count.
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    audit.record(
        AuditAction.IMPORT,
        actor=actor,
        object_type="cui.asset",
        object_repr=f"{label or filename}: {report.as_dict()['assets']}",
        before={k: before[k] for k in changed if k in before},
        after=changed,
    )
    return report


def upload_assets(actor: Any, f: UploadedFile[bytes]) -> importers.ImportReport:
    ext = check_asset_upload(actor, f)
    return import_asset_routes(actor, f.read(), f"upload{ext}", label=f.name or "")


def _stix_objects(data: bytes | str) -> list[Any]:
    try:
        raw = safejson.loads(data, _("The STIX file"))
    except safejson.HostileJSONError as exc:
        raise ValidationError(exc.messages) from None
    if not isinstance(raw, dict) or raw.get("type") != "bundle":
        raise ValidationError(_("Expected a STIX 2.1 bundle (an object with type “bundle”)."))
    if not isinstance(raw.get("objects"), list) or not raw["objects"]:
        raise ValidationError(_("The bundle contains no incident objects."))
    try:
        bundle = stix2.parse(raw, allow_custom=True)
    except Exception as exc:  # stix2 raises many exception types for invalid content
        raise ValidationError(_("Not a valid STIX 2.1 bundle: %s") % str(exc)[:300]) from None
    return list(getattr(bundle, "objects", None) or [])


def _stix_incident(inc: Any, loc: Any) -> IncidentInput:
    """One STIX incident (and the location it is located at) as a report; ValidationError names
    what is wrong."""
    if loc is None or "latitude" not in loc or "longitude" not in loc:
        raise ValidationError(
            _("Incident %s has no location with latitude/longitude (located-at relationship).")
            % inc["id"]
        )
    tlp = tlp_of(inc.get("object_marking_refs", []), TLP.AMBER)
    props = extension_properties(inc)  # Mufakat's extension, or bare x_mufakat_* of old bundles
    itype = str(props.get("incident_type", IncidentType.UNKNOWN))
    severity = props.get("severity", Severity.MODERATE)
    occurred = props.get("occurred_at")
    try:
        occurred_at = parse_datetime(str(occurred)) if occurred else inc["created"]
    except ValueError:
        occurred_at = None  # well formed but impossible, e.g. 2026-13-45
    if occurred_at is None:
        raise ValidationError(
            {
                "occurred_at": _("Incident %(id)s: %(v)s is not a valid time.")
                % {"id": inc["id"], "v": str(occurred)[:40]}
            }
        )
    depth = props.get("depth_m")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int | float)):
        raise ValidationError({"depth_m": _("Incident %s: depth must be a number.") % inc["id"]})
    return IncidentInput(
        title=str(inc.get("name", ""))[:200],
        incident_type=itype if itype in IncidentType.values else IncidentType.UNKNOWN,
        occurred_at=occurred_at,
        lat=loc["latitude"],
        lon=loc["longitude"],
        depth_m=depth,
        severity=severity if severity in Severity.values else Severity.MODERATE,
        description=str(inc.get("description", "")),
        distribution=Distribution.ORGANISATION,
        tlp=tlp,
        external_ref=inc["id"],
    )


def stix_plan(actor: Any, data: bytes | str) -> list[IncidentInput]:
    """The reports a STIX 2.1 bundle would file for `actor`, every one checked, nothing written
    (the upload page calls it before starting the import job, so bad files get their message at
    once); incidents already imported are left out. ValidationError names what is wrong."""
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
    known = set(
        Incident.objects.filter(
            owner_org=org, external_ref__in=[i["id"] for i in incidents]
        ).values_list("external_ref", flat=True)
    )
    todo: list[IncidentInput] = []
    for inc in incidents:
        if inc["id"] in known:
            continue
        known.add(inc["id"])
        data_in = _stix_incident(inc, located.get(inc["id"]))
        _check_input(actor, data_in)
        todo.append(data_in)
    return todo


def import_stix(actor: Any, data: bytes | str, job: JobContext | None = None) -> list[Incident]:
    """Create incidents from a STIX 2.1 bundle, owned by the importer's organisation, shared with
    nobody else until the importer decides; already-imported ids are skipped. The whole bundle
    is checked before the first write (bad input writes nothing); then each incident is one
    short transaction, so a large bundle never holds the database's write lock for long."""
    todo = stix_plan(actor, data)
    created: list[Incident] = []
    try:
        for n, data_in in enumerate(todo, start=1):
            created.append(report_incident(actor, data_in, alert=False))
            if job is not None:
                job.progress(n, len(todo), _("Importing incidents"))
    finally:  # a cancelled import still accounts for what it created
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
