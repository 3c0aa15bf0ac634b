"""Incident exports: STIX 2.1 (with TLP 2.0 markings), MISP event JSON, GeoJSON and KML.

Functions over incidents the caller has already filtered with restrict(user, "export"). The
affected assets in an export are those the exporting user may see (queries.impact_for): public
assets and their own organisation's uploads.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import stix2
from django.http import HttpResponse

from mufakat.core.choices import TLP, Distribution
from mufakat.core.geo.geometry import display_geometry
from mufakat.core.sharing.markings import TLP2_MARKINGS, tlp_marking
from mufakat.cui.impact import affected_entries
from mufakat.cui.layers import DONE_COLOUR, SEVERITY_COLOURS, STATUS_DONE
from mufakat.cui.models import Asset, Incident, Status
from mufakat.cui.queries import impact_for

NAMESPACE = uuid.UUID("6b0f4a54-3c1e-5d8e-9a57-6d7566616b61")  # Mufakat CUI, fixed for stable ids
# Mufakat's own STIX 2.1 extension (docs/stix-extension-cui.json): typed properties instead of
# bare x_mufakat_* ones, so strict validators and peers know what each property means.
EXTENSION_ID = "extension-definition--3f6d1a9e-7c0b-4e5a-9d2f-8b1c4a6e0d57"
EXTENSION_CREATED = "2026-12-01T00:00:00.000Z"
# The normative JSON Schema ships with the code (no public URL is assumed to be reachable).
EXTENSION_SCHEMA_FILE = Path(__file__).with_name("stix-extension-cui.json")
EXTENSION_SCHEMA = (
    "JSON Schema 'stix-extension-cui.json' shipped with Mufakat (src/mufakat/cui/); "
    "properties documented in docs/cui.md, 'STIX extension'."
)
PRODUCER = "identity--9a4c2f7e-1b3d-4e6a-8c5f-2d7b0e1a3c94"  # "Mufakat", the extension's author


def _sid(kind: str, key: str) -> str:
    """A stable STIX id in UUIDv4 form, as STIX 2.1 asks of SDOs and SROs: the version-4 bits
    over 122 pseudo-random bits drawn from SHA-256 of the object's key (not a name-based UUIDv5,
    which validators flag), so re-exports and peers keep recognising the same object."""
    digest = hashlib.sha256(NAMESPACE.bytes + key.encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def extension_definition() -> stix2.ExtensionDefinition:
    return stix2.ExtensionDefinition(
        id=EXTENSION_ID,
        created=EXTENSION_CREATED,
        modified=EXTENSION_CREATED,
        created_by_ref=PRODUCER,
        name="Mufakat undersea infrastructure",
        description=(
            "Properties of undersea-infrastructure incidents (type, severity 1-4, lifecycle "
            "status, time, depth, affected states) and assets (cable, pipeline)."
        ),
        schema=EXTENSION_SCHEMA,
        version="1.0.0",
        extension_types=["property-extension"],
    )


def producer_identity() -> stix2.Identity:
    return stix2.Identity(
        id=PRODUCER,
        name="Mufakat",
        identity_class="system",
        created=EXTENSION_CREATED,
        modified=EXTENSION_CREATED,
    )


def _ext(**props: Any) -> dict[str, Any]:
    return {
        EXTENSION_ID: {
            "extension_type": "property-extension",
            # STIX forbids empty lists; an absent property means "none".
            **{k: v for k, v in props.items() if v is not None and v != []},
        }
    }


def extension_properties(obj: Any) -> dict[str, Any]:
    """Mufakat's properties of an imported STIX object: the extension, else the bare
    x_mufakat_* properties of bundles exported before it existed."""
    ext = (obj.get("extensions") or {}).get(EXTENSION_ID)
    if ext:
        return {k: v for k, v in dict(ext).items() if k != "extension_type"}
    prefix = "x_mufakat_"
    return {k[len(prefix) :]: obj[k] for k in obj if k.startswith(prefix)}


def incident_colour(incident: Incident) -> str:
    return (
        DONE_COLOUR
        if incident.status in STATUS_DONE
        else SEVERITY_COLOURS.get(incident.severity, "#b42318")
    )


def infrastructure(asset_id: int, name: str, kind: str, states: list[str]) -> stix2.Infrastructure:
    """An asset as STIX; the same id in every export and in the TAXII assets collection."""
    return stix2.Infrastructure(
        id=_sid("infrastructure", f"asset:{asset_id}"),
        created="2022-11-11T00:00:00.000Z",
        modified="2022-11-11T00:00:00.000Z",
        name=name,
        # No vocabulary value fits a cable; "unknown" is the vocabulary's own fallback and the
        # kind travels in the extension.
        infrastructure_types=["unknown"],
        extensions=_ext(asset_kind=kind, states=states),
    )


def stix_bundle(incidents: Iterable[Incident], user: Any) -> stix2.Bundle:
    """Incidents, their locations and the assets they affect (as this user may see them)."""
    ext_def = extension_definition()
    producer = producer_identity()
    objects: dict[str, Any] = {producer.id: producer, ext_def.id: ext_def}
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
            extensions=_ext(
                incident_type=inc.incident_type,
                severity=inc.severity,
                status=inc.status,
                occurred_at=inc.occurred_at.isoformat(),
                depth_m=inc.depth_m,
                uncertainty_km=inc.uncertainty_km,
                affected_states=inc.affected_states,
            ),
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
        # The affected set only: assets that were merely nearby are not part of the incident.
        for a in affected_entries(impact_for(user, inc)):
            infra = infrastructure(a["id"], a["name"], a["kind"], a.get("states") or [])
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
    return stix2.Bundle(objects=list(objects.values()))


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
                    for s in inc.affected_states  # states served by affected cables only
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
