"""Authentication: throttled password log-in and bearer tokens for machine clients."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

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


def record_failure(username: str, ip: str | None, *, second_factor: bool = False) -> bool:
    """Count one failed attempt; audit the lock-out it may cause. True when now locked."""
    was_locked = is_locked(username, ip)
    LoginFailure.objects.create(username=username[:150], ip=ip, second_factor=second_factor)
    if second_factor:
        # Django's user_login_failed signal covers passwords only: wrong codes are audited here.
        audit.record(
            AuditAction.LOGIN_FAILED,
            object_type="auth.user",
            object_repr=username[:150],
            message="wrong second-factor code",
        )
    locked = is_locked(username, ip)
    if locked and not was_locked:
        audit.record(AuditAction.LOCKOUT, object_type="auth.user", object_repr=username[:150])
    return locked


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
            record_failure(username, ip)
        else:
            # Only password failures are forgiven by the right password; wrong second-factor
            # codes stay until the window passes, so guessing codes still ends in a lock-out.
            LoginFailure.objects.filter(username__iexact=username, second_factor=False).delete()
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


class TokenRefused(PermissionDenied):
    """A token may not be issued to this user (yet)."""


def issue_token(
    user: Any, name: str, days: int | None = 90, *, expires: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token valid for `days` (or until `expires`); the plain value is returned once
    and never stored."""
    from mufakat.core.accounts.twofactor import needs_enrolment

    # A token is a second way in that skips the second factor: nobody whose role requires
    # two-factor gets one before enrolling.
    if needs_enrolment(user):
        raise TokenRefused(_("Set up two-factor authentication before creating API tokens."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    if expires is None and days:
        expires = timezone.now() + timedelta(days=days)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[:12],
        digest=hashlib.sha256(raw.encode()).hexdigest(),
        expires=expires,
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


def revoke_token(token: ApiToken, actor: Any = None) -> None:
    """Delete a token (it stops working at once) and audit who revoked it."""
    pk, name = token.pk, token.name
    with transaction.atomic():
        token.delete()
        audit.record(
            AuditAction.TOKEN,
            actor=actor or token.user,
            object_type="core.apitoken",
            object_id=str(pk),
            object_repr=name,
            message="revoked",
        )


def revoke_own_token(user: Any, pk: int) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs or missing."""
    token = ApiToken.objects.filter(user_id=user.pk or 0, pk=pk).first()
    if token is None:
        return False
    revoke_token(token, user)
    return True


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
    from mufakat.core.accounts.twofactor import needs_enrolment

    # Tokens minted before the user's role came to require two-factor stop working until they
    # enrol, exactly like their session is held on the enrolment page.
    if needs_enrolment(token.user):
        return None
    now = timezone.now()
    if token.expires is not None and token.expires < now:
        return None
    if token.last_used is None or (now - token.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user
