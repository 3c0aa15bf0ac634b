"""Run registered job functions over django.tasks, in the background or inline, with progress.

A job function is `func(job: JobContext, **kwargs) -> result` registered with `@job_function`.
`start()` records a Job row and enqueues `run_job` on the configured task backend (the database
queue that `mufakat serve` works off, RQ with Redis, or Django's ImmediateBackend when
`MUFAKAT_JOBS_BACKEND` names one, which tests use to run jobs eagerly). The function runs under
`core.context.acting(owner)`, so what it writes is audited as the owner's.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, transaction
from django.tasks import task  # type: ignore[import-untyped,unused-ignore]
from django.tasks.backends.immediate import (  # type: ignore[import-untyped,unused-ignore]
    ImmediateBackend,
)
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from mufakat.core.jobs.models import Job, JobStatus
from mufakat.core.ops import context
from mufakat.core.tenancy.models import user_org

logger = logging.getLogger(__name__)

# At most one progress write (and cancel check) per interval: an import of 10,000 routes must
# not turn into 10,000 writes competing for the database's write lock.
PROGRESS_INTERVAL_SECONDS = 0.5


class Cancelled(Exception):  # noqa: N818 - reads as what happened: the job was cancelled
    """Raised from `progress()` once the job's owner asked to cancel it."""


class JobContext(Protocol):
    """What a job function sees, whether it runs on a worker, inline or in the CLI."""

    user: Any

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Report progress; raises Cancelled when a cancel was requested."""

    def input_bytes(self) -> bytes:
        """The file given to start() (or the CLI), read once."""


JobFunc = Callable[..., Any]
F = TypeVar("F", bound=JobFunc)


@dataclass(frozen=True)
class JobKind:
    name: str
    func: JobFunc
    label: str | Promise
    # Template rendering the result on the job page (context: job, result).
    result_template: str = ""


_KINDS: dict[str, JobKind] = {}


def job_function(name: str, *, label: str | Promise, result_template: str = "") -> Callable[[F], F]:
    """Register `func(job, **kwargs)` as a job kind; only registered functions can be run."""

    def register(func: F) -> F:
        existing = _KINDS.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"job kind {name!r} is already registered to {existing.func!r}")
        _KINDS[name] = JobKind(name, func, label, result_template)
        func.job_kind = name  # type: ignore[attr-defined]
        return func

    return register


def kind(name: str, module: str = "") -> JobKind | None:
    """The registered kind, importing the module that defines it (a worker process starts
    without it) when it belongs to an installed app."""
    if name not in _KINDS and module and apps.get_containing_app_config(module) is not None:
        import_module(module)
    return _KINDS.get(name)


def _kind_of(func: JobFunc) -> JobKind:
    name = getattr(func, "job_kind", None)
    if name is None or name not in _KINDS:
        raise ValueError(f"{func!r} is not a registered job function (use @job_function)")
    return _KINDS[name]


class DatabaseJobContext:
    """Progress stored on the Job row, throttled; each write also checks for a cancel."""

    def __init__(self, job: Job, interval: float | None = None) -> None:
        self.job = job
        self.user = job.owner
        self.interval = PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self.done = job.done
        self.total = job.total
        self.message = job.message
        self._last = 0.0

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        self.done = max(0, done)
        if total is not None:
            self.total = max(0, total)
        if message:
            self.message = message[:300]
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        self.flush()

    def flush(self) -> None:
        # One statement writes the progress and sees a cancel: zero rows means one was asked.
        try:
            written = Job.objects.filter(pk=self.job.pk, cancel_requested=False).update(
                done=self.done, total=self.total, message=self.message, updated=timezone.now()
            )
        except OperationalError:
            if connection.in_atomic_block:
                raise
            # Progress is advisory: a busy database must not fail the work it reports on.
            logger.warning("job %s: progress not written, database busy", self.job.pk)
            return
        if not written:
            raise Cancelled

    def input_bytes(self) -> bytes:
        if not self.job.input_file:
            raise ValidationError(_("This job was started without a file."))
        with self.job.input_file.open("rb") as f:
            data: bytes = f.read()
        return data


def start(
    user: Any, func: JobFunc, /, *, input_file: File[bytes] | None = None, **kwargs: Any
) -> Job:
    """Record a job for `user` and queue `func(job, **kwargs)`; kwargs must be JSON values.

    With a database or Redis queue the task is enqueued once the surrounding transaction
    commits (the worker must find the row); with an ImmediateBackend it runs now, and the
    returned Job already holds its outcome."""
    k = _kind_of(func)
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise TypeError(f"job {k.name}: keyword arguments must be JSON values ({exc})") from None
    ctx = context.current()
    job = Job(
        kind=k.name,
        owner=user,
        organisation=user_org(user),
        request_id=ctx.request_id if ctx else "",
    )
    if input_file is not None:
        job.input_file.save((input_file.name or "input").rsplit("/", 1)[-1], input_file, save=False)
    job.save()
    queued = run_job.using(backend=settings.MUFAKAT_JOBS_BACKEND)

    def enqueue() -> None:
        queued.enqueue(job.pk, func.__module__, kwargs)

    if isinstance(queued.get_backend(), ImmediateBackend):
        enqueue()
        job.refresh_from_db()
    else:
        transaction.on_commit(enqueue)
    return job


@task()  # type: ignore[untyped-decorator,unused-ignore]
def run_job(job_id: int, module: str, kwargs: dict[str, Any]) -> str:
    """The django.tasks entry point; the Job row, not the task result, holds the outcome."""
    return execute(job_id, module, kwargs)


def _clear_input(job: Job) -> None:
    if job.input_file:
        job.input_file.delete(save=False)


def _user_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) or _("Not allowed.")


def execute(job_id: int, module: str, kwargs: dict[str, Any]) -> str:
    """Claim a queued job, run it as its owner, and store how it ended; returns the status."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started=timezone.now()
    )
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if not claimed:  # cancelled while queued, or already run by another worker
        return job.status
    ctx = DatabaseJobContext(job)
    status, result, error = JobStatus.SUCCEEDED, None, ""
    with context.acting(job.owner, request_id=job.request_id or None):
        try:
            k = kind(job.kind, module)
            if k is None:
                raise ValidationError(_("Unknown kind of job: %s.") % job.kind)
            if job.cancel_requested:
                raise Cancelled
            value = k.func(ctx, **kwargs)
            result = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
        except Cancelled:
            status = JobStatus.CANCELLED
        except (ValidationError, PermissionDenied) as exc:
            status, error = JobStatus.FAILED, _user_message(exc)
        except OperationalError as exc:
            logger.warning("job %s (%s): database error: %s", job.pk, job.kind, exc)
            status = JobStatus.FAILED
            error = _("The database was too busy to finish this job. Please start it again.")
        except Exception:
            # The traceback is for the operator's log; the owner gets a reference to quote.
            logger.exception("job %s (%s) failed", job.pk, job.kind)
            status = JobStatus.FAILED
            error = _("The job failed unexpectedly. Quote reference %s to your administrator.") % (
                job.request_id or job.pk
            )
        finally:
            _clear_input(job)
    done = ctx.total if status == JobStatus.SUCCEEDED and ctx.total else ctx.done
    message = ctx.message
    if status == JobStatus.CANCELLED:
        message = _("Cancelled after %(done)d of %(total)s.") % {
            "done": ctx.done,
            "total": ctx.total if ctx.total is not None else "?",
        }
    Job.objects.filter(pk=job.pk).update(
        status=status,
        done=done,
        total=ctx.total,
        message=message[:300],
        result=result,
        error=error,
        cancel_requested=job.cancel_requested or status == JobStatus.CANCELLED,
        finished=timezone.now(),
        input_file="",
    )
    return str(status)


def cancel(job: Job) -> Job:
    """Ask a job to stop: a queued one is cancelled at once, a running one at its next progress
    report (work it already committed stays; imports are safe to re-run)."""
    if job.is_finished:
        raise ValidationError(_("This job has already finished."))
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED,
        cancel_requested=True,
        finished=now,
        message=_("Cancelled before it started."),
        input_file="",
    ):
        _clear_input(job)
    else:
        Job.objects.filter(pk=job.pk).update(cancel_requested=True, updated=now)
    job.refresh_from_db()
    return job
