"""A busy database answers 503 with Retry-After and a clear message, never a 500.

SQLite has one writer at a time; a writer waits up to its busy timeout for the lock and then
fails with "database is locked". Imports write in short batches (cui.importers) so that wait
is normally a moment, but a request that still gives up must say "try again", not crash.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 5
# SQLite's lock errors and PostgreSQL's lock/statement timeouts.
_BUSY_MARKERS = (
    "database is locked",
    "database table is locked",
    "lock timeout",
    "could not obtain lock",
)


def is_busy(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError) and any(m in str(exc).lower() for m in _BUSY_MARKERS)


def busy_response(request: HttpRequest) -> HttpResponse:
    message = _("The database is busy right now. Please try again in a few seconds.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class BusyDatabaseMiddleware:
    """The same answer for a view's lock error when DEBUG shows tracebacks instead of
    calling handler500 (development and `mufakat demo`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return busy_response(request) if is_busy(exception) else None
