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
    return pyotp.TOTP(membership.totp_secret).provisioning_uri(
        name=membership.user.get_username(), issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=4))


def check_code(membership: Membership, code: str) -> bool:
    """Accept a code once (no replay), allowing one step of clock drift either way."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6 or not membership.totp_secret:
        return False
    totp = pyotp.TOTP(membership.totp_secret)
    now_step = totp.timecode(datetime.now(UTC))
    for step in (now_step - 1, now_step, now_step + 1):
        if step <= membership.totp_last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            membership.totp_last_step = step
            membership.save(update_fields=["totp_last_step"])
            return True
    return False


def confirm_enrolment(membership: Membership, code: str) -> bool:
    if not check_code(membership, code):
        return False
    membership.totp_confirmed = True
    membership.save(update_fields=["totp_confirmed"])
    audit.record(AuditAction.TWO_FACTOR, membership, message="two-factor enabled")
    return True
