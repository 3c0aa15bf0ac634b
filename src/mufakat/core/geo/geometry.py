"""Generic geography for every module: coordinate checks, geodesic distance, GeoJSON/KML line
parsing (KML through defusedxml), display simplification. Pure functions, no database.

Sea-lane routing is in `core.geo.sealanes`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from defusedxml import ElementTree
from django.core.exceptions import ValidationError
from geographiclib.geodesic import Geodesic
from shapely.geometry import mapping, shape

EARTH_KM = 6371.0088
LINE_TYPES = {"LineString", "MultiLineString"}


class GeoError(ValidationError):
    """Malformed or out-of-range geographic input; the message names the problem."""


def check_lat_lon(lat: Any, lon: Any, where: str = "") -> tuple[float, float]:
    prefix = f"{where}: " if where else ""
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError):
        raise GeoError(f"{prefix}coordinates must be numbers, got {lat!r}, {lon!r}.") from None
    if not (math.isfinite(la) and math.isfinite(lo)):
        raise GeoError(f"{prefix}coordinates must be finite numbers.")
    if not -90 <= la <= 90:
        raise GeoError(f"{prefix}latitude {la} is out of range (-90 to 90).")
    if not -180 <= lo <= 180:
        raise GeoError(f"{prefix}longitude {lo} is out of range (-180 to 180).")
    return la, lo


def _line(coords: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(coords, list) or len(coords) < 2:
        raise GeoError(f"{where}: a line needs at least two positions.")
    out = []
    for i, pos in enumerate(coords):
        if not isinstance(pos, list | tuple) or len(pos) < 2:
            raise GeoError(f"{where}, position {i}: expected [longitude, latitude].")
        lat, lon = check_lat_lon(pos[1], pos[0], f"{where}, position {i}")
        out.append((lon, lat))
    return out


def lines_of(geometry: Any, where: str = "geometry") -> list[list[tuple[float, float]]]:
    """The (lon, lat) lines of a LineString/MultiLineString GeoJSON geometry, validated."""
    if not isinstance(geometry, dict) or geometry.get("type") not in LINE_TYPES:
        got = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise GeoError(f"{where}: expected a LineString or MultiLineString, got {got}.")
    coords = geometry.get("coordinates")
    if geometry["type"] == "LineString":
        return [_line(coords, where)]
    if not isinstance(coords, list) or not coords:
        raise GeoError(f"{where}: a MultiLineString needs at least one line.")
    return [_line(c, f"{where}, line {i}") for i, c in enumerate(coords)]


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS84 ellipsoid distance (Karney's algorithm)."""
    return float(Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"]) / 1000.0


def segments_of(
    lines: list[list[tuple[float, float]]],
) -> Iterator[tuple[float, float, float, float]]:
    """Two-point pieces (lon1, lat1, lon2, lat2); zero-length pieces are dropped."""
    for line in lines:
        for (x1, y1), (x2, y2) in itertools.pairwise(line):
            if (x1, y1) != (x2, y2):
                yield x1, y1, x2, y2


def line_length_km(lines: list[list[tuple[float, float]]]) -> float:
    return sum(geodesic_km(y1, x1, y2, x2) for x1, y1, x2, y2 in segments_of(lines))


def nearest_on_segment(
    lat: float, lon: float, seg: tuple[float, float, float, float]
) -> tuple[float, float]:
    """Closest point (lat, lon) of a segment to a point, in a local equirectangular frame.

    The frame is centred on the point, so at the km scales of an impact radius the error of the
    projection is far below the accuracy of the schematic routes; the distance to the returned
    point is then measured on the ellipsoid.
    """
    x1, y1, x2, y2 = seg
    k = math.cos(math.radians(lat))

    def dx(x: float) -> float:
        return ((x - lon + 180.0) % 360.0 - 180.0) * k

    ax, ay, bx, by = dx(x1), y1 - lat, dx(x2), y2 - lat
    vx, vy = bx - ax, by - ay
    den = vx * vx + vy * vy
    t = 0.0 if den == 0 else max(0.0, min(1.0, -(ax * vx + ay * vy) / den))
    return lat + ay + t * vy, lon + (ax + t * vx) / k if k else x1


@dataclass
class Feature:
    """A line feature parsed from an upload: name, properties and validated lines."""

    name: str
    properties: dict[str, Any]
    lines: list[list[tuple[float, float]]]

    @property
    def geometry(self) -> dict[str, Any]:
        coords = [[list(p) for p in line] for line in self.lines]
        if len(coords) == 1:
            return {"type": "LineString", "coordinates": coords[0]}
        return {"type": "MultiLineString", "coordinates": coords}


def load_json(text: str | bytes, what: str) -> Any:
    """JSON with the hostile-input limits (core.ops.safejson): no NaN, huge numbers, deep
    nesting or lone surrogates."""
    from mufakat.core.ops import safejson

    try:
        return safejson.loads(text, what)
    except safejson.HostileJSONError as exc:
        raise GeoError(exc.messages) from None


def parse_geojson(text: str | bytes, what: str = "GeoJSON") -> list[Feature]:
    data = load_json(text, what)
    if not isinstance(data, dict) or data.get("type") not in {"FeatureCollection", "Feature"}:
        raise GeoError(f"{what}: expected a GeoJSON FeatureCollection or Feature.")
    raw = data.get("features") if data["type"] == "FeatureCollection" else [data]
    if not isinstance(raw, list) or not raw:
        raise GeoError(f"{what}: the collection has no features.")
    out = []
    for i, f in enumerate(raw):
        if not isinstance(f, dict):
            raise GeoError(f"{what}, feature {i}: not a GeoJSON Feature.")
        props = f.get("properties") or {}
        if not isinstance(props, dict):
            raise GeoError(f"{what}, feature {i}: properties must be an object.")
        name = str(props.get("name") or props.get("id") or f"feature {i + 1}")[:200]
        out.append(
            Feature(name, props, lines_of(f.get("geometry"), f"{what}, feature {i} ({name})"))
        )
    return out


KML_NS = "{http://www.opengis.net/kml/2.2}"


def _kml_coords(text: str | None, where: str) -> list[tuple[float, float]]:
    pts = []
    for i, tok in enumerate((text or "").split()):
        parts = tok.split(",")
        if len(parts) < 2:
            raise GeoError(f"{where}, position {i}: expected lon,lat[,alt], got {tok!r}.")
        lat, lon = check_lat_lon(parts[1], parts[0], f"{where}, position {i}")
        pts.append((lon, lat))
    if len(pts) < 2:
        raise GeoError(f"{where}: a line needs at least two positions.")
    return pts


def parse_kml(text: str | bytes, what: str = "KML") -> list[Feature]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise GeoError(f"{what} is not well-formed XML: {exc}.") from None
    except Exception as exc:  # defusedxml refuses entity tricks with its own exception types
        raise GeoError(f"{what} was refused: {type(exc).__name__}.") from None
    ns = KML_NS if root.tag.startswith(KML_NS) else ""
    if root.tag != f"{ns}kml":
        raise GeoError(f"{what}: the root element is not <kml>.")
    out = []
    for i, pm in enumerate(root.iter(f"{ns}Placemark")):
        name = (pm.findtext(f"{ns}name") or f"placemark {i + 1}").strip()[:200]
        where = f"{what}, placemark {i} ({name})"
        lines = [
            _kml_coords(ls.findtext(f"{ns}coordinates"), where) for ls in pm.iter(f"{ns}LineString")
        ]
        if lines:
            desc = (pm.findtext(f"{ns}description") or "").strip()
            out.append(Feature(name, {"name": name, "description": desc}, lines))
    if not out:
        raise GeoError(f"{what}: no Placemark with a LineString found.")
    return out


# Display geometry for the map's route layers. The impact engine always works on the full
# routes; the layers only draw them, over a 1:10m/1:50m basemap. Dropping vertices that move
# a line by less than ~20 m (0.0002 degrees) and keeping five decimals (~1 m) leaves the drawing
# unchanged at every zoom the basemap supports and cut the GEM pipelines layer from 634 kB to
# about 200 kB of JSON before compression (benchmarks/map_payload.py).
DISPLAY_TOLERANCE_DEG = 0.0002
DISPLAY_DECIMALS = 5


def display_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON line geometry simplified for drawing; other geometries only rounded."""
    if not geometry or not geometry.get("coordinates"):
        return geometry
    g = shape(geometry)
    if g.geom_type in ("LineString", "MultiLineString"):
        g = g.simplify(DISPLAY_TOLERANCE_DEG, preserve_topology=False)
    g = shapely.set_coordinates(g, np.round(shapely.get_coordinates(g), DISPLAY_DECIMALS))
    return dict(mapping(g))
