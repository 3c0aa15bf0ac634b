"""Asset imports: TeleGeography cables and landing points, GEM pipelines, user GeoJSON/KML.

Every import runs in one transaction (all or nothing), matches existing rows by (source, source
id) and reports how many were created, updated or left unchanged, so re-running is safe.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

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
from mufakat.cui.geo import DATA_DIR, iso2
from mufakat.cui.models import Asset, AssetKind, AssetSource, LandingPoint, Segment

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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
    asset_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "assets": self.assets.as_dict(),
            "landing_points": self.landing_points.as_dict(),
            "segments_written": self.segments,
        }


def _digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _upsert_asset(
    source: str,
    external_id: str,
    *,
    values: dict[str, Any],
    lines: list[list[tuple[float, float]]],
    report: ImportReport,
    landing_points: list[LandingPoint] | None = None,
) -> Asset:
    digest = _digest({**values, "lp": sorted(lp.external_id for lp in landing_points or [])})
    asset: Asset | None = Asset.objects.filter(source=source, external_id=external_id).first()
    if asset is not None and asset.content_hash == digest:
        report.assets.add("unchanged")
        report.asset_ids.append(asset.pk)
        return asset
    outcome = "created" if asset is None else "updated"
    if asset is None:
        asset = Asset(source=source, external_id=external_id)
    for k, v in values.items():
        setattr(asset, k, v)
    asset.content_hash = digest
    asset.full_clean(exclude=["landing_points", "owner_org"], validate_unique=False)
    asset.save()
    if landing_points is not None:
        asset.landing_points.set(landing_points)
    asset.segments.all().delete()
    segs = [
        Segment(asset=asset, seq=i, lon1=x1, lat1=y1, lon2=x2, lat2=y2)
        for i, (x1, y1, x2, y2) in enumerate(segments_of(lines))
    ]
    Segment.objects.bulk_create(segs, batch_size=2000)
    report.segments += len(segs)
    report.assets.add(outcome)
    report.asset_ids.append(asset.pk)
    return asset


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
    lps: dict[str, LandingPoint] = {}
    for c in cables:
        for lp in c.get("landing_points") or []:
            lid = str(lp.get("id") or "")
            if not lid or lid in lps:
                continue
            lat, lon = positions.get(lid, (None, None))
            country = str(lp.get("country") or "")
            values = {
                "name": str(lp.get("name") or lid)[:200],
                "country": iso2(country),
                "country_name": country[:100],
                "lat": lat,
                "lon": lon,
            }
            obj = LandingPoint.objects.filter(external_id=lid).first()
            if obj is None:
                obj = LandingPoint.objects.create(external_id=lid, **values)
                report.landing_points.add("created")
            elif any(getattr(obj, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(obj, k, v)
                obj.save()
                report.landing_points.add("updated")
            else:
                report.landing_points.add("unchanged")
            lps[lid] = obj
    return lps


def import_cables(directory: Path, progress: Progress | None = None) -> ImportReport:
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

    report = ImportReport()
    total = len(cables)
    with transaction.atomic():
        lps = _upsert_landing_points(cables, positions, report)
        for n, c in enumerate(cables, start=1):
            cid = str(c["id"])
            lines = routes.get(cid)
            if not lines:
                # Cables without a drawn route cannot be placed near an incident; skip them.
                if progress:
                    progress("cables", n, total)
                continue
            points = [
                lps[str(lp["id"])]
                for lp in c.get("landing_points") or []
                if str(lp.get("id")) in lps
            ]
            values = {
                "kind": AssetKind.CABLE,
                "name": str(c.get("name") or cid)[:200],
                "owners": str(c.get("owners") or ""),
                "suppliers": str(c.get("suppliers") or ""),
                "rfs_year": c.get("rfs_year") if isinstance(c.get("rfs_year"), int) else None,
                "is_planned": bool(c.get("is_planned")),
                "length_km": _parse_km(c.get("length")) or round(line_length_km(lines), 1),
                "url": str(c.get("url") or "")[:300],
                "states": sorted({p.country for p in points if p.country}),
                "geometry": Feature(cid, {}, lines).geometry,
                "properties": {
                    "rfs": c.get("rfs"),
                    "notes": c.get("notes"),
                    "length": c.get("length"),
                },
                "colour": colours.get(cid, ""),
            }
            _upsert_asset(
                AssetSource.TELEGEOGRAPHY,
                cid,
                values=values,
                lines=lines,
                report=report,
                landing_points=points,
            )
            if progress:
                progress("cables", n, total)
    return report


def _countries(text: Any) -> list[str]:
    return sorted({c for part in re.split(r"[;,]", str(text or "")) if (c := iso2(part))})


def import_pipelines(path: Path, progress: Progress | None = None) -> ImportReport:
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
    features = list(merged.values())
    report = ImportReport()
    with transaction.atomic():
        for n, (pid, f) in enumerate(merged.items(), start=1):
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
            _upsert_asset(AssetSource.GEM, pid, values=values, lines=f.lines, report=report)
            if progress:
                progress("pipelines", n, len(features))
    return report


def import_upload(data: bytes, filename: str, org: Any) -> ImportReport:
    """A member organisation's own GeoJSON/KML route layer; features keyed by name per org."""
    features = (
        parse_kml(data, filename)
        if filename.lower().endswith(".kml")
        else parse_geojson(data, filename)
    )
    report = ImportReport()
    with transaction.atomic():
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
            _upsert_asset(AssetSource.UPLOAD, ext_id, values=values, lines=f.lines, report=report)
    return report


def shipped_cables_dir() -> Path:
    return DATA_DIR


def shipped_pipelines() -> Path:
    return DATA_DIR / "sea-pipelines-gem.geojson"
