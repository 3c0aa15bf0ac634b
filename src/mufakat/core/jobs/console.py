"""Run a job function in the terminal with a Rich progress bar, driven by its progress calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mufakat.core.jobs.runner import JobFunc
from mufakat.core.ops import context


class ConsoleJobContext:
    """The same progress API as on a worker; Ctrl-C is the CLI's cancel."""

    def __init__(
        self, bar: Progress, task: TaskID, user: Any = None, input_path: Path | None = None
    ) -> None:
        self.bar = bar
        self.task = task
        self.user = user
        self.input_path = input_path
        self.done = 0
        self.total: int | None = None

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        self.done = done
        if total is not None:
            self.total = total
        fields: dict[str, Any] = {"completed": done, "total": self.total}
        if message:
            fields["description"] = message
        self.bar.update(self.task, **fields)  # Rich redraws at its own rate

    def input_bytes(self) -> bytes:
        if self.input_path is None:
            raise ValidationError(_("This job was started without a file."))
        try:
            return self.input_path.read_bytes()
        except OSError as exc:
            raise ValidationError(
                _("Cannot read %(path)s: %(error)s")
                % {"path": self.input_path, "error": exc.strerror}
            ) from None


def run_in_console(
    func: JobFunc,
    /,
    *,
    console: Console,
    description: str,
    user: Any = None,
    input_path: Path | None = None,
    **kwargs: Any,
) -> Any:
    """Run `func(job, **kwargs)` now, as `user` (None: the operator at the shell), showing its
    progress; returns what it returns and lets its exceptions through."""
    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar,
        context.acting(user),
    ):
        task = bar.add_task(description, total=None)
        job = ConsoleJobContext(bar, task, user, input_path)
        result = func(job, **kwargs)
        if job.total is not None:
            bar.update(task, completed=job.total)
        return result
