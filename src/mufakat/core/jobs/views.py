"""Job pages: my jobs, one job with a live progress bar (HTMX polling), cancel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from mufakat.core.jobs import runner
from mufakat.core.jobs.models import Job
from mufakat.core.jobs.queries import get_job, visible_jobs


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)


def _context(job: Job) -> dict[str, Any]:
    k = runner.kind(job.kind)
    return {
        "job": job,
        "label": k.label if k else job.kind,
        "result_template": k.result_template if k else "",
        "result": job.result,
    }


@login_required
@cache_control(private=True, no_store=True)
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(visible_jobs(request.user), 25).get_page(request.GET.get("page"))
    rows = [_context(j) for j in page.object_list]
    return render(request, "core/jobs/list.html", {"page": page, "rows": rows})


@login_required
@cache_control(private=True, no_store=True)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The full page, or (HTMX poll) just the progress card, which stops polling once the job
    has finished: the swapped-in card no longer carries hx-trigger."""
    job = get_job(request.user, pk)
    template = "core/jobs/job.html#card" if _partial(request) else "core/jobs/job.html"
    return render(request, template, _context(job))


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job(request.user, pk)
    try:
        job = runner.cancel(job)
    except ValidationError as exc:
        if not _partial(request):
            messages.info(request, " ".join(exc.messages))
    if _partial(request):
        return render(request, "core/jobs/job.html#card", _context(job))
    return redirect("core:job", pk=job.pk)
