"""Jobs API: `/api/core/jobs…`; another user's job answers 404, like a missing one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from mufakat.core.jobs import runner
from mufakat.core.jobs.models import Job
from mufakat.core.jobs.queries import get_job, visible_jobs

router = Router(tags=["core"])


class JobOut(Schema):
    id: int
    kind: str
    status: str
    done: int
    total: int | None
    percent: int | None
    message: str
    result: Any
    error: str
    cancel_requested: bool
    created: datetime
    started: datetime | None
    finished: datetime | None


@router.get("/jobs", response=list[JobOut])
@paginate
def list_jobs(request: HttpRequest) -> Any:
    """Your jobs, newest first (an organisation admin also sees the organisation's)."""
    return visible_jobs(request.user)


@router.get("/jobs/{job_id}", response=JobOut)
def get_job_status(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """A job's status, progress (done/total, percent, message), result or error."""
    return get_job(request.user, job_id).as_dict()


@router.post("/jobs/{job_id}/cancel", response=JobOut)
def cancel_job(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """Cancel a queued job, or ask a running one to stop at its next progress report;
    422 when it has already finished."""
    job: Job = runner.cancel(get_job(request.user, job_id))
    return job.as_dict()
