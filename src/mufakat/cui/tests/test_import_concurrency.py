"""A large route upload runs as a job while other states keep working (security issue,
finding 7: one upload of 10,000 routes held SQLite's write lock for 44 s and another state's
log-in failed with a 500 "database is locked").

Real threads, a real SQLite file, committed transactions: the upload job runs in one thread;
meanwhile Viet Nam's analyst logs in, reads and writes, and Malaysia's analyst reports an
incident, each in the main thread, until the job ends. Every request must succeed (no 500, no
503), and the uploader must see the job's progress while it runs."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.urls import reverse

from mufakat.core import jobs
from mufakat.core.choices import RoleSlug
from mufakat.core.models import Job, JobStatus, Organisation
from mufakat.core.tenancy.factory import ensure_user
from mufakat.cui import jobs as cui_jobs
from mufakat.cui.models import Asset, AssetSource, Incident

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = 2_000  # 20 batches: long enough for requests from other states to land in between
PASSWORD = "concurrent-pass-1"


def routes(n: int) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"SG route {i:05d}", "kind": "cable"},
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [103.6 + i * 1e-4, 1.1],
                    [103.8 + i * 1e-4, 1.2],
                    [104.0 + i * 1e-4, 1.25],
                ],
            },
        }
        for i in range(n)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_large_upload_job_does_not_stall_other_states(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def user(code: str, name: str, roles: list[str]) -> Any:
        return ensure_user(name, Organisation.objects.get(code=code), roles, password=PASSWORD)

    sg = user("SG", "cc-sg-up", [RoleSlug.ANALYST, RoleSlug.REPORTER])
    vn = user("VN", "cc-vn-an", [RoleSlug.ANALYST])
    my = user("MY", "cc-my-an", [RoleSlug.ANALYST, RoleSlug.REPORTER])
    payload = routes(ROUTES)
    failures: list[BaseException] = []

    def upload() -> None:
        try:  # eager backend (tests): the job runs here, in this thread, batch by batch
            jobs.start(
                sg,
                cui_jobs.upload_assets,
                input_file=SimpleUploadedFile("routes.geojson", payload),
                filename="upload.geojson",
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    uploader = threading.Thread(target=upload)
    owner = Client()
    owner.force_login(sg)
    vn_client = Client()
    vn_client.force_login(vn)
    my_client = Client()
    my_client.force_login(my)
    statuses: dict[str, list[int]] = {"login": [], "read": [], "write": [], "report": []}
    progress_seen: list[tuple[int, int | None]] = []

    def exercise_while_running() -> None:
        n = 0
        while uploader.is_alive():
            n += 1
            job = Job.objects.filter(owner=sg).first()
            if job is None or job.status != JobStatus.RUNNING:
                time.sleep(0.01)
                continue  # only requests made while the import runs count
            login = Client().post(
                reverse("core:login"), {"username": vn.username, "password": PASSWORD}
            )
            statuses["login"].append(login.status_code)
            statuses["read"].append(vn_client.get("/api/cui/incidents").status_code)
            mark = vn_client.post(
                "/api/core/sharing-groups",
                {"name": f"VN-MY desk {n}", "description": "", "member_codes": ["MY"]},
                content_type="application/json",
            )
            statuses["write"].append(mark.status_code)
            report = my_client.post(
                "/api/cui/incidents",
                {
                    "title": f"Fault {n}",
                    "lat": 2.5,
                    "lon": 101.3,
                    "distribution": "org",
                    "tlp": "amber",
                },
                content_type="application/json",
            )
            statuses["report"].append(report.status_code)
            body = owner.get(f"/api/core/jobs/{job.pk}").json()
            if body["status"] == "running":
                progress_seen.append((body["done"], body["total"]))

    uploader.start()
    try:
        exercise_while_running()
    finally:  # never leave the test (and its table flush) with the import still writing
        uploader.join()

    assert not failures, failures
    job = Job.objects.get(owner=sg)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result is not None
    assert job.result["assets"] == {"created": ROUTES, "updated": 0, "unchanged": 0}
    assert Asset.objects.filter(source=AssetSource.UPLOAD, owner_org__code="SG").count() == ROUTES
    # Other states worked throughout, and none of it failed or was told to come back later.
    assert len(statuses["login"]) >= 3, statuses
    assert set(statuses["login"]) == {302}, statuses
    assert set(statuses["read"]) == {200}, statuses
    assert set(statuses["write"]) == {201}, statuses
    assert set(statuses["report"]) == {201}, statuses
    assert Incident.objects.filter(owner_org__code="MY").count() == len(statuses["report"])
    # The uploader saw the bar move: some progress before the end.
    assert any(total == ROUTES and 0 < done < ROUTES for done, total in progress_seen), (
        progress_seen
    )
