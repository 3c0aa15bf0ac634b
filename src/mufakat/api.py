"""The JSON API: one NinjaAPI, one router per module, session auth for browsers, bearer tokens
for machines. Operation ids are "<router tag>_<function name>" so clients can rely on them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from mufakat.core import registry
from mufakat.core.accounts.auth import user_for_token
from mufakat.core.filtering import reject_unknown_query
from mufakat.core.ops.busy import busy_response, is_busy


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        ctx = getattr(request, "mufakat_context", None)
        if ctx is not None:
            ctx.user = user
        return user


class SessionAuth(APIKeyCookie):
    """Django session (CSRF-checked on unsafe methods); anonymous callers fall through."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


class OptionalAuth(SessionAuth):
    """For endpoints that also answer anonymous callers (public records only)."""

    def __call__(self, request: HttpRequest) -> Any:
        user = super().__call__(request)
        return user if user is not None else request.user


def operation_id(operation: Any) -> str:
    tags = operation.tags or ["api"]
    return f"{tags[0].replace('-', '_')}_{operation.view_func.__name__}"


class MufakatAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        return operation_id(operation)


api = MufakatAPI(
    title="Mufakat API",
    version="1.0.0",
    description="Member-state records, shared under each owner's distribution and TLP marking. "
    "Authenticate with a session cookie (browser) or `Authorization: Bearer mfk_…` (machine clients; "
    "create a token under Account → API tokens). Records you may not see answer 404, like missing ones.",
    auth=[TokenAuth(), SessionAuth(csrf=True)],
    urls_namespace="api",
    openapi_extra={"info": {"license": {"name": "Apache-2.0"}}},
)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not allowed."}, status=403)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # An id or number past what the database holds (e.g. 2**70) names nothing that exists.
    return api.create_response(
        request, {"detail": "A number in the request is out of range."}, status=400
    )


@api.exception_handler(OperationalError)
def _database_error(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    if is_busy(exc):
        return busy_response(request)
    raise exc


@api.exception_handler(AuthenticationError)
def _unauth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Authentication required."}, status=401)


# Endpoints whose query string a FilterSet defines refuse parameters they do not declare.
api.add_decorator(reject_unknown_query, mode="view")

api.add_router("/core/", "mufakat.core.api.router")
for _spec in registry.modules():
    if _spec.api:
        api.add_router(f"/{_spec.api_prefix or _spec.label}/", registry.resolve(_spec.api))
