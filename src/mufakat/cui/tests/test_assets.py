"""Imports, segments, impact analysis and the CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from typer.testing import CliRunner

from mufakat.core.geo.geometry import geodesic_km
from mufakat.cui import importers
from mufakat.cui.impact import AssetInfo, SegmentIndex, analyse, load_index, visible_impact
from mufakat.cui.models import Asset, AssetKind, LandingPoint, Segment

SHARED = Path(__file__).resolve().parents[4].parent / "shared" / "data"


def test_shipped_import_counts_and_facts(assets: None) -> None:
    assert Asset.objects.filter(kind=AssetKind.CABLE).count() == 95
    assert Asset.objects.filter(kind=AssetKind.PIPELINE).count() == 229
    assert LandingPoint.objects.count() == 376
    apg = Asset.objects.get(name="Asia Pacific Gateway (APG)")
    assert {"SG", "MY", "VN", "JP"} <= set(apg.states)
    assert apg.rfs_year == 2016
    assert apg.segments.count() > 10
    assert apg.landing_points.filter(country="SG").exists()


def test_reimport_is_idempotent_and_reports_changes(assets: None) -> None:
    segs = Segment.objects.count()
    again = importers.import_cables(importers.shipped_cables_dir())
    assert again.as_dict()["assets"] == {"created": 0, "updated": 0, "unchanged": 95}
    assert again.landing_points.unchanged == 376
    assert Segment.objects.count() == segs
    apg = Asset.objects.get(name="Asia Pacific Gateway (APG)")
    Asset.objects.filter(pk=apg.pk).update(content_hash="stale", owners="someone else")
    third = importers.import_cables(importers.shipped_cables_dir())
    assert third.assets.updated == 1
    assert "NTT" in Asset.objects.get(pk=apg.pk).owners


def test_impact_singapore_strait_sorted_geodesic(assets: None) -> None:
    result = analyse(1.2, 104.0, 50)
    dists = [a["distance_km"] for a in result["assets"]]
    assert dists == sorted(dists)
    assert dists[0] < 1
    assert all(d <= 50 for d in dists)
    assert {"SG", "ID", "MY"} <= set(result["affected_states"])
    sg = result["redundancy"]["SG"]
    assert sg["total"] == sg["affected"] + sg["remaining"]
    # Affected: within the default 1 km uncertainty + 2 km TeleGeography accuracy; the rest of
    # the 50 km circle is only nearby and never counts against redundancy.
    within = {a["id"] for a in result["assets"] if a["distance_km"] <= 3.0}
    assert {a["id"] for a in result["assets"] if a["affected"]} == within
    assert 0 < sg["affected"] < len(result["assets"]) - len(within)


def test_impact_matches_naive_distance(assets: None) -> None:
    """The STRtree path finds the same assets as measuring every route densely."""
    import shapely
    from shapely.ops import nearest_points

    idx = load_index()
    lat, lon, r = 5.5, 103.5, 120.0
    fast = {a: d for a, d, _s in idx.nearby(lat, lon, r)}
    naive: dict[int, float] = {}
    for a in Asset.objects.all():
        for x1, y1, x2, y2 in a.segments.values_list("lon1", "lat1", "lon2", "lat2"):
            line = shapely.LineString([(x1, y1), (x2, y2)])
            p = nearest_points(line, shapely.Point(lon, lat))[0]
            d = geodesic_km(lat, lon, p.y, p.x)
            if d <= r:
                naive[a.pk] = min(naive.get(a.pk, d), d)
    assert set(fast) == set(naive)
    for k, d in fast.items():
        assert d == pytest.approx(naive[k], rel=0.02, abs=0.2)


def test_index_of_nothing_is_empty() -> None:
    idx = SegmentIndex.build([], {})
    assert idx.analyse(1.0, 104.0)["assets"] == []


def test_index_keeps_other_organisations_routes_out() -> None:
    """One tree for all routes; each analysis keeps public ones and the asking org's uploads.
    States and redundancy come from public cables only."""
    assets = {
        1: AssetInfo(1, "public", AssetKind.CABLE, ["SG", "MY"]),
        2: AssetInfo(2, "org 7's", AssetKind.CABLE, ["SG", "KH"], private_to=7),
        3: AssetInfo(3, "org 8's", AssetKind.CABLE, ["SG", "LA"], private_to=8),
    }
    rows = [
        (10, 1, 103.9, 1.0, 104.1, 1.0),
        (20, 2, 103.9, 1.01, 104.1, 1.01),
        (30, 3, 103.9, 0.99, 104.1, 0.99),
    ]
    idx = SegmentIndex.build(rows, assets)
    assert [a for a, _d, _s in idx.nearby(1.0, 104.0, 20)] == [1]
    assert sorted(a for a, _d, _s in idx.nearby(1.0, 104.0, 20, org_id=7)) == [1, 2]
    result = idx.analyse(1.0, 104.0, 20, org_id=7)
    assert [(a["id"], a["private_to"]) for a in result["assets"]] == [(1, None), (2, 7)]
    assert result["affected_states"] == ["MY", "SG"]
    assert result["redundancy"]["SG"] == {"total": 1, "affected": 1, "remaining": 0}
    assert [a["id"] for a in visible_impact(result, 7)["assets"]] == [1, 2]
    for other in (8, None):
        seen = visible_impact(result, other)
        assert [a["id"] for a in seen["assets"]] == [1]
        assert seen["segments"] == [10]


def test_cli_impact_json(assets: None) -> None:
    from mufakat.cui.cli import app

    res = CliRunner().invoke(
        app, ["impact", "--lat", "1.2", "--lon", "104.0", "--radius-km", "20", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"assets", "affected_states"}
    assert set(data["assets"][0]) == {"id", "name", "kind", "distance_km", "affected"}
    assert "SG" in data["affected_states"]
    bad = CliRunner().invoke(app, ["impact", "--lat", "95", "--lon", "104.0", "--json"])
    assert bad.exit_code == 2
    assert "latitude 95.0 is out of range" in bad.output


def test_cli_impact_warns_when_nothing_imported(db: Any) -> None:
    from mufakat.cui.cli import app
    from mufakat.cui.models import Asset

    # Other tests commit the shipped assets once per session; this one needs none (rolled back).
    Asset.objects.all().delete()
    res = CliRunner().invoke(app, ["impact", "--lat", "1.2", "--lon", "104.0", "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout) == {"assets": [], "affected_states": []}
    assert "No cables or pipelines are imported yet" in res.stderr


def test_cli_import_reports_counts(db: Any) -> None:
    from mufakat.cui.cli import app

    Asset.objects.all().delete()
    LandingPoint.objects.all().delete()
    res = CliRunner().invoke(app, ["import-cables", str(importers.shipped_cables_dir())])
    assert res.exit_code == 0, res.output
    assert "95 created" in res.output
    res = CliRunner().invoke(app, ["import-cables", str(importers.shipped_cables_dir())])
    assert "95 unchanged" in res.output
    # What the operator imports is public reference data: no uploading organisation.
    assert not Asset.objects.filter(owner_org__isnull=False).exists()
    res = CliRunner().invoke(app, ["import-pipelines", str(importers.shipped_pipelines())])
    assert res.exit_code == 0, res.output
    assert Asset.objects.filter(owner_org__isnull=True).count() == 95 + 229


def test_cli_import_missing_file(db: Any, tmp_path: Path) -> None:
    from mufakat.cui.cli import app

    before = Asset.objects.count()
    res = CliRunner().invoke(app, ["import-cables", str(tmp_path)])
    assert res.exit_code == 1
    assert "cables.json is missing" in res.output
    assert Asset.objects.count() == before


def test_bad_geometry_imports_nothing(db: Any, tmp_path: Path) -> None:
    for name in ("cables.json", "landing-point-geo.json"):
        (tmp_path / name).write_bytes((importers.shipped_cables_dir() / name).read_bytes())
    geo = json.loads((importers.shipped_cables_dir() / "cable-geo.json").read_text())
    geo["features"][-1]["geometry"]["coordinates"][0][0] = [200.0, 1.0]
    (tmp_path / "cable-geo.json").write_text(json.dumps(geo))
    Asset.objects.all().delete()
    LandingPoint.objects.all().delete()
    with pytest.raises(ValidationError, match=r"longitude 200.0 is out of range"):
        importers.import_cables(tmp_path)
    assert Asset.objects.count() == 0
    assert LandingPoint.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"type": "Point", "coordinates": [1, 2]}', "FeatureCollection"),
        (
            b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}',
            "expected a LineString",
        ),
        (
            b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[1, 95], [2, 2]]}}]}',
            "latitude 95.0 is out of range",
        ),
    ],
)
def test_upload_geojson_errors(db: Any, payload: bytes, message: str) -> None:
    from mufakat.core.models import Organisation

    before = Asset.objects.count()
    with pytest.raises(ValidationError, match=message):
        importers.import_upload(payload, "x.geojson", Organisation.objects.get(code="SG"))
    assert Asset.objects.count() == before


KML = b"""<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Batam power link</name><LineString><coordinates>103.9,1.15,0 103.95,1.25,0 104.0,1.3,0</coordinates></LineString></Placemark>
</Document></kml>"""


def test_kml_upload_and_reupload(db: Any) -> None:
    from mufakat.core.models import Organisation

    sg = Organisation.objects.get(code="SG")
    first = importers.import_upload(KML, "links.kml", sg)
    assert first.assets.created == 1
    again = importers.import_upload(KML, "links.kml", sg)
    assert again.assets.unchanged == 1
    a = Asset.objects.get(name="Batam power link")
    assert a.segments.count() == 2
    assert a.owner_org == sg


@pytest.mark.skipif(
    not (SHARED / "submarine-cables" / "cables.json").is_file(),
    reason="../shared/data (full TeleGeography set) is not present in this checkout",
)
def test_full_shared_cable_set(assets: None) -> None:
    report = importers.import_cables(SHARED / "submarine-cables")
    assert report.assets.unchanged == 95  # the shipped subset is the same snapshot
    assert report.assets.created + 95 == Asset.objects.filter(kind=AssetKind.CABLE).count()
    assert report.assets.created >= 420
    assert LandingPoint.objects.count() >= 1400
    # Far from ASEAN: the Baltic (Estlink area) now has cables too.
    assert analyse(59.6, 24.9, 60)["assets"]


def test_upload_size_limit(db: Any, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mufakat.core.ops.uploads import check_upload

    settings.MUFAKAT_MAX_UPLOAD_BYTES = 10
    f = SimpleUploadedFile("big.geojson", b"x" * 100)
    with pytest.raises(ValidationError, match="the limit is"):
        check_upload(f, allowed={".geojson"})


@pytest.mark.parametrize("layer", ["cui:cables_geojson", "cui:pipelines_geojson"])
def test_route_layers_are_compressed_and_revalidated(
    assets: None, people: dict[str, Any], layer: str
) -> None:
    c = Client()
    c.force_login(people["vn_viewer"])
    url = reverse(layer)
    plain = c.get(url)
    packed = c.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.content)) == plain.json()
    assert len(packed.content) < len(plain.content) / 3
    assert plain.json()["features"]
    assert "private" in plain["Cache-Control"]
    # A browser holding the layer revalidates and gets no body back.
    again = c.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_incident_layer_is_not_compressed(people: dict[str, Any]) -> None:
    c = Client()
    c.force_login(people["vn_viewer"])
    r = c.get(reverse("cui:incidents_geojson"), HTTP_ACCEPT_ENCODING="gzip")
    assert r.status_code == 200
    assert "Content-Encoding" not in r


def test_display_geometry_stays_within_tolerance_of_every_route(assets: None) -> None:
    from shapely.geometry import shape

    from mufakat.core.geo.geometry import DISPLAY_TOLERANCE_DEG, display_geometry

    before = after = 0
    for a in Asset.objects.all():
        original, drawn = shape(a.geometry), display_geometry(a.geometry)
        simplified = shape(drawn)
        # Simplification tolerance plus half a unit of the fifth decimal, per axis.
        assert original.hausdorff_distance(simplified) <= DISPLAY_TOLERANCE_DEG + 1e-5, a.name
        assert all(len(repr(c).split(".")[-1]) <= 5 for c in simplified.bounds)
        before += len(json.dumps(a.geometry))
        after += len(json.dumps(drawn))
    assert after < before / 2
    point = {"type": "Point", "coordinates": [103.123456789, 1.987654321]}
    assert display_geometry(point) == {"type": "Point", "coordinates": (103.12346, 1.98765)}


def test_a_hidden_reported_route_is_not_named_as_the_basis() -> None:
    """An incident reported on organisation 7's own route: readers outside 7 see neither the
    route nor the hint that the affected set is "the asset named in the report"."""
    assets = {
        1: AssetInfo(1, "public", AssetKind.CABLE, ["SG", "MY"]),
        2: AssetInfo(2, "org 7's", AssetKind.CABLE, ["SG", "KH"], private_to=7),
    }
    rows = [(10, 1, 103.9, 1.2, 104.1, 1.2), (20, 2, 103.9, 1.0, 104.1, 1.0)]
    result = SegmentIndex.build(rows, assets).analyse(1.0, 104.0, 50, org_id=7, asset_id=2)
    assert result["basis"] == "reported_asset"
    assert visible_impact(result, 7)["basis"] == "reported_asset"
    outsider = visible_impact(result, 8)
    assert [a["id"] for a in outsider["assets"]] == [1]
    assert outsider["basis"] == "position"
