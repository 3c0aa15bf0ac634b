"""Request id + action context, and session-level security checks."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from mufakat.core.ops import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# Sessions expire after MUFAKAT_SESSION_SECONDS idle. Saving the session on every request (one
# committed write each, ~20 ms with PostgreSQL's fsync) was the largest cost of a page; pushing
# the deadline forward at most once per this many seconds keeps idle expiry within that margin.
SESSION_REFRESH_SECONDS = 300
SESSION_SEEN_KEY = "mufakat_seen"


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Give each request an id (echoed as X-Request-ID) and bind the action context to it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())
        request.id = rid  # type: ignore[attr-defined]
        with context.acting(user=None, request_id=rid, ip=client_ip(request)) as ctx:
            request.mufakat_context = ctx  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


class SessionSecurityMiddleware:
    """Bind the user to the action context; hold users who must finish two-factor set-up.

    A user whose role requires a second factor and who has none reaches only the enrolment and
    log-out pages (and static files, health checks, the language switch): no page, no API call,
    no token, no admin. The API answers such a session with a JSON 403 that says what to do.
    """

    OPEN_PREFIXES = ("/static/", "/healthz", "/readyz", "/i18n/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ctx = getattr(request, "mufakat_context", None)
        if ctx is not None and request.user.is_authenticated:
            ctx.user = request.user
        if request.user.is_authenticated:
            now = int(time.time())
            if now - int(request.session.get(SESSION_SEEN_KEY, 0)) >= SESSION_REFRESH_SECONDS:
                request.session[SESSION_SEEN_KEY] = now  # saved with a fresh expiry date
        if request.user.is_authenticated and not self._open(request.path):
            from mufakat.core.accounts.twofactor import needs_enrolment

            if needs_enrolment(request.user):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "detail": _("Set up two-factor authentication first."),
                            "enrol": reverse("core:twofactor_setup"),
                        },
                        status=403,
                    )
                return redirect(reverse("core:twofactor_setup"))
        response = self.get_response(request)
        # Whatever a signed-in user (session or API token) is shown may be another state's
        # release to them: no shared or browser cache keeps it. Views that chose their own
        # policy (the revalidated map layers) keep it.
        if request.user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response

    def _open(self, path: str) -> bool:
        return path.startswith(self.OPEN_PREFIXES) or path in {
            reverse("core:twofactor_setup"),
            reverse("core:logout"),
        }
