"""Organisation admins manage their own members: accounts and roles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from mufakat.core.audit import log as audit
from mufakat.core.choices import AuditAction, RoleSlug
from mufakat.core.models import (
    Membership,
    Organisation,
    Role,
    role_slugs,
    user_org,
)
from mufakat.core.sharing.services import OutOfScope


def assignable_roles() -> models.QuerySet[Role]:
    """Roles an organisation admin may hand out (a flag on each role; platform administration
    is granted by operators only)."""
    return Role.objects.filter(org_assignable=True)


def is_org_admin(user: Any) -> bool:
    m = getattr(user, "membership", None) if getattr(user, "is_authenticated", False) else None
    return bool(m and RoleSlug.ORG_ADMIN in role_slugs(user))


def _admin_org(actor: Any) -> Organisation:
    org = user_org(actor)
    if org is None or not is_org_admin(actor):
        raise OutOfScope(_("Not found."))
    return org


def set_member_roles(actor: Any, membership: Membership, roles: Iterable[Role]) -> Membership:
    """An organisation admin changes the roles of a member of their own organisation."""
    org = _admin_org(actor)
    if membership.organisation_id != org.pk:
        raise OutOfScope(_("Not found."))
    if membership.user_id == actor.pk:
        raise ValidationError(_("Ask another organisation admin to change your own roles."))
    chosen = list(roles)
    refused = sorted(r.name for r in chosen if not r.org_assignable)
    if refused:
        raise ValidationError(
            _("Only platform operators grant: %(roles)s.") % {"roles": ", ".join(refused)}
        )
    keep = [r for r in membership.roles.all() if not r.org_assignable]
    # One entry (the m2m set fires a remove and an add).
    with audit.logical_change(membership, AuditAction.UPDATE, "roles changed"):
        membership.roles.set([*keep, *chosen])
    return membership


def create_member(
    actor: Any, *, username: str, email: str, password: str, roles: Iterable[Role]
) -> Membership:
    """An organisation admin creates an account inside their own organisation."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password

    org = _admin_org(actor)
    user_model = get_user_model()
    username = username.strip()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("That username is taken.")})
    candidate = user_model(username=username, email=email)
    validate_password(password, candidate)
    chosen = list(roles)
    # One entry for the account: the user row, with its membership and roles as children
    # (Membership.audit_parent), whose own saves stay silent inside the block.
    with audit.logical_change(
        candidate,
        AuditAction.CREATE,
        "account created by organisation admin; roles: "
        + ", ".join(sorted(r.slug for r in chosen)),
        actor=actor,
        org=org,
    ):
        candidate.set_password(password)
        candidate.full_clean()
        candidate.save()
        membership = Membership.objects.create(user=candidate, organisation=org)
        set_member_roles(actor, membership, chosen)
    return membership
