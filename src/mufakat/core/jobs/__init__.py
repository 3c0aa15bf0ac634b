"""Background jobs with progress (`docs/jobs.md`): a small helper over django.tasks.

@job_function("cui.upload_assets", label=_("Route upload"), result_template="cui/_x.html")
def upload(job: JobContext, *, filename: str) -> dict[str, Any]:
    for n, item in enumerate(items, 1):
        ...
        job.progress(n, len(items), _("Importing routes"))  # throttled; raises Cancelled
    return report  # JSON, shown on the job page

job = start(request.user, upload, input_file=f, filename=f.name)  # queued, runs as the user
run_in_console(upload, console=console, description="Importing", input_path=path, ...)
"""

from mufakat.core.jobs.console import ConsoleJobContext, run_in_console
from mufakat.core.jobs.models import Job, JobStatus
from mufakat.core.jobs.queries import get_job, visible_jobs
from mufakat.core.jobs.runner import (
    Cancelled,
    DatabaseJobContext,
    JobContext,
    JobKind,
    cancel,
    job_function,
    kind,
    start,
)

__all__ = [
    "Cancelled",
    "ConsoleJobContext",
    "DatabaseJobContext",
    "Job",
    "JobContext",
    "JobKind",
    "JobStatus",
    "cancel",
    "get_job",
    "job_function",
    "kind",
    "run_in_console",
    "start",
    "visible_jobs",
]
