"""Impact analysis: the segment STRtree of cui.impact against what a user would write.

One run over all shipped cables and GEM pipelines (plus the full TeleGeography set when
../shared/data is present), 200 random positions in the ASEAN box, radius 50 km. Compared:

- `SegmentIndex.nearby` (cui.impact), alone and with the per-call freshness check that
  `analyse()` runs against the database (`impact._version()`, two queries) when a database
  with the CUI tables is configured;
- a real user's baseline: a shapely STRtree over whole routes (one MultiLineString each),
  candidates from the radius' bounding box, then the geodesic distance to each candidate's
  nearest point;
- GeoPandas `sjoin_nearest` with `max_distance` in a local metric projection, if GeoPandas is
  installed (it is not a dependency);
- the naive distance to every route (the original reference).

Each method runs once to warm up, then `--repeats` times; the median time per position is
reported. Agreement is counted only over positions where either method found something (a
position with no route in range agrees trivially). A second pass marks one route in five as an
upload private to one of ten organisations and times the owner-filtered queries.

    uv run python benchmarks/cui_impact.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django
import shapely
from shapely.ops import nearest_points

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mufakat.settings")
django.setup()

from mufakat.core.geo.geometry import geodesic_km, lines_of  # noqa: E402
from mufakat.cui.geo import DATA_DIR  # noqa: E402
from mufakat.cui.impact import KM_PER_DEG, AssetInfo, SegmentIndex  # noqa: E402

RADIUS_KM = 50.0
N_INCIDENTS = 200
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "submarine-cables"


def load_routes() -> list[tuple[str, list[list[tuple[float, float]]]]]:
    cable_dir = SHARED if (SHARED / "cable-geo.json").is_file() else DATA_DIR
    routes: dict[str, list[list[tuple[float, float]]]] = {}
    for f in json.loads((cable_dir / "cable-geo.json").read_text())["features"]:
        routes.setdefault("cable:" + f["properties"]["id"], []).extend(lines_of(f["geometry"]))
    for f in json.loads((DATA_DIR / "sea-pipelines-gem.geojson").read_text())["features"]:
        routes.setdefault("pipe:" + f["properties"]["project_id"], []).extend(
            lines_of(f["geometry"])
        )
    print(f"routes from {cable_dir} + GEM pipelines: {len(routes)}")
    return list(routes.items())


def timed(fn: Callable[[], list[list[int]]], repeats: int) -> tuple[list[list[int]], float]:
    """Warm-up, then the median over repeats of seconds per position."""
    result = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) / N_INCIDENTS)
    return result, statistics.median(times)


def agreement(a: list[list[int]], b: list[list[int]]) -> str:
    found = [(x, y) for x, y in zip(a, b, strict=True) if x or y]
    same = sum(sorted(x) == sorted(y) for x, y in found)
    return (
        f"{same}/{len(found)} positions with a route in range ({N_INCIDENTS - len(found)} without)"
    )


def version_check_seconds(repeats: int) -> float | None:
    """Median seconds of impact._version() on the configured database, or None without one."""
    from django.db import DatabaseError

    from mufakat.cui import impact

    try:
        impact._version()
    except DatabaseError:
        return None
    times = []
    for _ in range(repeats * 20):
        t0 = time.perf_counter()
        impact._version()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def geopandas_baseline(
    routes: list[tuple[str, list[list[tuple[float, float]]]]],
    points: list[tuple[float, float]],
) -> Callable[[], list[list[int]]] | None:
    try:
        import geopandas as gpd  # type: ignore[import-not-found]
    except ImportError:
        return None
    lines = gpd.GeoDataFrame(
        {"aid": range(len(routes))},
        geometry=[shapely.MultiLineString(lines) for _n, lines in routes],
        crs="EPSG:4326",
    )

    def run() -> list[list[int]]:
        out = []
        for lat, lon in points:
            # Azimuthal equidistant around the position: distances from it are true metres.
            crs = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +units=m"
            pt = gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(crs)
            near = gpd.sjoin_nearest(
                pt, lines.to_crs(crs), max_distance=RADIUS_KM * 1000, how="inner"
            )
            out.append(sorted(int(a) for a in near["aid"]))
        return out

    return run


def routes_tree(geoms: list[Any], tree: Any, points: list[tuple[float, float]]) -> list[list[int]]:
    """What a user would write: an STRtree over whole routes, then exact distances."""
    out = []
    for lat, lon in points:
        k = max(math.cos(math.radians(lat)), 0.01)
        dlat, dlon = RADIUS_KM / KM_PER_DEG * 1.01, RADIUS_KM / (KM_PER_DEG * k) * 1.01
        p = shapely.Point(lon, lat)
        hits = []
        for aid in tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)):
            q = nearest_points(geoms[aid], p)[0]
            if geodesic_km(lat, lon, q.y, q.x) <= RADIUS_KM:
                hits.append(int(aid))
        out.append(sorted(hits))
    return out


def naive_all(geoms: list[Any], points: list[tuple[float, float]]) -> list[list[int]]:
    out = []
    for lat, lon in points:
        p = shapely.Point(lon, lat)
        hits = []
        for aid, g in enumerate(geoms):
            q = nearest_points(g, p)[0]
            if geodesic_km(lat, lon, q.y, q.x) <= RADIUS_KM:
                hits.append(aid)
        out.append(hits)
    return out


def private_pass(
    rows: list[tuple[int, int, float, float, float, float]],
    assets: dict[int, AssetInfo],
    points: list[tuple[float, float]],
    naive: list[list[int]],
    repeats: int,
) -> None:
    # Private uploads: the same tree, candidates filtered by owner before any distance.
    owner = {aid: (aid % 10) + 1 if aid % 5 == 0 else None for aid in assets}
    private = {
        aid: AssetInfo(aid, a.name, a.kind, a.states, private_to=owner[aid])
        for aid, a in assets.items()
    }
    index_p = SegmentIndex.build(rows, private)
    orgs = [(i % 10) + 1 for i in range(N_INCIDENTS)]
    filtered, filtered_s = timed(
        lambda: [
            sorted(a for a, _d, _s in index_p.nearby(la, lo, RADIUS_KM, org))
            for (la, lo), org in zip(points, orgs, strict=True)
        ],
        repeats,
    )
    expected = [
        [a for a in n if owner[a] in (None, org)] for n, org in zip(naive, orgs, strict=True)
    ]
    n_private = sum(1 for o in owner.values() if o is not None)
    print(
        f"with {n_private} routes private to 10 organisations, filtered by owner: "
        f"{filtered_s * 1000:.3f} ms per position; same routes as the naive filter: "
        f"{agreement(filtered, expected)}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    routes = load_routes()
    rows = []
    assets = {}
    seg_id = 0
    for aid, (name, lines) in enumerate(routes):
        assets[aid] = AssetInfo(aid, name, "cable" if name.startswith("cable:") else "pipeline", [])
        for line in lines:
            for (x1, y1), (x2, y2) in itertools.pairwise(line):
                rows.append((seg_id, aid, x1, y1, x2, y2))
                seg_id += 1
    t0 = time.perf_counter()
    index = SegmentIndex.build(rows, assets)
    build_s = time.perf_counter() - t0
    print(f"segments: {len(rows)}; index build {build_s * 1000:.0f} ms (once per process)")

    rng = random.Random(7)
    points = [(rng.uniform(-10, 22), rng.uniform(95, 130)) for _ in range(N_INCIDENTS)]

    fast, fast_s = timed(
        lambda: [sorted(a for a, _d, _s in index.nearby(la, lo, RADIUS_KM)) for la, lo in points],
        args.repeats,
    )

    geoms = [shapely.MultiLineString(lines) for _name, lines in routes]
    tree = shapely.STRtree(geoms)

    user, user_s = timed(lambda: routes_tree(geoms, tree, points), args.repeats)

    naive, naive_s = timed(lambda: naive_all(geoms, points), max(1, args.repeats // 2))
    print(
        f"incidents: {N_INCIDENTS}, radius {RADIUS_KM:g} km; medians of {args.repeats} after a warm-up"
    )
    print(f"segment STRtree (cui.impact): {fast_s * 1000:.3f} ms per position")
    check = version_check_seconds(args.repeats)
    if check is None:
        print("  per-call freshness check: no database with the CUI tables configured, not timed")
    else:
        print(
            f"  with the per-call freshness check (impact._version(), {check * 1000:.3f} ms): "
            f"{(fast_s + check) * 1000:.3f} ms per position"
        )
    print(
        f"user's baseline, STRtree over whole routes: {user_s * 1000:.3f} ms per position "
        f"({user_s / fast_s:.1f}x; {user_s / (fast_s + (check or 0)):.1f}x with the check); "
        f"same routes: {agreement(fast, user)}"
    )
    gpd_run = geopandas_baseline(routes, points)
    if gpd_run is None:
        print("GeoPandas sjoin_nearest: GeoPandas not installed, skipped")
    else:
        gp, gp_s = timed(gpd_run, max(1, args.repeats // 2))
        print(
            f"GeoPandas sjoin_nearest: {gp_s * 1000:.3f} ms per position ({gp_s / fast_s:.1f}x); "
            f"same routes: {agreement(fast, gp)}"
        )
    print(
        f"naive distance to every route: {naive_s * 1000:.3f} ms per position "
        f"({naive_s / fast_s:.1f}x); same routes: {agreement(fast, naive)}"
    )

    private_pass(rows, assets, points, naive, args.repeats)


if __name__ == "__main__":
    main()
