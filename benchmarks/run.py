"""Load benchmark: the same locust profile against SQLite and PostgreSQL, side by side.

    python3 -m uv run python benchmarks/run.py [--users 50] [--seconds 30] [--workers 2]

For each database: a fresh data folder (and, for PostgreSQL, the database named by
MUFAKAT_BENCH_DATABASE_URL, default DATABASE_URL, default postgresql://root@127.0.0.1:5432/mufakat),
`mufakat demo --no-serve`, then `mufakat serve --workers N --no-worker` on a loopback port and
locust headless with the given users for a bounded time. Prints p50/p95 latency and requests/s
per endpoint with the PostgreSQL/SQLite ratio, and writes benchmarks/results/latest.md.
"""

from __future__ import annotations

import argparse
import csv
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

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "mufakat.cli"]
DEFAULT_PG = "postgresql://root@127.0.0.1:5432/mufakat"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def measure(
    label: str, env: dict[str, str], args: argparse.Namespace, out: Path
) -> dict[str, dict[str, float]]:
    print(f"\n== {label}: loading demo data", flush=True)
    subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
    # Static files as in a deployment: collected once, not looked up in packages per worker.
    subprocess.run([*CLI, "manage", "collectstatic", "--noinput", "-v0"], env=env, check=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-worker",
            "--no-migrate",
        ],
        env=env,
        stdout=(out / f"{label}-server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_healthy(url, server)
        print(f"== {label}: {args.users} users for {args.seconds} s against {url}", flush=True)
        prefix = out / label
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
                str(args.users),
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
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    rows: dict[str, dict[str, float]] = {}
    with (out / f"{label}_stats.csv").open() as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "rps": float(row["Requests/s"]),
            }
    return rows


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    labels = list(results)
    names = [n for n in results[labels[0]] if n != "Aggregated"] + ["Aggregated"]
    head = "| endpoint | " + " | ".join(
        f"{lab} p50 ms | {lab} p95 ms | {lab} req/s | {lab} fails" for lab in labels
    )
    if len(labels) == 2:
        head += f" | p95 {labels[1]}/{labels[0]}"
    lines = [head + " |", "|" + "---|" * (1 + 4 * len(labels) + (len(labels) == 2))]
    for name in names:
        cells = []
        for lab in labels:
            r = results[lab].get(name, {"p50": 0, "p95": 0, "rps": 0, "failures": 0})
            cells += [
                f"{r['p50']:.0f}",
                f"{r['p95']:.0f}",
                f"{r['rps']:.1f}",
                f"{r['failures']:.0f}",
            ]
        if len(labels) == 2:
            a, b = results[labels[0]].get(name), results[labels[1]].get(name)
            cells.append(f"{b['p95'] / a['p95']:.2f}" if a and b and a["p95"] else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
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
    p.add_argument("--only", choices=["sqlite", "postgresql"])
    args = p.parse_args()
    base = production_env()
    pg_url = (
        os.environ.get("MUFAKAT_BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_PG
    )
    results: dict[str, dict[str, dict[str, float]]] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mufakat-bench-") as tmp:
        out = Path(tmp)
        if args.only in (None, "sqlite"):
            env = {**base, "MUFAKAT_DATA_DIR": str(out / "sqlite-data")}
            results["SQLite"] = measure("SQLite", env, args, out)
        if args.only in (None, "postgresql"):
            if reachable(5432):
                env = {**base, "MUFAKAT_DATA_DIR": str(out / "pg-data"), "DATABASE_URL": pg_url}
                results["PostgreSQL"] = measure("PostgreSQL", env, args, out)
            else:
                print("\nPostgreSQL: no server at 127.0.0.1:5432, skipped")
    report = table(results)
    header = (
        f"{args.users} users, {args.seconds} s, {args.workers} ASGI workers, loopback; "
        f"Python {platform.python_version()}, {os.cpu_count()} cores; load average before the "
        f"run {load_before:.1f} (other processes share these cores)"
    )
    print(f"\n{header}\n\n{report}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.md").write_text(f"{header}\n\n{report}\n")


if __name__ == "__main__":
    main()
