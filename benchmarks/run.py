"""Load benchmark: the same locust profile against SQLite and PostgreSQL, side by side.

    python3 -m uv run python benchmarks/run.py [--users 50] [--seconds 30] [--workers 2]

For each arrival profile (all users at once, then 5 per second) and each database: a fresh
data folder (and, for PostgreSQL, a freshly created database `mufakat_bench` on the server of
MUFAKAT_BENCH_DATABASE_URL, default DATABASE_URL, default postgresql://root@127.0.0.1:5432;
the database named in that URL is not touched), `mufakat demo --no-serve`, then
`mufakat serve --workers N --no-worker` on a loopback port and locust headless with the given
users for a bounded time. Prints p50/p95/p99 latency and requests/s per endpoint, for the whole
run, the log-in burst and the steady state after it, with the PostgreSQL/SQLite ratio, and
writes benchmarks/results/latest.md.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "mufakat.cli"]
DEFAULT_PG = "postgresql://root@127.0.0.1:5432/mufakat"


def reserve_port() -> socket.socket:
    """A loopback port chosen by the kernel and held: the socket stays bound (never listening,
    so it receives no connections) until the server has bound the same port with SO_REUSEPORT
    (mufakat.serving). A port that was merely free a moment ago could meanwhile be taken by
    another engineer's server, and the benchmark would measure theirs."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", 0))
    return s


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    return inodes


def process_group_sockets(pgid: int) -> set[str]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    found.add(target[8:-1])
        except OSError:
            continue  # exited meanwhile
    return found


def start_server(
    env: dict[str, str],
    port: int,
    workers: int,
    log: Path,
    reservation: socket.socket,
    *,
    command: list[str] | None = None,
) -> subprocess.Popen[bytes]:
    """`mufakat serve` (or `command`) on the reserved port; returns once every socket listening
    on that port belongs to the server's own processes and /healthz answers."""
    server = subprocess.Popen(
        command
        or [
            *CLI,
            "serve",
            *["--port", str(port), "--workers", str(workers)],
            "--no-worker",
            "--no-migrate",
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(600):
            if server.poll() is not None:
                sys.exit(f"server exited with {server.returncode}; see {log}")
            listening = listening_inodes(port)
            if len(listening) >= workers:
                if listening - process_group_sockets(server.pid):
                    stop_server(server)
                    sys.exit(f"another process listens on port {port}: not measuring it")
                wait_healthy(f"http://127.0.0.1:{port}", server)
                return server
            time.sleep(0.1)
        stop_server(server)
        sys.exit("server did not listen within 60 s")
    finally:
        reservation.close()


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit("server did not become healthy in 60 s")


BENCH_DB_PREFIX = "mufakat_bench_"


class OwnDatabase:
    """A PostgreSQL database this run creates under a fresh random name and drops on exit.

    CREATE DATABASE fails if the name exists, so the database dropped at the end is always
    the one this run created; no other database on the server is touched (the one named in
    the server URL is used for nothing, not even the connection: "postgres" is)."""

    def __init__(self, server_url: str | None) -> None:
        self.server_url = server_url or DEFAULT_PG
        self.name = BENCH_DB_PREFIX + secrets.token_hex(6)
        self.created = False

    def _admin(self) -> Any:
        import psycopg

        admin = psycopg.conninfo.make_conninfo(self.server_url, dbname="postgres")
        return psycopg.connect(admin, autocommit=True)

    def __enter__(self) -> str:
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.created = True
        return urlsplit(self.server_url)._replace(path=f"/{self.name}").geturl()

    def __exit__(self, *exc: object) -> None:
        from psycopg import sql

        if not self.created or not self.name.startswith(BENCH_DB_PREFIX):
            return
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
        self.created = False


def measure(
    label: str, env: dict[str, str], args: argparse.Namespace, spawn_rate: float, out: Path
) -> dict[str, dict[str, float]]:
    print(f"\n== {label}: loading demo data", flush=True)
    demo = subprocess.run(
        [*CLI, "demo", "--no-serve"], env=env, capture_output=True, text=True, check=False
    )
    if demo.returncode:
        sys.exit(f"`mufakat demo --no-serve` failed:\n{demo.stdout}\n{demo.stderr}")
    # Static files as in a deployment: collected once, not looked up in packages per worker.
    subprocess.run([*CLI, "manage", "collectstatic", "--noinput", "-v0"], env=env, check=True)
    reservation = reserve_port()
    port = reservation.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = start_server(env, port, args.workers, out / f"{label}-server.log", reservation)
    try:
        print(f"== {label}: {args.users} users for {args.seconds} s against {url}", flush=True)
        prefix = out / label
        env = {**env, "MUFAKAT_BENCH_REQUEST_LOG": str(out / f"{label}-requests.csv")}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(spawn_rate or args.users),
                "-t",
                f"{args.seconds}s",
                "-H",
                url,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "5",
            ],
            env=env,
            check=False,  # failures are reported in the table
        )
    finally:
        stop_server(server)
    return summarise(out / f"{label}-requests.csv")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (what locust reports, without its 2-digit rounding)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else 0.0


def stats(reqs: list[tuple[float, str, float, bool]], seconds: float) -> dict[str, float]:
    ms = [r[2] for r in reqs]
    return {
        "count": len(reqs),
        "failures": sum(not r[3] for r in reqs),
        "p50": percentile(ms, 0.50),
        "p95": percentile(ms, 0.95),
        "p99": percentile(ms, 0.99),
        "rps": len(reqs) / seconds if seconds else 0.0,
    }


def summarise(log: Path) -> dict[str, dict[str, float]]:
    """Per-endpoint figures over the whole run, then all requests split at the moment the last
    user's log-in finished: the log-in burst before it, the steady state of 50 signed-in users
    after it."""
    with log.open() as f:
        reqs = [
            (float(r["start"]), r["name"], float(r["ms"]), r["ok"] == "True")
            for r in csv.DictReader(f)
        ]
    t0 = min(r[0] for r in reqs)
    t_end = max(r[0] + r[2] / 1000 for r in reqs)
    logged_in = max((r[0] + r[2] / 1000 for r in reqs if r[1] == "login (POST)"), default=t0)
    rows = {
        name: stats([r for r in reqs if r[1] == name], t_end - t0)
        for name in sorted({r[1] for r in reqs})
    }
    rows["all requests"] = stats(reqs, t_end - t0)
    rows["log-in burst"] = stats([r for r in reqs if r[0] < logged_in], logged_in - t0)
    rows["log-in burst"]["seconds"] = logged_in - t0
    rows["steady state (after the last log-in)"] = stats(
        [r for r in reqs if r[0] >= logged_in], t_end - logged_in
    )
    return rows


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    labels = list(results)
    names = list(results[labels[0]])
    head = "| endpoint | " + " | ".join(
        f"{lab} p50 ms | {lab} p95 ms | {lab} p99 ms | {lab} req/s | {lab} fails" for lab in labels
    )
    if len(labels) == 2:
        head += f" | p95 {labels[1]}/{labels[0]}"
    lines = [head + " |", "|" + "---|" * (1 + 5 * len(labels) + (len(labels) == 2))]
    for name in names:
        cells = []
        for lab in labels:
            r = results[lab].get(name, {"p50": 0, "p95": 0, "p99": 0, "rps": 0, "failures": 0})
            cells += [
                f"{r['p50']:.0f}",
                f"{r['p95']:.0f}",
                f"{r['p99']:.0f}",
                f"{r['rps']:.1f}",
                f"{r['failures']:.0f}",
            ]
        if len(labels) == 2:
            a, b = results[labels[0]].get(name), results[labels[1]].get(name)
            cells.append(f"{b['p95'] / a['p95']:.2f}" if a and b and a["p95"] else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for lab in labels:
        burst = results[lab].get("log-in burst", {})
        lines.append(
            f"\n{lab}: the log-in burst lasted {burst.get('seconds', 0):.1f} s "
            f"({burst.get('count', 0):.0f} requests)."
        )
    return "\n".join(lines)


def production_env() -> dict[str, str]:
    """Environment for a server with production settings (no DEBUG, no query log), minus the
    TLS redirect: loopback is plain HTTP."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "MUFAKAT_ENV"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="mufakat.settings",
        MUFAKAT_ENV="production",
        MUFAKAT_SECRET_KEY=secrets.token_urlsafe(64),
        MUFAKAT_SECURE_COOKIES="0",
        MUFAKAT_ALLOWED_HOSTS="127.0.0.1",
        MUFAKAT_LOG_LEVEL="WARNING",
    )
    return env


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--spawn-rate",
        type=float,
        action="append",
        help="users started per second; repeat for several profiles; 0 = all at once "
        "(default: 0 and 5)",
    )
    p.add_argument("--only", choices=["sqlite", "postgresql"])
    args = p.parse_args()
    base = production_env()
    pg_server = (
        os.environ.get("MUFAKAT_BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_PG
    )
    load_before = os.getloadavg()[0]
    reports = []
    with tempfile.TemporaryDirectory(prefix="mufakat-bench-") as tmp:
        out = Path(tmp)
        for rate in args.spawn_rate or [0.0, 5.0]:
            results: dict[str, dict[str, dict[str, float]]] = {}
            arrival = "all at once" if not rate else f"{rate:g} per second"
            tag = "burst" if not rate else f"r{rate:g}"
            if args.only in (None, "sqlite"):
                env = {**base, "MUFAKAT_DATA_DIR": str(out / f"sqlite-{tag}")}
                results["SQLite"] = measure(f"SQLite-{tag}", env, args, rate, out)
            if args.only in (None, "postgresql"):
                if reachable(5432):
                    with OwnDatabase(pg_server) as url:
                        env = {
                            **base,
                            "MUFAKAT_DATA_DIR": str(out / f"pg-{tag}"),
                            "DATABASE_URL": url,
                        }
                        results["PostgreSQL"] = measure(f"PostgreSQL-{tag}", env, args, rate, out)
                else:
                    print("\nPostgreSQL: no server at 127.0.0.1:5432, skipped")
            reports.append(f"### Users arriving {arrival}\n\n{table(results)}")
    header = (
        f"{args.users} users, {args.seconds} s, {args.workers} ASGI workers, loopback, locust on "
        f"the same machine; Python {platform.python_version()}, {os.cpu_count()} cores; load "
        f"average before the run {load_before:.1f} (other processes share these cores)"
    )
    report = "\n\n".join(reports)
    print(f"\n{header}\n\n{report}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.md").write_text(f"{header}\n\n{report}\n")


if __name__ == "__main__":
    main()
