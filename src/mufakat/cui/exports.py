"""Incident exports: STIX 2.1 (with TLP 2.0 markings), MISP event JSON, GeoJSON and KML.

Functions over incidents the caller has already filtered with restrict(user, "export"). The
affected assets in an export are those the exporting user may see (queries.impact_for): public
assets and their own organisation's uploads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

import stix2
from django.http import HttpResponse

from mufakat.core.choices import TLP, Distribution
from mufakat.core.geo.geometry import display_geometry
from mufakat.core.sharing.markings import TLP2_MARKINGS, tlp_marking
from mufakat.cui.layers import DONE_COLOUR, SEVERITY_COLOURS, STATUS_DONE
from mufakat.cui.models import Asset, AssetKind, Incident, Status
from mufakat.cui.queries import impact_for

NAMESPACE = uuid.UUID("6b0f4a54-3c1e-5d8e-9a57-6d7566616b61")  # Mufakat CUI, fixed for stable ids


def _sid(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, key)}"


def incident_colour(incident: Incident) -> str:
    return (
        DONE_COLOUR
        if incident.status in STATUS_DONE
        else SEVERITY_COLOURS.get(incident.severity, "#b42318")
    )


def stix_bundle(incidents: Iterable[Incident], user: Any) -> stix2.Bundle:
    objects: dict[str, Any] = {}
    for inc in incidents:
        mark = tlp_marking(inc.tlp)
        objects[mark.id] = mark
        org = inc.owner_org
        ident = stix2.Identity(
            id=_sid("identity", f"org:{org.code}"),
            name=org.name,
            identity_class="organization",
            created="2026-01-01T00:00:00.000Z",
            modified="2026-01-01T00:00:00.000Z",
        )
        objects[ident.id] = ident
        refs = [mark.id]
        incident = stix2.Incident(
            id=_sid("incident", f"incident:{inc.pk}"),
            created=inc.created,
            modified=inc.updated,
            name=inc.title,
            description=inc.description or inc.title,
            created_by_ref=ident.id,
            object_marking_refs=refs,
            labels=[inc.incident_type],
            external_references=[{"source_name": "mufakat", "external_id": inc.reference}],
            x_mufakat_incident_type=inc.incident_type,
            x_mufakat_severity=inc.severity,
            x_mufakat_status=inc.status,
            x_mufakat_occurred_at=inc.occurred_at.isoformat(),
            x_mufakat_depth_m=inc.depth_m,
            x_mufakat_affected_states=inc.affected_states,
            allow_custom=True,
        )
        objects[incident.id] = incident
        loc = stix2.Location(
            id=_sid("location", f"incident:{inc.pk}"),
            created=inc.created,
            modified=inc.updated,
            latitude=inc.lat,
            longitude=inc.lon,
            precision=inc.uncertainty_km * 1000,
            object_marking_refs=refs,
        )
        objects[loc.id] = loc
        rel = stix2.Relationship(
            id=_sid("relationship", f"incident:{inc.pk}:loc"),
            created=inc.created,
            modified=inc.updated,
            relationship_type="located-at",
            source_ref=incident.id,
            target_ref=loc.id,
            object_marking_refs=refs,
        )
        objects[rel.id] = rel
        for a in impact_for(user, inc)["assets"]:
            infra = stix2.Infrastructure(
                id=_sid("infrastructure", f"asset:{a['id']}"),
                created="2022-11-11T00:00:00.000Z",
                modified="2022-11-11T00:00:00.000Z",
                name=a["name"],
                infrastructure_types=[
                    "undersea-cable" if a["kind"] == AssetKind.CABLE else "undersea-" + a["kind"]
                ],
                allow_custom=True,
            )
            objects[infra.id] = infra
            link = stix2.Relationship(
                id=_sid("relationship", f"incident:{inc.pk}:asset:{a['id']}"),
                created=inc.created,
                modified=inc.updated,
                relationship_type="related-to",
                source_ref=incident.id,
                target_ref=infra.id,
                description=f"{a['distance_km']:.1f} km from the reported position",
                object_marking_refs=refs,
            )
            objects[link.id] = link
    return stix2.Bundle(objects=list(objects.values()), allow_custom=True)


MISP_DISTRIBUTION: dict[str, int] = {
    Distribution.ORGANISATION: 0,
    Distribution.NAMED: 0,
    Distribution.GROUP: 4,
    Distribution.ASEAN: 1,
    Distribution.ASEAN_PLUS: 2,
    Distribution.PUBLIC: 3,
}
MISP_THREAT = {4: 1, 3: 1, 2: 2, 1: 3}  # MISP: 1 high, 2 medium, 3 low
MISP_ANALYSIS: dict[str, int] = {
    Status.REPORTED: 0,
    Status.RESTORED: 2,
    Status.CLOSED: 2,
}  # else 1 (ongoing)


def _misp_attr(rel: str, typ: str, value: Any) -> dict[str, Any]:
    return {"object_relation": rel, "type": typ, "value": str(value), "to_ids": False}


def misp_event(inc: Incident) -> dict[str, Any]:
    tlp_tag = "tlp:" + TLP2_MARKINGS[inc.tlp][1]
    return {
        "Event": {
            "uuid": str(uuid.uuid5(NAMESPACE, f"incident:{inc.pk}")),
            "info": f"{inc.reference}: {inc.title}",
            "date": inc.occurred_at.date().isoformat(),
            "timestamp": str(int(inc.updated.timestamp())),
            "threat_level_id": str(MISP_THREAT.get(inc.severity, 4)),
            "analysis": str(MISP_ANALYSIS.get(inc.status, 1)),
            "distribution": str(MISP_DISTRIBUTION[inc.distribution]),
            "published": False,
            "Orgc": {"name": inc.owner_org.name},
            "Tag": [{"name": tlp_tag}, {"name": f'mufakat:incident-type="{inc.incident_type}"'}],
            "Attribute": [
                {
                    "type": "text",
                    "category": "Other",
                    "value": inc.description or inc.title,
                    "to_ids": False,
                },
                *(
                    {
                        "type": "text",
                        "category": "Other",
                        "value": f"affected-state:{s}",
                        "to_ids": False,
                    }
                    for s in inc.affected_states
                ),
            ],
            "Object": [
                {
                    "name": "geolocation",
                    "meta-category": "misc",
                    "Attribute": [
                        _misp_attr("latitude", "float", inc.lat),
                        _misp_attr("longitude", "float", inc.lon),
                        _misp_attr("text", "text", inc.title),
                    ],
                }
            ],
        }
    }


def misp_json(incidents: list[Incident]) -> dict[str, Any]:
    if len(incidents) == 1:
        return misp_event(incidents[0])
    return {"response": [misp_event(i) for i in incidents]}


def incident_feature(inc: Incident) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": inc.pk,
        "geometry": {"type": "Point", "coordinates": [inc.lon, inc.lat]},
        "properties": {
            "id": inc.pk,
            "reference": inc.reference,
            "name": inc.title,
            "incident_type": inc.incident_type,
            "severity": inc.severity,
            "status": inc.status,
            "occurred_at": inc.occurred_at.isoformat(),
            "owner": inc.owner_org.code,
            "tlp": inc.tlp,
            "affected_states": inc.affected_states,
            "colour": incident_colour(inc),
        },
    }


def geojson(incidents: Iterable[Incident]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [incident_feature(i) for i in incidents]}


def kml(incidents: Iterable[Incident]) -> str:
    marks = []
    for inc in incidents:
        desc = (
            f"{inc.get_incident_type_display()} · severity {inc.severity} · {inc.get_status_display()} · "
            f"{TLP(inc.tlp).label} · {inc.occurred_at.isoformat()}\n{inc.description}"
        )
        marks.append(
            "<Placemark>"
            f"<name>{escape(inc.reference + ': ' + inc.title)}</name>"
            f"<description>{escape(desc)}</description>"
            f"<Point><coordinates>{inc.lon},{inc.lat},0</coordinates></Point>"
            "</Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Mufakat undersea incidents</name>'
        + "".join(marks)
        + "</Document></kml>\n"
    )


def asset_feature(a: Asset, *, for_display: bool = False) -> dict[str, Any]:
    """One asset as a GeoJSON feature; for_display simplifies the route for drawing only."""
    return {
        "type": "Feature",
        "id": a.pk,
        "geometry": display_geometry(a.geometry) if for_display else a.geometry,
        "properties": {"id": a.pk, "name": a.name, "kind": a.kind, "colour": a.colour or None},
    }


FORMATS = {
    "stix": ("application/stix+json;version=2.1", "json"),
    "misp": ("application/json", "misp.json"),
    "geojson": ("application/geo+json", "geojson"),
    "kml": ("application/vnd.google-earth.kml+xml", "kml"),
}


def response(user: Any, fmt: str, incidents: list[Incident]) -> HttpResponse:
    """The file download for an export the caller has already limited with restrict(user, "export");
    the export is written to the audit log."""
    from mufakat.core.sharing.services import record_export

    ctype, ext = FORMATS[fmt]
    body = render(fmt, incidents, user)
    record_export(user, Incident, [i.pk for i in incidents], fmt)
    resp = HttpResponse(body, content_type=ctype)
    resp["Content-Disposition"] = f'attachment; filename="cui-incidents.{ext}"'
    return resp


def render(fmt: str, incidents: list[Incident], user: Any) -> str:
    if fmt == "stix":
        return str(stix_bundle(incidents, user).serialize(pretty=True))
    if fmt == "misp":
        return json.dumps(misp_json(incidents), indent=2)
    if fmt == "geojson":
        return json.dumps(geojson(incidents))
    if fmt == "kml":
        return kml(incidents)
    raise ValueError(fmt)
