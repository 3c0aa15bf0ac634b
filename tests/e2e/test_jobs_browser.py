"""A route upload in a real browser: the upload page hands over to the job page, which shows
the job queued, follows it live (HTMX polling, no inline script) while the database queue
worker runs it, then shows the import report and stops polling."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect
from tests.e2e.test_shell import log_in, shot

from mufakat.core.models import Job, JobStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROUTES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": f"Mekong link {i}", "kind": "cable"},
            "geometry": {
                "type": "LineString",
                "coordinates": [[106.7, 10.3 + i / 100], [107.0, 10.1]],
            },
        }
        for i in range(3)
    ],
}


def test_upload_job_page_follows_progress_to_the_report(
    page: Page, live_server: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MUFAKAT_JOBS_BACKEND = "default"  # queued for the worker, as under `mufakat serve`
    log_in(page, live_server)
    upload = tmp_path / "routes.geojson"
    upload.write_text(json.dumps(ROUTES))
    page.goto(f"{live_server.url}/cui/upload/")
    page.get_by_label("What is it?").select_option("assets")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Import").click()

    card = page.locator("#job-card")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Route upload")
    expect(card).to_have_attribute("data-status", "queued")
    expect(card).to_have_attribute("hx-trigger", "every 1s")
    expect(card.get_by_role("button", name="Cancel")).to_be_visible()
    shot(page, "job-queued")

    call_command("db_worker", "--batch", "--queue-name", "default", verbosity=0)
    assert Job.objects.get().status == JobStatus.SUCCEEDED

    expect(card).to_have_attribute("data-status", "succeeded", timeout=10_000)
    expect(card).to_contain_text("3 created, 0 updated, 0 unchanged.")
    expect(card).not_to_have_attribute("hx-trigger", "every 1s")  # polling stopped
    expect(card.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.locator("progress.job-bar")).to_have_attribute("value", "3")
    shot(page, "job-succeeded")

    page.get_by_role("link", name="My jobs").first.click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    expect(page.locator("table.data")).to_contain_text("Route upload")
