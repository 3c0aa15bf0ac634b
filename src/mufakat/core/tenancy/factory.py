"""The one user factory: demo data, tests and the CLI make users the same way."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyotp
from django.contrib.auth import get_user_model

from mufakat.core.models import Membership, Organisation, Role


def ensure_user(
    username: str,
    org: Organisation | None,
    roles: Iterable[str] = (),
    *,
    password: str | None = None,
    email: str | None = None,
    two_factor: bool | None = None,
) -> Any:
    """The user `username` in `org` holding exactly `roles`, created if missing (idempotent).

    A second factor is enrolled when any role asks for one (two_factor=None), or as told. With
    no password the account cannot log in by password (tests log in with force_login)."""
    user_model = get_user_model()
    domain = f"{org.code.lower()}.mufakat.invalid" if org is not None else "mufakat.invalid"
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"email": email or f"{username}@{domain}"}
    )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    if org is None:
        return user
    m, _ = Membership.objects.get_or_create(user=user, defaults={"organisation": org})
    chosen = list(Role.objects.filter(slug__in=set(roles)))
    m.roles.set(chosen)
    enrol = any(r.two_factor for r in chosen) if two_factor is None else two_factor
    if enrol and not m.totp_confirmed:
        m.totp_secret = pyotp.random_base32()
        m.totp_confirmed = True
        m.save(update_fields=["totp_secret", "totp_confirmed"])
    return user
