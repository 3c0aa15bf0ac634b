"""Asset imports: TeleGeography cables and landing points, GEM pipelines, user GeoJSON/KML.

Each import first parses and validates everything (bad input writes nothing), then writes in
bounded transactions of BATCH_SIZE routes with bulk statements, so that no import holds the
database's write lock for more than a moment: an upload of 10,000 routes in one transaction
held SQLite's lock for 44 s and other states' log-ins failed (benchmarks/import_lock.py).
Existing rows are matched by (source, source id) and the report says how many were created,
updated or left unchanged, so re-running is safe, also after a cancelled or interrupted import.
Progress goes to a core.jobs JobContext (web job or Rich bar in the CLI), which raises
core.jobs.Cancelled between batches when the user cancelled.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mufakat.core.geo.geometry import (
    Feature,
    GeoError,
    check_lat_lon,
    line_length_km,
    lines_of,
    load_json,
    parse_geojson,
    parse_kml,
    segments_of,
)
from mufakat.core.jobs import JobContext
from mufakat.cui.geo import DATA_DIR, iso2
from mufakat.cui.models import Asset, AssetKind, AssetSource, LandingPoint, Segment

# Routes per transaction: a few tens of ms of writes each on SQLite (benchmarks/import_lock.py), so
# another request waiting for the write lock waits about that long, never seconds.
BATCH_SIZE = 100
SQLITE_PAUSE_SECONDS = 0.1


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportReport:
    assets: Counts = field(default_factory=Counts)
    landing_points: Counts = field(default_factory=Counts)
    segments: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "assets": self.assets.as_dict(),
            "landing_points": self.landing_points.as_dict(),
            "segments_written": self.segments,
        }


def _digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class _Item:
    """One route to write, validated before anything is written."""

    external_id: str
    values: dict[str, Any]
    segments: list[tuple[float, float, float, float]]  # computed before the transaction
    digest: str
    landing_points: list[LandingPoint] | None = None


def _prepare(
    source: str,
    external_id: str,
    *,
    values: dict[str, Any],
    lines: list[list[tuple[float, float]]],
    landing_points: list[LandingPoint] | None = None,
    validate: bool = True,
) -> _Item:
    if validate:
        _validate(source, external_id, values)
    digest = _digest({**values, "lp": sorted(lp.external_id for lp in landing_points or [])})
    return _Item(external_id, values, list(segments_of(lines)), digest, landing_points)


def _validate(source: str, external_id: str, values: dict[str, Any]) -> None:
    Asset(source=source, external_id=external_id, **values).full_clean(
        exclude=["landing_points", "owner_org"],
        validate_unique=False,
        validate_constraints=False,  # a query per route; the upsert keys on (source, id)
    )


@dataclass
class _Plan:
    """What one batch will write, worked out before its transaction starts."""

    to_create: dict[str, Asset] = field(default_factory=dict)
    to_update: dict[str, Asset] = field(default_factory=dict)
    written: dict[str, _Item] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)


def _plan_batch(source: str, items: list[_Item]) -> _Plan:
    """One read and the model objects, outside the write transaction: building objects is most
    of the time a batch takes, and none of it needs the write lock."""
    existing = {
        a.external_id: a
        for a in Asset.objects.filter(
            source=source, external_id__in={i.external_id for i in items}
        ).only("pk", "external_id", "content_hash")
    }
    plan = _Plan()
    for item in items:
        ext = item.external_id
        asset = plan.to_create.get(ext) or plan.to_update.get(ext) or existing.get(ext)
        if asset is not None and asset.content_hash == item.digest:
            plan.counts.add("unchanged")
            continue
        if asset is None:
            asset = plan.to_create[ext] = Asset(source=source, external_id=ext)
            plan.counts.add("created")
        else:  # a row from before, or the same route twice in one file: the last one wins
            if ext not in plan.to_create:
                plan.to_update[ext] = asset
            plan.counts.add("updated")
        for k, v in item.values.items():
            setattr(asset, k, v)
        asset.content_hash = item.digest
        plan.written[ext] = item
    return plan


def _apply_batch(plan: _Plan) -> int:
    """The batch's bulk statements, inside the caller's transaction; returns segments written."""
    if not plan.written:
        return 0
    Asset.objects.bulk_create(plan.to_create.values())
    if plan.to_update:
        now = timezone.now()  # bulk_update does not apply auto_now; the impact index needs it
        fields = {k for ext in plan.to_update for k in plan.written[ext].values}
        for a in plan.to_update.values():
            a.updated = now
        Asset.objects.bulk_update(
            plan.to_update.values(), sorted({*fields, "content_hash", "updated"})
        )
        # Through the ORM: incidents that pointed at an old segment must let go of it.
        Segment.objects.filter(asset__in=[a.pk for a in plan.to_update.values()]).delete()
    assets = {**plan.to_update, **plan.to_create}
    through = Asset.landing_points.through
    with_points = [ext for ext, item in plan.written.items() if item.landing_points is not None]
    if with_points:
        through.objects.filter(asset_id__in=[assets[ext].pk for ext in with_points]).delete()
        through.objects.bulk_create(
            through(asset_id=assets[ext].pk, landingpoint_id=lp.pk)
            for ext in with_points
            for lp in {p.pk: p for p in plan.written[ext].landing_points or []}.values()
        )
    rows = [
        (assets[ext].pk, i, x1, y1, x2, y2)
        for ext, item in plan.written.items()
        for i, (x1, y1, x2, y2) in enumerate(item.segments)
    ]
    # Plain parameterised INSERTs (SQLite and PostgreSQL alike): segments are derived rows with
    # no signals or defaults, and building 3 model objects per route doubled the lock time.
    meta = Segment._meta
    column = {f.name: str(f.column) for f in meta.concrete_fields}
    columns = ", ".join(
        connection.ops.quote_name(column[f])
        for f in ("asset", "seq", "lon1", "lat1", "lon2", "lat2")
    )
    sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608 - names from the model, values parameterised
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def _write_assets(
    source: str,
    items: list[_Item],
    report: ImportReport,
    job: JobContext | None,
    *,
    message: str,
    batch_size: int | None = None,
) -> None:
    """Write in bounded transactions; progress (and a pending cancel) between batches."""
    batch_size = batch_size or BATCH_SIZE
    total = len(items)
    if job is not None:
        job.progress(0, total, message)
    for start in range(0, total, batch_size):
        batch = items[start : start + batch_size]
        plan = _plan_batch(source, batch)
        try:
            with transaction.atomic():
                written = _apply_batch(plan)
        except IntegrityError:
            # Another import wrote one of these routes after the plan was read: plan again,
            # this time under the write lock.
            with transaction.atomic():
                plan = _plan_batch(source, batch)
                written = _apply_batch(plan)
        for outcome in ("created", "updated", "unchanged"):
            setattr(
                report.assets,
                outcome,
                getattr(report.assets, outcome) + getattr(plan.counts, outcome),
            )
        report.segments += written
        if job is not None:
            job.progress(min(start + batch_size, total), total, message)
        if connection.vendor == "sqlite" and start + batch_size < total:
            # SQLite's lock is not fair: a waiting writer retries every 100 ms at most and
            # would miss the instant between two batches, waiting out the whole import
            # (measured: 6 s). A pause as long as that retry lets every waiting writer in.
            time.sleep(SQLITE_PAUSE_SECONDS)


def _parse_km(text: Any) -> float | None:
    m = re.search(r"[\d,.]+", str(text or ""))
    if not m:
        return None
    try:
        return float(m.group().replace(",", ""))
    except ValueError:
        return None


def _read(path: Path) -> Any:
    if not path.is_file():
        raise GeoError(f"{path.name} is missing from {path.parent}.")
    return load_json(path.read_bytes(), path.name)


def _cable_routes(
    geo: dict[str, Any],
) -> tuple[dict[str, list[list[tuple[float, float]]]], dict[str, str]]:
    """Lines per cable id (a cable may span several features) and its map colour."""
    routes: dict[str, list[list[tuple[float, float]]]] = {}
    colours: dict[str, str] = {}
    for i, f in enumerate(geo["features"]):
        props = f.get("properties") or {}
        cid = str(props.get("id") or "")
        if not cid:
            raise GeoError(f"cable-geo.json, feature {i}: no cable id.")
        routes.setdefault(cid, []).extend(
            lines_of(f.get("geometry"), f"cable-geo.json, feature {i} ({cid})")
        )
        colours[cid] = str(props.get("color") or "")[:7]
    return routes, colours


def _positions(lp_geo: dict[str, Any]) -> dict[str, tuple[float, float]]:
    positions: dict[str, tuple[float, float]] = {}
    for i, f in enumerate(lp_geo["features"]):
        props = f.get("properties") or {}
        coords = (f.get("geometry") or {}).get("coordinates") or [None, None]
        positions[str(props.get("id"))] = check_lat_lon(
            coords[1], coords[0], f"landing-point-geo.json, feature {i}"
        )
    return positions


def _upsert_landing_points(
    cables: list[dict[str, Any]], positions: dict[str, tuple[float, float]], report: ImportReport
) -> dict[str, LandingPoint]:
    """All landing points in one short transaction of bulk writes (about 1,400 rows at most)."""
    wanted: dict[str, dict[str, Any]] = {}
    for c in cables:
        for lp in c.get("landing_points") or []:
            lid = str(lp.get("id") or "")
            if not lid or lid in wanted:
                continue
            lat, lon = positions.get(lid, (None, None))
            country = str(lp.get("country") or "")
            wanted[lid] = {
                "name": str(lp.get("name") or lid)[:200],
                "country": iso2(country),
                "country_name": country[:100],
                "lat": lat,
                "lon": lon,
            }
    with transaction.atomic():
        lps = {o.external_id: o for o in LandingPoint.objects.filter(external_id__in=wanted)}
        new: list[LandingPoint] = []
        changed: list[LandingPoint] = []
        for lid, values in wanted.items():
            obj = lps.get(lid)
            if obj is None:
                obj = lps[lid] = LandingPoint(external_id=lid, **values)
                new.append(obj)
                report.landing_points.add("created")
            elif any(getattr(obj, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(obj, k, v)
                changed.append(obj)
                report.landing_points.add("updated")
            else:
                report.landing_points.add("unchanged")
        LandingPoint.objects.bulk_create(new, batch_size=500)
        LandingPoint.objects.bulk_update(
            changed, ["name", "country", "country_name", "lat", "lon"], batch_size=500
        )
    return {lid: lps[lid] for lid in wanted}


def import_cables(directory: Path, job: JobContext | None = None) -> ImportReport:
    """Import cables.json + cable-geo.json + landing-point-geo.json from a TeleGeography folder."""
    cables = _read(directory / "cables.json")
    geo = _read(directory / "cable-geo.json")
    lp_geo = _read(directory / "landing-point-geo.json")
    if not isinstance(cables, list) or not all(isinstance(c, dict) and c.get("id") for c in cables):
        raise GeoError("cables.json: expected a list of cable objects with an id.")
    if not isinstance(geo, dict) or not isinstance(geo.get("features"), list):
        raise GeoError("cable-geo.json: expected a GeoJSON FeatureCollection.")
    if not isinstance(lp_geo, dict) or not isinstance(lp_geo.get("features"), list):
        raise GeoError("landing-point-geo.json: expected a GeoJSON FeatureCollection.")

    routes, colours = _cable_routes(geo)
    positions = _positions(lp_geo)

    # Everything is checked before the first write: bad input imports nothing.
    planned: list[tuple[str, dict[str, Any], list[list[tuple[float, float]]], list[str]]] = []
    for c in cables:
        cid = str(c["id"])
        lines = routes.get(cid)
        if not lines:
            continue  # cables without a drawn route cannot be placed near an incident
        values = {
            "kind": AssetKind.CABLE,
            "name": str(c.get("name") or cid)[:200],
            "owners": str(c.get("owners") or ""),
            "suppliers": str(c.get("suppliers") or ""),
            "rfs_year": c.get("rfs_year") if isinstance(c.get("rfs_year"), int) else None,
            "is_planned": bool(c.get("is_planned")),
            "length_km": _parse_km(c.get("length")) or round(line_length_km(lines), 1),
            "url": str(c.get("url") or "")[:300],
            "geometry": Feature(cid, {}, lines).geometry,
            "properties": {"rfs": c.get("rfs"), "notes": c.get("notes"), "length": c.get("length")},
            "colour": colours.get(cid, ""),
        }
        lp_ids = [str(lp.get("id")) for lp in c.get("landing_points") or []]
        planned.append((cid, values, lines, lp_ids))
    for cid, values, _lines, _lp in planned:  # every field checked before the first write
        _validate(AssetSource.TELEGEOGRAPHY, cid, values)

    report = ImportReport()
    lps = _upsert_landing_points(cables, positions, report)
    items: list[_Item] = []
    for cid, values, lines, lp_ids in planned:
        points = [lps[i] for i in lp_ids if i in lps]
        values["states"] = sorted({p.country for p in points if p.country})
        items.append(
            _prepare(
                AssetSource.TELEGEOGRAPHY,
                cid,
                values=values,
                lines=lines,
                landing_points=points,
                validate=False,
            )
        )
    _write_assets(AssetSource.TELEGEOGRAPHY, items, report, job, message=_("Importing cables"))
    return report


def _countries(text: Any) -> list[str]:
    return sorted({c for part in re.split(r"[;,]", str(text or "")) if (c := iso2(part))})


def import_pipelines(path: Path, job: JobContext | None = None) -> ImportReport:
    """Import GEM pipeline routes (sea-pipelines-gem.geojson)."""
    if not path.is_file():
        raise GeoError(f"{path} does not exist.")
    # A project may be split over several features: merge its lines into one asset.
    merged: dict[str, Feature] = {}
    for i, f in enumerate(parse_geojson(path.read_bytes(), path.name)):
        pid = str(f.properties.get("project_id") or "")
        if not pid:
            raise GeoError(f"{path.name}, feature {i}: no project_id.")
        if pid in merged:
            merged[pid].lines.extend(f.lines)
        else:
            merged[pid] = f
    items: list[_Item] = []
    for pid, f in merged.items():
        p = f.properties
        named = p.get("gem_name_match")
        values = {
            "kind": AssetKind.PIPELINE,
            "name": str(named or f"GEM pipeline {pid}")[:200],
            "length_km": round(line_length_km(f.lines), 1),
            "url": str(p.get("gem_wiki_url") or "")[:300],
            "states": _countries(p.get("gem_countries_match")),
            "geometry": f.geometry,
            "properties": p,
            "colour": "#9a3412" if p.get("category") == "liquid-pipelines" else "#7c3aed",
        }
        items.append(_prepare(AssetSource.GEM, pid, values=values, lines=f.lines))
    report = ImportReport()
    _write_assets(AssetSource.GEM, items, report, job, message=_("Importing pipelines"))
    return report


def parse_routes(data: bytes, filename: str) -> list[Feature]:
    """The line features of an uploaded GeoJSON or KML file (the name gives the format)."""
    return (
        parse_kml(data, filename)
        if filename.lower().endswith(".kml")
        else parse_geojson(data, filename)
    )


def import_upload(
    data: bytes, filename: str, org: Any, job: JobContext | None = None
) -> ImportReport:
    """A member organisation's own GeoJSON/KML route layer; features keyed by name per org."""
    if job is not None:
        job.progress(0, None, _("Reading %s") % filename)
    features = parse_routes(data, filename)
    items: list[_Item] = []
    for f in features:
        kind = str(f.properties.get("kind") or AssetKind.OTHER)
        if kind not in AssetKind.values:
            raise GeoError(
                f"{filename}, {f.name}: unknown kind {kind!r} (use cable, pipeline or other)."
            )
        raw_states = f.properties.get("states") or []
        states = (
            sorted({str(s).upper() for s in raw_states}) if isinstance(raw_states, list) else []
        )
        if any(len(s) != 2 or not s.isalpha() for s in states):
            raise GeoError(f"{filename}, {f.name}: states must be ISO alpha-2 codes.")
        values = {
            "kind": kind,
            "name": f.name,
            "owners": str(f.properties.get("owners") or "")[:1000],
            "length_km": round(line_length_km(f.lines), 1),
            "states": states,
            "geometry": f.geometry,
            "properties": {
                k: v
                for k, v in f.properties.items()
                if isinstance(v, str | int | float | bool | None)
            },
            "owner_org": org,
        }
        ext_id = f"{org.code}:{slugify(f.name)[:140] or 'route'}"
        items.append(_prepare(AssetSource.UPLOAD, ext_id, values=values, lines=f.lines))
    report = ImportReport()
    _write_assets(AssetSource.UPLOAD, items, report, job, message=_("Importing routes"))
    return report


def shipped_cables_dir() -> Path:
    return DATA_DIR


def shipped_pipelines() -> Path:
    return DATA_DIR / "sea-pipelines-gem.geojson"
