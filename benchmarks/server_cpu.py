"""Server CPU per request: Django's own ASGI handler vs mufakat.asgi (WSGI handler on a thread pool).

    python3 -m uv run python benchmarks/server_cpu.py [--threads 8] [--rounds 10] [--repeats 5]

Loads the demo into a fresh SQLite data folder, then starts both servers side by side, each one
uvicorn process on a port this script reserved (same httptools protocol and event loop,
production settings): Django's native ASGI handler (the baseline, what `mufakat serve` ran
before) and `mufakat.asgi:application`. Logged-in clients on threads replay the locust mix
(home x3, map + stylesheet x2, organisations x2, notifications x2) as fast as answered, against
one server at a time, alternating between the two `--repeats` times so that a change of load
on the machine hits both; the server's own CPU time (user + system, from /proc) is divided by
the number of requests. Prints every repeat, the medians and the ratio of medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import requests

# Run as a script, so its folder is on sys.path and the sibling run.py imports directly.
from run import CLI, production_env, reserve_port, start_server, stop_server

MIX = ["/"] * 3 + ["/map/", "/static/core/css/mufakat.css"] * 2
MIX += ["/api/core/organisations"] * 2 + ["/api/core/notifications"] * 2
USERS = ["sg-analyst", "my-viewer", "th-analyst", "au-analyst", "id-viewer", "vn-analyst"]
SERVERS = {
    "Django ASGI handler": ["--factory", "django.core.asgi:get_asgi_application"],
    "mufakat.asgi (thread pool)": ["mufakat.asgi:application"],
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session(url: str, username: str) -> requests.Session:
    s = requests.Session()
    s.get(url + "/accounts/login/")
    r = s.post(
        url + "/accounts/login/",
        data={
            "username": username,
            "password": "mufakat-demo-2026",
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
        },
        allow_redirects=False,
    )
    if r.status_code != 302:
        sys.exit(f"log-in of {username} answered {r.status_code}")
    for path in MIX:  # warm caches and the session refresh before counting
        s.get(url + path)
    return s


def start(app: list[str], env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    reservation = reserve_port()
    port = reservation.getsockname()[1]
    factory = app[0] == "--factory"
    code = (
        "import sys; from mufakat.serving import serve_worker; "
        "serve_worker('127.0.0.1', int(sys.argv[1]), 'warning', sys.argv[2], "
        "factory=sys.argv[3] == '1')"
    )
    command = [sys.executable, "-c", code, str(port), app[-1], "1" if factory else "0"]
    server = start_server(env, port, 1, log, reservation, command=command)
    return f"http://127.0.0.1:{port}", server


def measure(url: str, server: subprocess.Popen[bytes], args: argparse.Namespace) -> float:
    sessions = [session(url, USERS[i % len(USERS)]) for i in range(args.threads)]
    count = [0]
    lock = threading.Lock()
    failed: list[str] = []

    def replay(s: requests.Session) -> None:
        for _ in range(args.rounds):
            for path in MIX:
                if s.get(url + path).status_code != 200:
                    failed.append(path)
                    return
                with lock:
                    count[0] += 1

    before = cpu_seconds(server.pid)
    workers = [threading.Thread(target=replay, args=(s,)) for s in sessions]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failed:
        sys.exit(f"{failed[0]} failed")
    return (cpu_seconds(server.pid) - before) / count[0] * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    load_before = os.getloadavg()[0]
    runs: dict[str, list[float]] = {label: [] for label in SERVERS}
    with tempfile.TemporaryDirectory(prefix="mufakat-cpu-") as tmp:
        env = {**production_env(), "MUFAKAT_DATA_DIR": str(Path(tmp) / "data")}
        subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        subprocess.run([*CLI, "manage", "collectstatic", "--noinput", "-v0"], env=env, check=True)
        servers = {
            label: start(app, env, Path(tmp) / f"server-{i}.log")
            for i, (label, app) in enumerate(SERVERS.items())
        }
        try:
            for rep in range(args.repeats):
                for label, (url, server) in servers.items():
                    runs[label].append(measure(url, server, args))
                    print(f"#{rep + 1} {label}: {runs[label][-1]:.2f} ms", flush=True)
        finally:
            for _url, server in servers.values():
                stop_server(server)
    (base, base_runs), (new, new_runs) = runs.items()
    base_ms, new_ms = statistics.median(base_runs), statistics.median(new_runs)
    print(
        f"load average before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f}; "
        f"{args.threads} clients x {args.rounds} rounds x {args.repeats} alternating repeats"
    )
    print(f"{base}: median {base_ms:.2f} ms server CPU per request")
    print(f"{new}: median {new_ms:.2f} ms server CPU per request")
    print(f"ratio of medians: {base_ms / new_ms:.2f}x less CPU per request")


if __name__ == "__main__":
    main()
