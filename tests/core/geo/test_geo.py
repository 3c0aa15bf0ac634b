"""core.geo: coordinates, distances, GeoJSON/KML parsing, display geometry, sea-lane routes."""

from __future__ import annotations

import json
import math

import pytest
import stix2

from mufakat.core.choices import TLP
from mufakat.core.geo.geometry import (
    GeoError,
    check_lat_lon,
    display_geometry,
    geodesic_km,
    line_length_km,
    parse_geojson,
    parse_kml,
)
from mufakat.core.geo.sealanes import MAX_SNAP_KM, SeaRouteError, sea_route
from mufakat.core.sharing.markings import TLP2_MARKINGS, tlp_marking, tlp_of


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        ("x", 1, "must be numbers"),
        (math.nan, 1, "finite"),
        (91, 0, "latitude 91.0 is out of range"),
        (0, -180.5, "longitude -180.5 is out of range"),
    ],
)
def test_bad_coordinates_are_named(lat: object, lon: object, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        check_lat_lon(lat, lon, "origin")


def test_coordinates_accept_strings_and_edges() -> None:
    assert check_lat_lon("1.5", "-180") == (1.5, -180.0)
    assert check_lat_lon(-90, 180) == (-90.0, 180.0)


def test_geodesic_distance_on_the_ellipsoid() -> None:
    # One degree of latitude at the equator is 110.574 km on WGS84 (not 111.2 on a sphere).
    assert geodesic_km(0, 0, 1, 0) == pytest.approx(110.574, abs=0.001)
    # Singapore to Manila, about 2,390 km.
    assert geodesic_km(1.29, 103.85, 14.6, 120.98) == pytest.approx(2390, rel=0.01)
    line = [[(103.0, 1.0), (104.0, 1.0), (104.0, 1.0), (104.0, 2.0)]]
    assert line_length_km(line) == pytest.approx(
        geodesic_km(1, 103, 1, 104) + geodesic_km(1, 104, 2, 104)
    )


def test_geojson_lines_parsed_and_errors_located() -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Link"},
                "geometry": {"type": "LineString", "coordinates": [[103, 1], [104, 2]]},
            }
        ],
    }
    (f,) = parse_geojson(json.dumps(fc))
    assert (f.name, f.lines, f.geometry["type"]) == (
        "Link",
        [[(103.0, 1.0), (104.0, 2.0)]],
        "LineString",
    )
    fc["features"][0]["geometry"]["coordinates"][1] = [104, 95]  # type: ignore[index]
    with pytest.raises(GeoError, match=r"feature 0 \(Link\), position 1: latitude 95.0"):
        parse_geojson(json.dumps(fc))
    with pytest.raises(GeoError, match="not valid JSON"):
        parse_geojson(b"{")
    with pytest.raises(GeoError, match="expected a LineString"):
        parse_geojson(json.dumps({"type": "Feature", "geometry": {"type": "Point"}}))


def test_kml_parsed_and_entity_tricks_refused() -> None:
    kml = (
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>Route</name>'
        "<LineString><coordinates>103,1,0 104,2,0</coordinates></LineString></Placemark></kml>"
    )
    (f,) = parse_kml(kml)
    assert f.name == "Route"
    assert f.lines == [[(103.0, 1.0), (104.0, 2.0)]]
    with pytest.raises(GeoError, match="root element is not <kml>"):
        parse_kml("<gpx/>")


# Moved from cui's test_assets with the parser.
def test_kml_refuses_entities_and_bad_xml() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa">]><kml>&a;</kml>'
    with pytest.raises(GeoError, match="refused"):
        parse_kml(bomb)
    with pytest.raises(GeoError, match="not well-formed"):
        parse_kml(b"<kml><Placemark>")
    with pytest.raises(GeoError, match="no Placemark"):
        parse_kml(b'<kml xmlns="http://www.opengis.net/kml/2.2"></kml>')


def test_display_geometry_drops_collinear_vertices_and_rounds() -> None:
    g = {
        "type": "LineString",
        "coordinates": [[103.0, 1.0], [103.5, 1.000001], [104.123456789, 1.0]],
    }
    out = display_geometry(g)
    assert out["type"] == "LineString"
    assert [list(p) for p in out["coordinates"]] == [[103.0, 1.0], [104.12346, 1.0]]
    assert display_geometry({"type": "Point", "coordinates": [1.123456789, 2.0]})[
        "coordinates"
    ] == (
        1.12346,
        2.0,
    )


def test_sea_route_singapore_to_batangas() -> None:
    r = sea_route((1.264, 103.84), (13.75, 121.04))
    assert 1000 < r.distance_nm < 2000
    assert r.geometry["type"] == "LineString"
    assert len(r.geometry["coordinates"]) > 2
    assert all(km < 50 for km in r.snap_km)
    assert r.hours_at(10) == pytest.approx(r.distance_nm / 10)
    assert r.hours_at(0) is None


def test_sea_route_refuses_inland_points_and_bad_input() -> None:
    # Bern is ~300 km from the nearest lane node: no made-up sea distance.
    with pytest.raises(SeaRouteError, match=r"origin is \d+ km from the nearest sea lane"):
        sea_route((46.95, 7.45), (1.264, 103.84))
    with pytest.raises(SeaRouteError, match="destination"):
        sea_route((1.264, 103.84), (46.95, 7.45))
    # The limit is a parameter: a wider one routes from the same point.
    assert sea_route((46.95, 7.45), (1.264, 103.84), max_snap_km=MAX_SNAP_KM * 3).distance_nm > 0
    with pytest.raises(GeoError, match=r"origin: latitude 100\.0"):
        sea_route((100, 0), (1, 103))


def test_tlp_markings_are_the_oasis_definitions() -> None:
    amber = tlp_marking(TLP.AMBER)
    assert amber.id == "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    assert amber.name == "TLP:AMBER"
    assert set(TLP2_MARKINGS) == set(TLP.values)
    assert tlp_of([tlp_marking(TLP.RED).id]) == TLP.RED
    assert tlp_of(["marking-definition--unknown", stix2.TLP_WHITE.id]) == TLP.CLEAR
    assert tlp_of([], TLP.GREEN) == TLP.GREEN
