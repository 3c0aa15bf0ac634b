"""Impact analysis: STRtree over route segments vs the naive distance to every route.

One run over all shipped cables and GEM pipelines (plus the full TeleGeography set when
../shared/data is present); prints both timings per incident and the ratio. A second pass marks
one route in five as an upload private to one of ten organisations and times the same queries
filtered by owner (public + the asking organisation's own), as report_incident runs them.

    uv run python benchmarks/cui_impact.py
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

import django
import shapely
from shapely.ops import nearest_points

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mufakat.settings")
django.setup()

from mufakat.core.geo.geometry import geodesic_km, lines_of  # noqa: E402
from mufakat.cui.geo import DATA_DIR  # noqa: E402
from mufakat.cui.impact import AssetInfo, SegmentIndex  # noqa: E402

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


def main() -> None:
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

    t0 = time.perf_counter()
    fast = [index.nearby(lat, lon, RADIUS_KM) for lat, lon in points]
    fast_s = (time.perf_counter() - t0) / N_INCIDENTS

    geoms = [shapely.MultiLineString(lines) for _name, lines in routes]
    t0 = time.perf_counter()
    naive = []
    for lat, lon in points:
        p = shapely.Point(lon, lat)
        hits = []
        for aid, g in enumerate(geoms):
            q = nearest_points(g, p)[0]
            d = geodesic_km(lat, lon, q.y, q.x)
            if d <= RADIUS_KM:
                hits.append(aid)
        naive.append(sorted(hits))
    naive_s = (time.perf_counter() - t0) / N_INCIDENTS

    agree = sum(sorted(a for a, _d, _s in f) == n for f, n in zip(fast, naive, strict=True))
    print(
        f"incidents: {N_INCIDENTS}, radius {RADIUS_KM:g} km, same asset sets: {agree}/{N_INCIDENTS}"
    )
    print(f"STRtree over segments: {fast_s * 1000:.2f} ms per incident")
    print(f"naive distance to every route: {naive_s * 1000:.2f} ms per incident")
    print(f"ratio naive / STRtree: {naive_s / fast_s:.1f}x")

    # Private uploads: the same tree, candidates filtered by owner before any distance.
    owner = {aid: (aid % 10) + 1 if aid % 5 == 0 else None for aid in assets}
    private = {
        aid: AssetInfo(aid, a.name, a.kind, a.states, private_to=owner[aid])
        for aid, a in assets.items()
    }
    index_p = SegmentIndex.build(rows, private)
    orgs = [(i % 10) + 1 for i in range(N_INCIDENTS)]
    t0 = time.perf_counter()
    filtered = [
        index_p.nearby(lat, lon, RADIUS_KM, org)
        for (lat, lon), org in zip(points, orgs, strict=True)
    ]
    filtered_s = (time.perf_counter() - t0) / N_INCIDENTS
    expected = [
        [a for a in n if owner[a] in (None, org)] for n, org in zip(naive, orgs, strict=True)
    ]
    agree_p = sum(
        sorted(a for a, _d, _s in f) == e for f, e in zip(filtered, expected, strict=True)
    )
    n_private = sum(1 for o in owner.values() if o is not None)
    print(
        f"with {n_private} routes private to 10 organisations, filtered by owner: "
        f"{filtered_s * 1000:.2f} ms per incident, same asset sets: {agree_p}/{N_INCIDENTS}"
    )


if __name__ == "__main__":
    main()
