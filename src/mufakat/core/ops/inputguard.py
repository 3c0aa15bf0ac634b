"""Refuse NUL characters in request text before they reach a view.

PostgreSQL text cannot hold U+0000, so a NUL in a query parameter or JSON string used to end in a
database error (a 500) on PostgreSQL while SQLite stored it. Django forms already refuse NUL;
this guard covers query strings, url-encoded forms and JSON bodies on every path (pages, API,
HTMX) in one place. Multipart uploads are left to the form and upload checks, since binary files
legitimately contain NUL bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse

from mufakat.core.ops import safejson

MESSAGE = "Text may not contain NUL (U+0000) characters."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _body_has_nul(ctype: str, body: bytes) -> bool:
    if ctype == "application/x-www-form-urlencoded":
        return b"%00" in body or b"\x00" in body
    if b"\x00" in body:
        return True
    if ctype.endswith("json") and b"\\u0000" in body:
        try:
            return _has_nul(json.loads(body))
        except ValueError:
            return False  # malformed JSON is the parser's error to report
    return False


def request_has_nul(request: HttpRequest) -> bool:
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query or b"\x00" in unquote_to_bytes(request.path_info):
        return True
    ctype = request.content_type or ""
    if request.method in {"GET", "HEAD", "OPTIONS"} or ctype.startswith("multipart/"):
        return False
    return _body_has_nul(ctype, request.body)


def hostile_json_problem(request: HttpRequest) -> str | None:
    """Why a JSON body is refused (huge numbers, NaN, deep nesting, lone surrogates), if it is."""
    ctype = request.content_type or ""
    if request.method in {"GET", "HEAD", "OPTIONS"} or not ctype.endswith("json"):
        return None
    body = request.body
    if not body:
        return None
    try:
        safejson.loads(body, "The request body")
    except safejson.HostileJSONError as exc:
        return " ".join(exc.messages)
    return None


class RejectNulMiddleware:
    """Refuse NUL characters anywhere, and hostile JSON bodies, with a 400 that says why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = MESSAGE if request_has_nul(request) else hostile_json_problem(request)
        if problem:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": problem}, status=400)
            return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
