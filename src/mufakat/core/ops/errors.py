"""The last line for errors no view handled: input the database or Python cannot represent is
the client's fault (400), a busy database is temporary (503 with Retry-After); only the rest is
a 500. Installed as Django's handler500, so it also covers errors raised in middleware (a session
saved while another process holds SQLite's write lock) and in API handlers."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from mufakat.core.ops.busy import busy_response, is_busy


def classify(exc: BaseException | None) -> tuple[int, str] | None:
    """(status, message) for an exception that is not a server fault, else None."""
    if exc is None:
        return None
    if isinstance(exc, OverflowError):
        return 400, _("A number in the request is out of range.")
    if isinstance(exc, RecursionError):
        return 400, _("The request is nested too deeply.")
    if isinstance(exc, UnicodeError):
        return 400, _("The request contains characters that cannot be stored.")
    return None


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if is_busy(exc):
        return busy_response(request)
    known = classify(exc)
    if known is None:
        return defaults.server_error(request)
    status, message = known
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return response
