"""TOTP second factor (RFC 6238), required for focal points and administrators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
import segno

from mufakat.core.audit import log as audit
from mufakat.core.choices import AuditAction
from mufakat.core.models import Membership, membership_of

ISSUER = "Mufakat"


def requires_two_factor(user: Any) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    # A flag on each role (declared by core or a module, editable as data).
    m = membership_of(user)
    return bool(m and any(r.two_factor for r in m.roles.all()))


def has_two_factor(user: Any) -> bool:
    m: Membership | None = getattr(user, "membership", None)
    return bool(m and m.totp_confirmed and m.totp_secret)


def needs_enrolment(user: Any) -> bool:
    return requires_two_factor(user) and not has_two_factor(user)


def start_enrolment(membership: Membership) -> str:
    """A fresh secret, stored unconfirmed until the first valid code."""
    membership.totp_secret = pyotp.random_base32()
    membership.totp_confirmed = False
    membership.save(update_fields=["totp_secret", "totp_confirmed"])
    return membership.totp_secret


def provisioning_uri(membership: Membership) -> str:
    return provisioning_uri_for(membership.user.get_username(), membership.totp_secret)


def provisioning_uri_for(username: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=4))


def _matching_step(secret: str, code: str, after_step: int) -> int | None:
    """The time step (one either side of now, for clock drift) whose code matches, if any."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6 or not secret:
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(datetime.now(UTC))
    for step in (now_step - 1, now_step, now_step + 1):
        if step > after_step and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def check_code(membership: Membership, code: str) -> bool:
    """Accept a code once (no replay), allowing one step of clock drift either way.

    The replay check and the write of the last used step are one conditional UPDATE: of
    several sessions presenting the same code at once, the database lets exactly one move
    totp_last_step forward (SQLite serialises writers; PostgreSQL re-evaluates the WHERE on the
    row after the competing update commits), and the others find nothing to update.
    """
    step = _matching_step(membership.totp_secret, code, membership.totp_last_step)
    if step is None:
        return False
    won = Membership.objects.filter(pk=membership.pk, totp_last_step__lt=step).update(
        totp_last_step=step
    )
    if not won:
        return False
    membership.totp_last_step = step
    return True


def confirm_enrolment(membership: Membership, code: str) -> bool:
    if not check_code(membership, code):
        return False
    with audit.logical_change(membership, AuditAction.TWO_FACTOR, "two-factor enabled"):
        membership.totp_confirmed = True
        membership.save(update_fields=["totp_confirmed"])
    return True


def new_secret() -> str:
    return pyotp.random_base32()


def replace_secret(membership: Membership, secret: str, code: str) -> bool:
    """Re-enrolment: switch to `secret` once a code from it proves the new device has it.

    The old secret stays in force until then, so an abandoned re-enrolment leaves the account
    exactly as protected as before.
    """
    step = _matching_step(secret, code, 0)
    if step is None:
        return False
    with audit.logical_change(membership, AuditAction.TWO_FACTOR, "two-factor device replaced"):
        membership.totp_secret = secret
        membership.totp_confirmed = True
        membership.totp_last_step = step
        membership.save(update_fields=["totp_secret", "totp_confirmed", "totp_last_step"])
    return True
