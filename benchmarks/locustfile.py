"""Load profile of an officer's session: log in once, then browse home, the map (page + its
stylesheet), the organisation list and the alert inbox through the API.

Run through benchmarks/run.py, which starts the server and a database; by hand:
`locust -f benchmarks/locustfile.py --headless -u 50 -r 50 -t 30s -H http://127.0.0.1:8000`.
"""

from __future__ import annotations

import csv
import itertools
import os
import threading
from typing import Any

from locust import HttpUser, between, events, task

STATES = ["bn", "kh", "id", "la", "my", "mm", "ph", "sg", "th", "tl", "vn"]
# Demo users without a second factor (focal points need a TOTP code at log-in).
USERNAMES = [f"{s}-{kind}" for s in STATES for kind in ("analyst", "viewer")] + [
    "au-analyst",
    "jp-analyst",
]
PASSWORD = "mufakat-demo-2026"  # noqa: S105 - the public demo password
_next_user = itertools.cycle(USERNAMES)
_lock = threading.Lock()
# Every request's start and duration, so run.py can report the log-in burst and the steady state
# apart (locust's own CSV only has whole-run percentiles).
_LOG_PATH = os.environ.get("MUFAKAT_BENCH_REQUEST_LOG")
_log: list[tuple[float, str, float, bool]] = []


@events.request.add_listener
def _record(
    name: str, response_time: float, start_time: float, exception: Any = None, **_: Any
) -> None:
    _log.append((start_time, name, response_time, exception is None))


@events.quitting.add_listener
def _dump(**_: Any) -> None:
    if _LOG_PATH:
        with open(_LOG_PATH, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["start", "name", "ms", "ok"])
            w.writerows(_log)


class Officer(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        with _lock:
            username = next(_next_user)
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            name="login (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"log-in of {username} answered {r.status_code}")

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(2)
    def map_page(self) -> None:
        self.client.get("/map/", name="map")
        self.client.get("/static/core/css/mufakat.css", name="static css")

    @task(2)
    def organisations(self) -> None:
        self.client.get("/api/core/organisations", name="api organisations")

    @task(2)
    def notifications(self) -> None:
        self.client.get("/api/core/notifications", name="api notifications")
