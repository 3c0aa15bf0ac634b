"""Load profile of an officer's session: log in once, then browse home, the map (page + its
stylesheet), the organisation list and the alert inbox through the API.

Run through benchmarks/run.py, which starts the server and a database; by hand:
`locust -f benchmarks/locustfile.py --headless -u 50 -r 50 -t 30s -H http://127.0.0.1:8000`.
"""

from __future__ import annotations

import itertools
import threading

from locust import HttpUser, between, task

STATES = ["bn", "kh", "id", "la", "my", "mm", "ph", "sg", "th", "tl", "vn"]
# Demo users without a second factor (focal points need a TOTP code at log-in).
USERNAMES = [f"{s}-{kind}" for s in STATES for kind in ("analyst", "viewer")] + [
    "au-analyst",
    "jp-analyst",
]
PASSWORD = "mufakat-demo-2026"  # noqa: S105 - the public demo password
_next_user = itertools.cycle(USERNAMES)
_lock = threading.Lock()


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
