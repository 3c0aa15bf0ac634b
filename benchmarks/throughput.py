"""Throughput: a bounded closed-loop client against /healthz, the API lists and the HTML lists.

    python3 -m uv run python benchmarks/throughput.py [--connections 1,10,50] [--seconds 10]
        [--workers 2] [--repeats 1] [--only sqlite|postgresql] [--endpoints healthz,api-incidents]

For each database: a fresh data folder (and, on PostgreSQL, a database of its own with a fresh
random name, created by this run and dropped only by it), `mufakat demo --no-serve`,
`collectstatic`, then `mufakat serve --workers N --no-worker` with production settings on a
loopback port this script holds reserved until the server has bound it. For every number of
connections, each endpoint in turn: C keep-alive connections, each sending its next request as
soon as the previous answer has been read (closed loop: at most C requests in flight, no think
time), a warm-up, then a timed window. Reported per endpoint: requests/s, p50/p95/p99 latency
(nearest rank), failures, the server's CPU per request (user + system of every server process,
from /proc) and the ratio of requests/s to /healthz at the same number of connections, in the
same run. With --repeats R the endpoints alternate R times and the medians are reported.

API lists use bearer tokens (machine clients: incidents and assets as an analyst, the inbox of
a focal point, who receives the demo's alerts); HTML lists use a signed-in analyst's session.
The client runs on the same cores as the server: its own CPU time is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import requests

# Run as a script, so its folder is on sys.path and the sibling run.py imports directly.
from run import (
    CLI,
    OwnDatabase,
    percentile,
    production_env,
    reachable,
    reserve_port,
    start_server,
    stop_server,
)

HERE = Path(__file__).resolve().parent
PASSWORD = "mufakat-demo-2026"  # noqa: S105 - the documented demo password


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    auth: str  # "none", "token:<user>" or "session:<user>"


ENDPOINTS = [
    Endpoint("healthz", "/healthz", "none"),
    Endpoint("api-incidents", "/api/cui/incidents", "token:sg-analyst"),
    Endpoint("api-assets", "/api/cui/assets", "token:sg-analyst"),
    Endpoint("api-notifications", "/api/core/notifications", "token:sg-focal"),
    Endpoint("html-incidents", "/cui/incidents/", "session:sg-analyst"),
    Endpoint("html-assets", "/cui/assets/", "session:sg-analyst"),
]


@dataclass
class Result:
    count: int = 0
    failures: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    worker_cpu: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.server_cpu / self.count * 1000 if self.count else 0.0


def server_processes(pgid: int) -> dict[int, float]:
    """CPU seconds (user + system) of every process in the server's process group."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == pgid:
            out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def issue_token(env: dict[str, str], username: str) -> str:
    code = (
        "import sys, django; django.setup(); "
        "from django.contrib.auth import get_user_model; "
        "from mufakat.core.accounts.auth import issue_token; "
        "u = get_user_model().objects.get(username=sys.argv[1]); "
        "print(issue_token(u, 'throughput benchmark', days=1)[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, username], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def session_cookie(url: str, username: str) -> str:
    s = requests.Session()
    s.get(url + "/accounts/login/")
    r = s.post(
        url + "/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
        },
        allow_redirects=False,
    )
    if r.status_code != 302:
        sys.exit(f"log-in of {username} answered {r.status_code}")
    return "; ".join(f"{k}={v}" for k, v in s.cookies.items())


async def closed_loop(
    url: str, headers: dict[str, str], connections: int, warmup: float, seconds: float
) -> tuple[list[float], int, float, float]:
    """C workers, one request in flight each; latencies of requests started in the window."""
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    latencies: list[float] = []
    failures = 0
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, timeout=timeout
    ) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        t0, t1 = start + warmup, start + warmup + seconds

        async def worker() -> None:
            nonlocal failures
            while True:
                begin = loop.time()
                if begin >= t1:
                    return
                try:
                    async with client.get(url, allow_redirects=False) as r:
                        await r.read()
                        ok = r.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if begin >= t0:
                    latencies.append((loop.time() - begin) * 1000)
                    failures += not ok

        tasks = [asyncio.create_task(worker()) for _ in range(connections)]
        await asyncio.sleep(max(0.0, t0 - loop.time()))
        window_start = time.perf_counter()
        await asyncio.gather(*tasks)
        # The window closes when the last request started inside it has answered.
        elapsed = time.perf_counter() - window_start
    return latencies, failures, elapsed, t0


def measure_one(
    base: str, ep: Endpoint, headers: dict[str, str], pgid: int, args: argparse.Namespace, *, c: int
) -> Result:
    async def run() -> tuple[list[float], int, float, dict[int, float], dict[int, float]]:
        before: dict[int, float] = {}

        async def snapshot_at_window() -> None:
            await asyncio.sleep(args.warmup)
            before.update(server_processes(pgid))

        snap = asyncio.create_task(snapshot_at_window())
        lat, fails, elapsed, _t0 = await closed_loop(
            base + ep.path, headers, c, args.warmup, args.seconds
        )
        await snap
        after = server_processes(pgid)
        return lat, fails, elapsed, before, after

    lat, fails, elapsed, before, after = asyncio.run(run())
    per_worker = [after[p] - before.get(p, 0.0) for p in sorted(after)]
    return Result(
        count=len(lat),
        failures=fails,
        seconds=elapsed,
        server_cpu=sum(per_worker),
        latencies=lat,
        worker_cpu=per_worker,
    )


def auth_headers(eps: list[Endpoint], base: str, env: dict[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    tokens: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for ep in eps:
        kind, _, user = ep.auth.partition(":")
        if kind == "token":
            tokens.setdefault(user, issue_token(env, user))
            out[ep.name] = {"Authorization": f"Bearer {tokens[user]}"}
        elif kind == "session":
            cookies.setdefault(user, session_cookie(base, user))
            out[ep.name] = {"Cookie": cookies[user]}
        else:
            out[ep.name] = {}
    return out


def items_in(base: str, ep: Endpoint, headers: dict[str, str]) -> str:
    """How much each answer carries (so a reader knows what the list held)."""
    r = requests.get(base + ep.path, headers=headers, timeout=30, allow_redirects=False)
    size = f"{len(r.content) / 1024:.1f} KB"
    if ep.path.startswith("/api/") and r.status_code == 200:
        body = r.json()
        n = len(body["items"]) if isinstance(body, dict) else len(body)
        total = body.get("count", n) if isinstance(body, dict) else n
        return f"{n} of {total} items, {size}"
    return f"HTTP {r.status_code}, {size}"


def measure_database(
    label: str, env: dict[str, str], eps: list[Endpoint], args: argparse.Namespace
) -> tuple[dict[int, dict[str, list[Result]]], dict[str, str], float]:
    print(f"\n== {label}: loading demo data", flush=True)
    demo = subprocess.run(
        [*CLI, "demo", "--no-serve"], env=env, capture_output=True, text=True, check=False
    )
    if demo.returncode:
        sys.exit(f"`mufakat demo --no-serve` failed:\n{demo.stdout}\n{demo.stderr}")
    subprocess.run([*CLI, "manage", "collectstatic", "--noinput", "-v0"], env=env, check=True)
    reservation = reserve_port()
    port = reservation.getsockname()[1]
    if args.unreserved_port:
        reservation.close()  # a server that cannot share the port (see --unreserved-port)
    base = f"http://127.0.0.1:{port}"
    log = Path(env["MUFAKAT_DATA_DIR"]).parent / f"{label}-server.log"
    client_cpu = time.process_time()
    server = start_server(env, port, args.workers, log, reservation)
    results: dict[int, dict[str, list[Result]]] = {}
    try:
        headers = auth_headers(eps, base, env)
        sizes = {ep.name: items_in(base, ep, headers[ep.name]) for ep in eps}
        for c in args.connections:
            results[c] = {ep.name: [] for ep in eps}
            for rep in range(args.repeats):
                for ep in eps:
                    r = measure_one(base, ep, headers[ep.name], server.pid, args, c=c)
                    results[c][ep.name].append(r)
                    print(
                        f"   {label} c={c} #{rep + 1} {ep.name}: {r.rps:.0f} req/s, "
                        f"p95 {percentile(r.latencies, 0.95):.0f} ms, {r.cpu_ms:.2f} ms CPU/req, "
                        f"{r.failures} failed, worker CPU split "
                        + "/".join(f"{w:.1f}" for w in r.worker_cpu if w > 0.05),
                        flush=True,
                    )
    finally:
        stop_server(server)
    return results, sizes, time.process_time() - client_cpu


def median_of(rs: list[Result], key: Callable[[Result], float]) -> float:
    return statistics.median(key(r) for r in rs)


def table(label: str, results: dict[int, dict[str, list[Result]]], sizes: dict[str, str]) -> str:
    lines = [
        f"#### {label}",
        "",
        "| connections | endpoint | req/s | ratio to /healthz | p50 ms | p95 ms | p99 ms | server CPU ms/req | fails | answer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c, by_ep in results.items():
        health = median_of(by_ep["healthz"], lambda r: r.rps) if "healthz" in by_ep else 0
        for name, rs in by_ep.items():
            rps = median_of(rs, lambda r: r.rps)
            ratio = f"{rps / health:.2f}" if health else "-"
            lines.append(
                f"| {c} | {name} | {rps:.0f} | {ratio} "
                f"| {median_of(rs, lambda r: percentile(r.latencies, 0.50)):.1f} "
                f"| {median_of(rs, lambda r: percentile(r.latencies, 0.95)):.1f} "
                f"| {median_of(rs, lambda r: percentile(r.latencies, 0.99)):.1f} "
                f"| {median_of(rs, lambda r: r.cpu_ms):.2f} "
                f"| {sum(r.failures for r in rs)} | {sizes[name]} |"
            )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--connections", default="1,10,50")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--only", choices=["sqlite", "postgresql"])
    p.add_argument("--endpoints", default="", help="comma-separated names (default: all)")
    p.add_argument(
        "--unreserved-port",
        action="store_true",
        help="release the reserved port before starting the server, for a server that binds "
        "without SO_REUSEPORT (a checkout from before it, run through PYTHONPATH); the check "
        "that every socket listening on the port is the server's own still applies",
    )
    args = p.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    wanted = set(filter(None, args.endpoints.split(",")))
    eps = [e for e in ENDPOINTS if not wanted or e.name in wanted]
    if wanted - {e.name for e in eps}:
        sys.exit(f"unknown endpoints: {', '.join(sorted(wanted - {e.name for e in eps}))}")
    pg_server = os.environ.get("MUFAKAT_BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    load_before = os.getloadavg()
    base_env = production_env()
    sections = []
    with tempfile.TemporaryDirectory(prefix="mufakat-throughput-") as tmp:
        if args.only in (None, "sqlite"):
            env = {**base_env, "MUFAKAT_DATA_DIR": str(Path(tmp) / "sqlite" / "data")}
            res, sizes, client = measure_database("SQLite", env, eps, args)
            sections.append(table("SQLite", res, sizes) + f"\n\nClient CPU: {client:.1f} s.")
        if args.only in (None, "postgresql"):
            if not reachable(5432):
                print("\nPostgreSQL: no server at 127.0.0.1:5432, skipped")
            else:
                with OwnDatabase(pg_server) as url:
                    env = {
                        **base_env,
                        "MUFAKAT_DATA_DIR": str(Path(tmp) / "pg" / "data"),
                        "DATABASE_URL": url,
                    }
                    res, sizes, client = measure_database("PostgreSQL", env, eps, args)
                    sections.append(
                        table("PostgreSQL", res, sizes) + f"\n\nClient CPU: {client:.1f} s."
                    )
    load_after = os.getloadavg()
    header = (
        f"{args.workers} worker(s), connections {args.connections}, {args.warmup:g} s warm-up + "
        f"{args.seconds:g} s per endpoint, {args.repeats} repeat(s) (medians); Python "
        f"{platform.python_version()}, {os.cpu_count()} cores; load average before "
        f"{load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, after "
        f"{load_after[0]:.1f} (other processes share these cores); client on the same machine"
    )
    report = header + "\n\n" + "\n\n".join(sections)
    print("\n" + report)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "throughput-latest.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
