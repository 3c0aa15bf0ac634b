"""Server CPU per request: Django's own ASGI handler vs mufakat.asgi (WSGI handler on a thread pool).

    python3 -m uv run python benchmarks/server_cpu.py [--threads 8] [--rounds 40]

Loads the demo into a fresh SQLite data folder, then serves it twice with one uvicorn process
(same httptools protocol and event loop, production settings): first Django's native ASGI
handler (the baseline, what `mufakat serve` ran before), then `mufakat.asgi:application`. Logged-in
clients on threads replay the locust mix (home x3, map + stylesheet x2, organisations x2,
notifications x2) as fast as answered; the server's own CPU time (user + system, from /proc)
is divided by the number of requests. Unlike latency under load, this barely depends on what
else the machine runs. Prints both figures and the ratio.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import requests

# Run as a script, so its folder is on sys.path and the sibling run.py imports directly.
from run import CLI, free_port, production_env, wait_healthy

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


def measure(app: list[str], env: dict[str, str], args: argparse.Namespace) -> float:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *[sys.executable, "-m", "uvicorn"],
            *app,
            *["--port", str(port), "--http", "mufakat.serving:NoDelayHttpToolsProtocol"],
            *["--lifespan", "off", "--log-level", "warning"],
        ],
        env=env,
        start_new_session=True,
    )
    try:
        wait_healthy(url, server)
        sessions = [session(url, USERS[i % len(USERS)]) for i in range(args.threads)]
        count = [0]
        lock = threading.Lock()

        def replay(s: requests.Session) -> None:
            for _ in range(args.rounds):
                for path in MIX:
                    if s.get(url + path).status_code != 200:
                        sys.exit(f"{path} failed")
                    with lock:
                        count[0] += 1

        before = cpu_seconds(server.pid)
        workers = [threading.Thread(target=replay, args=(s,)) for s in sessions]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return (cpu_seconds(server.pid) - before) / count[0] * 1000
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--rounds", type=int, default=40)
    args = p.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mufakat-cpu-") as tmp:
        env = {**production_env(), "MUFAKAT_DATA_DIR": str(Path(tmp) / "data")}
        subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        subprocess.run([*CLI, "manage", "collectstatic", "--noinput", "-v0"], env=env, check=True)
        ms = {label: measure(app, env, args) for label, app in SERVERS.items()}
    (base, base_ms), (new, new_ms) = ms.items()
    print(f"load average before: {load_before:.1f}; {args.threads} clients x {args.rounds} rounds")
    print(f"{base}: {base_ms:.1f} ms server CPU per request")
    print(f"{new}: {new_ms:.1f} ms server CPU per request")
    print(f"ratio: {base_ms / new_ms:.2f}x less CPU per request")


if __name__ == "__main__":
    main()
