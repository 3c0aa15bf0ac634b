"""core.jobs: jobs run as their owner with throttled progress, fail with a clear message, can be
cancelled, are seen only by their owner (and the owner's organisation admins), run eagerly,
on the database queue worker and in the terminal; a locked database answers 503, not 500."""

from __future__ import annotations

import io
import logging
import sqlite3
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rich.console import Console

from mufakat.core import jobs
from mufakat.core.jobs import runner
from mufakat.core.models import Job, JobStatus, Organisation
from mufakat.core.ops import context
from mufakat.core.tenancy.factory import ensure_user


@jobs.job_function("tests.count", label="Counting")
def count(job: jobs.JobContext, *, n: int, fail: str = "", cancel_at: int = -1) -> dict[str, Any]:
    ctx = context.current()
    for i in range(1, n + 1):
        if i == cancel_at:  # as if the owner pressed Cancel in another request
            Job.objects.filter(pk=job.job.pk).update(cancel_requested=True)  # type: ignore[attr-defined]
        job.progress(i, n, f"item {i}")
    if fail == "invalid":
        raise ValidationError("Row 3: the depth must be a number.")
    if fail == "crash":
        raise RuntimeError("secret internal detail")
    return {"counted": n, "as": ctx.user.get_username() if ctx and ctx.user else None}


@jobs.job_function("tests.read_file", label="Reading")
def read_file(job: jobs.JobContext) -> dict[str, Any]:
    return {"bytes": len(job.input_bytes()), "head": job.input_bytes()[:5].decode()}


def unregistered(job: jobs.JobContext) -> None:
    pass


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    sg = Organisation.objects.get(code="SG")
    vn = Organisation.objects.get(code="VN")
    return {
        "owner": ensure_user("sg-owner", sg, ["analyst"]),
        "colleague": ensure_user("sg-colleague", sg, ["analyst"]),
        "sg_admin": ensure_user("sg-orgadmin", sg, ["org_admin"]),
        "vn_admin": ensure_user("vn-orgadmin", vn, ["org_admin"]),
    }


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_eager_job_runs_as_owner_with_throttled_progress(people: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as queries:
        job = jobs.start(people["owner"], count, n=5000)
    assert job.status == JobStatus.SUCCEEDED
    assert (job.done, job.total, job.percent) == (5000, 5000, 100)
    assert job.result == {"counted": 5000, "as": "sg-owner"}  # ran under acting(owner)
    assert job.organisation is not None
    assert job.organisation.code == "SG"
    assert job.started is not None
    assert job.finished is not None
    progress_writes = [
        q for q in queries.captured_queries if q["sql"].startswith('UPDATE "core_job"')
    ]
    assert 2 <= len(progress_writes) < 20  # 5,000 progress calls, a handful of writes


def test_failures_say_what_went_wrong_without_a_traceback(
    people: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    invalid = jobs.start(people["owner"], count, n=3, fail="invalid")
    assert invalid.status == JobStatus.FAILED
    assert invalid.error == "Row 3: the depth must be a number."
    with caplog.at_level(logging.ERROR, logger="mufakat.core.jobs.runner"):
        crash = jobs.start(people["owner"], count, n=3, fail="crash")
    assert crash.status == JobStatus.FAILED
    assert "failed unexpectedly" in crash.error
    assert "secret internal detail" not in crash.error
    assert "Traceback" not in crash.error
    assert "secret internal detail" in caplog.text  # the operator's log has it
    page = client_for(people["owner"]).get(reverse("core:job", args=[crash.pk])).content.decode()
    assert "failed unexpectedly" in page
    assert "secret internal detail" not in page


def test_only_registered_functions_with_json_arguments_start(people: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not a registered job function"):
        jobs.start(people["owner"], unregistered)
    with pytest.raises(TypeError, match="JSON"):
        jobs.start(people["owner"], count, n=object())
    assert not Job.objects.exists()


def test_running_job_cancelled_at_its_next_progress_report(
    people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PROGRESS_INTERVAL_SECONDS", 0.0)
    job = jobs.start(people["owner"], count, n=100, cancel_at=40)
    assert job.status == JobStatus.CANCELLED
    assert job.cancel_requested
    assert job.done == 40  # the report that saw the cancel
    assert job.message == "Cancelled after 40 of 100."
    assert job.result is None


def test_queued_job_cancelled_at_once_and_never_runs(
    people: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MUFAKAT_JOBS_BACKEND = "default"  # the database queue: nothing runs inline
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = jobs.start(people["owner"], count, n=3)
    assert len(callbacks) == 1  # enqueued once the row is committed
    assert job.status == JobStatus.QUEUED
    resp = client_for(people["owner"]).post(f"/api/core/jobs/{job.pk}/cancel")
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "cancelled"
    assert runner.execute(job.pk, __name__, {"n": 3}) == "cancelled"  # the worker skips it
    job.refresh_from_db()
    assert job.done == 0
    again = client_for(people["owner"]).post(f"/api/core/jobs/{job.pk}/cancel")
    assert again.status_code == 422
    assert "already finished" in again.content.decode()


def test_input_file_is_read_by_the_job_and_removed_after(people: dict[str, Any]) -> None:
    f = SimpleUploadedFile("routes.geojson", b"hello world")
    job = jobs.start(people["owner"], read_file, input_file=f)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"bytes": 11, "head": "hello"}
    assert not job.input_file
    assert not list((settings.MEDIA_ROOT / "jobs").glob("routes*"))


def test_another_users_job_is_missing_except_to_own_org_admin(people: dict[str, Any]) -> None:
    job = jobs.start(people["owner"], count, n=2)
    urls = [reverse("core:job", args=[job.pk]), f"/api/core/jobs/{job.pk}"]
    for who in ("owner", "sg_admin"):
        c = client_for(people[who])
        assert [c.get(u).status_code for u in urls] == [200, 200], who
        assert f'data-pk="{job.pk}"' in c.get(reverse("core:jobs")).content.decode()
        assert [j["id"] for j in c.get("/api/core/jobs").json()["items"]] == [job.pk]
    for who in ("colleague", "vn_admin"):
        c = client_for(people[who])
        missing = [c.get(u.replace(str(job.pk), "999999")).status_code for u in urls]
        assert [c.get(u).status_code for u in urls] == [404, 404] == missing, who
        assert c.post(reverse("core:job_cancel", args=[job.pk])).status_code == 404
        assert c.post(f"/api/core/jobs/{job.pk}/cancel").status_code == 404
        assert f'data-pk="{job.pk}"' not in c.get(reverse("core:jobs")).content.decode()
        assert c.get("/api/core/jobs").json()["items"] == []
    assert Client().get(f"/api/core/jobs/{job.pk}").status_code == 401
    assert Client().get(urls[0]).status_code == 302  # to the log-in page
    big = client_for(people["owner"])
    assert big.get(reverse("core:job", args=[2**70])).status_code == 404
    assert big.get(f"/api/core/jobs/{2**70}").status_code == 404


def test_job_page_polls_until_finished_without_inline_script(
    people: dict[str, Any], settings: Any
) -> None:
    settings.MUFAKAT_JOBS_BACKEND = "default"
    job = jobs.start(people["owner"], count, n=10)  # queued: the db test never commits
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, done=4, total=10)
    c = client_for(people["owner"])
    page = c.get(reverse("core:job", args=[job.pk]))
    html = page.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'value="4"' in html
    assert "4 of 10 (40 %)" in html
    assert "<script>" not in html  # CSP: scripts come from static files only
    assert "no-store" in page["Cache-Control"]
    poll = c.get(reverse("core:job", args=[job.pk]), headers={"HX-Request": "true"})
    assert poll.content.decode().lstrip().startswith('<section id="job-card"')
    assert "Cancel" in poll.content.decode()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, done=10)
    done = c.get(reverse("core:job", args=[job.pk]), headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.content.decode()  # the swapped-in card stops polling
    assert "Cancel" not in done.content.decode()


def test_htmx_cancel_button_swaps_the_card(people: dict[str, Any], settings: Any) -> None:
    settings.MUFAKAT_JOBS_BACKEND = "default"
    job = jobs.start(people["owner"], count, n=10)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    c = client_for(people["owner"])
    resp = c.post(reverse("core:job_cancel", args=[job.pk]), headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert "cancelling" in resp.content.decode()
    job.refresh_from_db()
    assert job.cancel_requested
    assert job.status == JobStatus.RUNNING  # it stops at its next progress report


def test_console_runs_the_same_function_with_a_rich_bar(people: dict[str, Any]) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    result = jobs.run_in_console(
        count, console=console, description="Counting things", user=people["owner"], n=50
    )
    assert result == {"counted": 50, "as": "sg-owner"}
    text = out.getvalue()
    assert "50/50" in text
    assert "item 50" in text  # the progress message became the bar's description
    assert not Job.objects.exists()  # the terminal is its own progress display


@pytest.mark.django_db(transaction=True)
def test_database_queue_worker_runs_the_job() -> None:
    owner = ensure_user("sg-worker-owner", Organisation.objects.get(code="SG"), ["analyst"])
    from django.test import override_settings

    with override_settings(MUFAKAT_JOBS_BACKEND="default"):
        job = jobs.start(owner, count, n=7)  # autocommit: enqueued at once
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    call_command("db_worker", "--batch", "--queue-name", "default", verbosity=0)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"counted": 7, "as": "sg-worker-owner"}


@pytest.mark.django_db(transaction=True)
def test_locked_database_answers_503_with_retry_after() -> None:
    """Another writer holds SQLite's write lock past the busy timeout: a log-in and an API
    write say "try again" (503, Retry-After), never 500; reads still work (WAL)."""
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite's single-writer lock; this runs in the suite's SQLite pass")
    user = ensure_user("vn-locked", Organisation.objects.get(code="VN"), ["analyst"])
    user.set_password("locked-out-password-1")
    user.save()
    api_client = client_for(user)
    api_client.get(reverse("core:home"))
    holder = sqlite3.connect(str(connection.settings_dict["NAME"]), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        connection.ensure_connection()
        with connection.cursor() as c:
            c.execute("PRAGMA busy_timeout = 200")  # not 20 s: this is a test
        anon = Client(raise_request_exception=False)
        login = anon.post(
            reverse("core:login"), {"username": "vn-locked", "password": "locked-out-password-1"}
        )
        assert login.status_code == 503
        assert login["Retry-After"]
        assert "try again" in login.content.decode()
        write = api_client.post(
            "/api/core/sharing-groups",
            {"name": "Locked group", "description": "", "members": []},
            content_type="application/json",
        )
        assert write.status_code == 503, write.content
        assert "try again" in write.json()["detail"]
        assert api_client.get("/api/core/organisations").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        connection.close()  # the next test gets the normal busy timeout back
