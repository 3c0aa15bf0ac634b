"""Authentication: throttled password log-in and bearer tokens for machine clients."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from mufakat.core.audit import log as audit
from mufakat.core.choices import AuditAction
from mufakat.core.models import ApiToken, LoginFailure

TOKEN_PREFIX = "mfk_"  # noqa: S105 - a public prefix, not a secret


def _window_start() -> Any:
    return timezone.now() - timedelta(seconds=settings.MUFAKAT_LOGIN_WINDOW_SECONDS)


def is_locked(username: str, ip: str | None) -> bool:
    q = Q(username__iexact=username)
    recent = LoginFailure.objects.filter(time__gte=_window_start())
    if recent.filter(q).count() >= settings.MUFAKAT_LOGIN_MAX_FAILURES:
        return True
    # A single address spraying many accounts is throttled at a higher bar.
    return bool(ip and recent.filter(ip=ip).count() >= settings.MUFAKAT_LOGIN_MAX_FAILURES * 4)


class ThrottledModelBackend(ModelBackend):
    """ModelBackend that refuses log-in after repeated failures within the window."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            return None
        ip = request.META.get("REMOTE_ADDR") if request is not None else None
        if is_locked(username, ip):
            if request is not None:
                request.mufakat_locked = True  # type: ignore[attr-defined]
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            LoginFailure.objects.create(username=username[:150], ip=ip)
            if is_locked(username, ip):
                audit.record(
                    AuditAction.LOCKOUT, object_type="auth.user", object_repr=username[:150]
                )
        else:
            LoginFailure.objects.filter(username__iexact=username).delete()
        return user

    def get_user(self, user_id: Any) -> Any:
        """The session's user with membership and organisation in the same query.

        Nearly every page needs them (models.membership_of); loading them here saves two
        queries per request.
        """
        user = (
            get_user_model()
            ._default_manager.select_related("membership__organisation")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


def issue_token(user: Any, name: str, days: int | None = 90) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[:12],
        digest=hashlib.sha256(raw.encode()).hexdigest(),
        expires=timezone.now() + timedelta(days=days) if days else None,
    )
    audit.record(
        AuditAction.TOKEN,
        actor=user,
        object_type="core.apitoken",
        object_id=str(token.pk),
        object_repr=token.name,
        message="issued",
    )
    return token, raw


def user_for_token(raw: str) -> Any:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    digest = hashlib.sha256(raw.encode()).hexdigest()
    # The membership and organisation come in the same query, as on the session path
    # (ThrottledModelBackend.get_user): restrict() needs them on every API request.
    token = (
        ApiToken.objects.select_related("user__membership__organisation")
        .filter(digest=digest)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires is not None and token.expires < now:
        return None
    if token.last_used is None or (now - token.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user
