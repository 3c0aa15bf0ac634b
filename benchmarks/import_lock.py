"""How long a large route upload holds SQLite's write lock (security issue, finding 7).

Makes a fresh database in a temporary data folder, uploads N routes (default 10,000, about
1.7 MB of GeoJSON, as in the finding) as an SG analyst, and meanwhile, from a second thread
with its own connection, writes one row every 20 ms the way a log-in does (a short write
transaction), timing how long each waited for the lock and counting those that failed with
"database is locked" (the busy timeout is 20 s). Prints the import time and the probe's wait
p50/p95/max and failures.

    python3 -m uv run python benchmarks/import_lock.py [--routes 10000]
    # the code before the fix, same probe:
    PYTHONPATH=/path/to/old/checkout/src python3 -m uv run python benchmarks/import_lock.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

PROBE_EVERY_S = 0.02


def routes_geojson(n: int, seed: int = 7) -> bytes:
    """n short routes (three to five points) scattered over the South China Sea."""
    rnd = random.Random(seed)
    features = []
    for i in range(n):
        lon, lat = rnd.uniform(100, 118), rnd.uniform(-2, 18)
        coords = []
        for _ in range(rnd.randint(3, 5)):
            lon, lat = lon + rnd.uniform(-0.3, 0.3), lat + rnd.uniform(-0.3, 0.3)
            coords.append([round(lon, 4), round(lat, 4)])
        features.append(
            {
                "type": "Feature",
                "properties": {"name": f"Route {i:05d}", "kind": "cable"},
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def setup_django() -> None:
    os.environ["MUFAKAT_DATA_DIR"] = tempfile.mkdtemp(prefix="mufakat-import-lock-")
    os.environ["MUFAKAT_ENV"] = "test"  # no DEBUG: no SQL kept or formatted per query
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mufakat.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as c:
        c.execute("CREATE TABLE bench_probe (id INTEGER PRIMARY KEY, t REAL)")


def make_uploader() -> tuple[Any, Any]:
    """The SG analyst and `acting`, with the code before or after core's split."""
    from mufakat.core.choices import RoleSlug
    from mufakat.core.models import Organisation

    sg = Organisation.objects.get(code="SG")
    try:
        from mufakat.core.ops.context import acting
        from mufakat.core.tenancy.factory import ensure_user
    except ImportError:  # the code from before core was split into subpackages
        from mufakat.core.context import acting  # type: ignore[no-redef]
        from mufakat.core.demo import ensure_user as old_ensure_user

        return old_ensure_user(sg, "bench-sg", [RoleSlug.ANALYST]), acting
    return ensure_user("bench-sg", sg, [RoleSlug.ANALYST]), acting


class Probe(threading.Thread):
    """A short write transaction every 20 ms on its own connection, timed."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import OperationalError, connection, connections, transaction

        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                with transaction.atomic(), connection.cursor() as c:
                    c.execute("INSERT INTO bench_probe (t) VALUES (%s)", [t0])
            except OperationalError as exc:
                self.failures.append(str(exc))
            self.waits.append(time.perf_counter() - t0)
            time.sleep(PROBE_EVERY_S)
        connections.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, help="routes per transaction (new code only)")
    args = parser.parse_args()
    setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile

    import mufakat
    from mufakat.cui import importers, services

    user, acting = make_uploader()
    payload = routes_geojson(args.routes)
    if args.batch_size:
        importers.BATCH_SIZE = args.batch_size  # type: ignore[attr-defined,unused-ignore]
    batch = getattr(importers, "BATCH_SIZE", None)
    print(f"code: {os.path.dirname(mufakat.__file__)} (batch size: {batch or 'one transaction'})")
    print(f"upload: {args.routes} routes, {len(payload) / 1e6:.2f} MB GeoJSON")

    probe = Probe()
    probe.start()
    t0 = time.perf_counter()
    try:
        with acting(user):
            upload = SimpleUploadedFile("routes.geojson", payload)
            report = services.upload_assets(user, upload).as_dict()
    finally:
        elapsed = time.perf_counter() - t0
        probe.stop.set()
        probe.join()
    waits_ms = sorted(w * 1000 for w in probe.waits)
    p95 = waits_ms[max(0, round(0.95 * len(waits_ms)) - 1)]
    print(f"import: {elapsed:.1f} s, {report['assets']}, {report['segments_written']} segments")
    print(
        f"probe writes during the import: {len(waits_ms)}; lock wait p50 "
        f"{statistics.median(waits_ms):.0f} ms, p95 {p95:.0f} ms, max {waits_ms[-1]:.0f} ms; "
        f"failed: {len(probe.failures)}" + (f" ({probe.failures[0]})" if probe.failures else "")
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
