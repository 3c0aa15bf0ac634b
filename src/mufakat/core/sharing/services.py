"""Writes that every module shares: guarded saves, sharing, AI provenance and approval."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mufakat.core.ai.provenance import is_rejected, provenance_of
from mufakat.core.audit import log as audit
from mufakat.core.choices import DISTRIBUTION_ORDER, Action, AuditAction, Distribution, RoleSlug
from mufakat.core.models import (
    AIProvenance,
    Organisation,
    SharedRecord,
    SharingGroup,
    user_org,
)
from mufakat.core.sharing import events
from mufakat.core.sharing.querysets import has_grant

R = TypeVar("R", bound=SharedRecord)


class OutOfScope(PermissionDenied):
    """The write would leave the record outside what the actor may see or do."""


def ensure_grant(actor: Any, model: type[models.Model], action: str) -> None:
    if not has_grant(actor, model, action):
        raise PermissionDenied(
            _("You may not %(action)s %(what)s.")
            % {"action": action, "what": model._meta.verbose_name_plural}
        )


def guarded_write[R: SharedRecord](
    actor: Any, obj: R, action: str, mutate: Callable[[R], None] | None = None
) -> R:
    """Save `obj` (after `mutate`), then re-check it is still inside the actor's scope, else roll back.

    `action` is "add" for new records and "change" otherwise.
    """
    model = type(obj)
    org = user_org(actor)
    if org is None:
        raise PermissionDenied(_("Your account has no organisation."))
    ensure_grant(actor, model, action)
    manager = model._default_manager
    with transaction.atomic():
        if action == Action.ADD:
            if getattr(obj, "owner_org_id", None) is None:
                obj.owner_org = org
            if getattr(obj, "created_by_id", None) is None:
                obj.created_by = actor
            before: SharedRecord = model()
        else:
            stored = manager.restrict(actor, Action.CHANGE).filter(pk=obj.pk).first()  # type: ignore[attr-defined,unused-ignore]
            if stored is None:
                raise OutOfScope(_("Not found."))
            before = stored
        if mutate is not None:
            mutate(obj)
        _check_release(actor, before, obj, creating=action == Action.ADD)
        obj.full_clean(exclude=["shared_with"])
        obj.save()
        # A new record must land inside the actor's own add scope (its organisation and the
        # grant's constraints); an edited one must stay inside the change scope.
        if not manager.restrict(actor, action).filter(pk=obj.pk).exists():  # type: ignore[attr-defined,unused-ignore]
            raise OutOfScope(
                _("This change would put the record outside your organisation's scope.")
            )
    return obj


def _check_release(
    actor: Any, before: SharedRecord, after: SharedRecord, *, creating: bool
) -> None:
    """Widening who receives an existing record is sharing, and approving AI output is approval:
    both need their own grant, so an edit cannot be used to skip set_sharing/approve_ai_output.

    The creator of a record picks its first audience (as in MISP): a reporter who files an
    incident releases it to the states concerned in the same step, so their focal points are
    alerted at once. AI output cannot be released that way: it stays home until approved.
    """
    model = type(after)
    if creating:
        if after.ai_generated and after.distribution != Distribution.ORGANISATION:
            raise OutOfScope(_("AI output stays in your organisation until a person approves it."))
        before = model(distribution=after.distribution, sharing_group=after.sharing_group)
    order = DISTRIBUTION_ORDER.index
    widened = order(after.distribution) > order(before.distribution) or (
        after.distribution == Distribution.GROUP
        and getattr(after, "sharing_group_id", None) != getattr(before, "sharing_group_id", None)
    )
    if widened and not has_grant(actor, model, Action.SHARE):
        raise OutOfScope(_("Releasing a record beyond its current audience needs the share right."))
    if (
        after.ai_approved_at != before.ai_approved_at
        or getattr(after, "ai_approved_by_id", None) != getattr(before, "ai_approved_by_id", None)
        or (before.ai_generated and not after.ai_generated)
    ):
        raise OutOfScope(_("AI output is approved only through the approval step."))


def set_sharing(
    actor: Any,
    obj: SharedRecord,
    *,
    distribution: str,
    tlp: str,
    shared_with: Iterable[Organisation] = (),
    sharing_group: SharingGroup | None = None,
) -> SharedRecord:
    """Change who a record is released to; only its owner state, with the share grant."""
    model = type(obj)
    ensure_grant(actor, model, Action.SHARE)
    if not model._default_manager.restrict(actor, Action.SHARE).filter(pk=obj.pk).exists():  # type: ignore[attr-defined,unused-ignore]
        raise OutOfScope(_("Not found."))
    if (
        sharing_group is not None
        and not SharingGroup.objects.filter(
            models.Q(members=obj.owner_org) | models.Q(owner_org=obj.owner_org), pk=sharing_group.pk
        ).exists()
    ):
        raise ValidationError(
            {"sharing_group": _("Your organisation is not in that sharing group.")}
        )
    # What does not apply is cleared: a group kept under another distribution was still printed
    # on the record's page to every reader, naming a closed community to states outside it.
    if distribution != Distribution.GROUP:
        sharing_group = None
    named = list(shared_with) if distribution == Distribution.NAMED else []
    with audit.logical_change(obj, AuditAction.SHARE, f"{distribution} / {tlp}"):
        obj.distribution = distribution
        obj.tlp = tlp
        obj.sharing_group = sharing_group
        obj.full_clean(exclude=["shared_with"])
        obj.save()
        obj.shared_with.set(named)
        events.record_shared.send(sender=model, instance=obj, actor=actor)
    return obj


def create_sharing_group(
    actor: Any, *, name: str, description: str = "", members: Iterable[Organisation]
) -> SharingGroup:
    org = user_org(actor)
    if org is None:
        raise PermissionDenied(_("Your account has no organisation."))
    # A group is a release channel of the organisation: creating one is a sharing decision.
    if not may_manage_sharing_groups(actor):
        raise PermissionDenied(_("Your role cannot create sharing groups."))
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A sharing group needs a name.")})
    group = SharingGroup(name=name[:120], description=description, owner_org=org, created_by=actor)
    with audit.logical_change(group, AuditAction.CREATE):
        group.full_clean()
        group.save()
        # The creator's organisation is always a member; an empty group must never mean "everyone".
        group.members.set({org, *members})
    return group


# A group is a release channel: the roles that release records (a reporter picks the first
# audience of what they file) may create one; viewers and platform admins, who release nothing,
# may not.
SHARING_GROUP_ROLES = frozenset(
    {RoleSlug.REPORTER, RoleSlug.ANALYST, RoleSlug.FOCAL_POINT, RoleSlug.ORG_ADMIN}
)


def may_manage_sharing_groups(user: Any) -> bool:
    from mufakat.core.models import role_slugs

    return bool(role_slugs(user) & SHARING_GROUP_ROLES)


def update_sharing_group(
    actor: Any, group: SharingGroup, *, members: Iterable[Organisation]
) -> SharingGroup:
    """Only the creating organisation manages a group's membership."""
    org = user_org(actor)
    if org is None or group.owner_org_id != org.pk:
        raise OutOfScope(_("Not found."))
    with audit.logical_change(group, AuditAction.SHARE, "members changed"):
        group.members.set({org, *members})
    return group


def record_provenance(
    artefact: models.Model,
    *,
    generator: str,
    template_version: str,
    inputs: dict[str, Any],
    requested_by: Any,
    **details: Any,
) -> AIProvenance:
    """Log where an AI output came from; the artefact must be flagged ai_generated by its module.

    For output made by core.ai, use `core.ai.attach(artefact, result)` instead: the call already
    wrote its row (model, hashes, latency, attempts). This stays for generators outside core.ai
    (procedural fall-backs, imports); `details` fills the other AIProvenance columns.
    """
    with transaction.atomic():
        row = AIProvenance.objects.create(
            content_type=ContentType.objects.get_for_model(artefact),
            object_id=str(artefact.pk),
            generator=generator,
            template_version=template_version,
            inputs=inputs,
            requested_by=requested_by if getattr(requested_by, "is_authenticated", False) else None,
            **details,
        )
        audit.record(
            AuditAction.GENERATE,
            artefact,
            actor=requested_by,
            after={
                "provenance": row.pk,
                "generator": generator,
                "template_version": template_version,
            },
            message="AI output recorded",
        )
    return row


def approve_ai_output(actor: Any, obj: SharedRecord) -> SharedRecord:
    """A person with the approve grant in the owner state releases an AI output for sharing."""
    model = type(obj)
    ensure_grant(actor, model, Action.APPROVE)
    if not model._default_manager.restrict(actor, Action.APPROVE).filter(pk=obj.pk).exists():  # type: ignore[attr-defined,unused-ignore]
        raise OutOfScope(_("Not found."))
    if not obj.ai_generated:
        raise ValidationError(_("This record was not produced by AI; there is nothing to approve."))
    if obj.ai_approved_at is not None:
        return obj
    if is_rejected(obj):
        raise ValidationError(_("This AI output was rejected; it cannot be approved."))
    with audit.logical_change(obj, AuditAction.APPROVE, "AI output approved for sharing"):
        obj.ai_approved_by = actor
        obj.ai_approved_at = timezone.now()
        obj.save(update_fields=["ai_approved_by", "ai_approved_at", "updated"])
    return obj


def reject_ai_output(actor: Any, obj: SharedRecord, *, reason: str) -> SharedRecord:
    """A person with the approve grant refuses an AI output: it leaves the approval queue and can
    never be approved, so it is never shared beyond its organisation."""
    model = type(obj)
    ensure_grant(actor, model, Action.APPROVE)
    if not model._default_manager.restrict(actor, Action.APPROVE).filter(pk=obj.pk).exists():  # type: ignore[attr-defined,unused-ignore]
        raise OutOfScope(_("Not found."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the AI output is rejected.")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Keep the reason under 2000 characters.")})
    if not obj.ai_generated:
        raise ValidationError(_("This record was not produced by AI; there is nothing to reject."))
    if obj.ai_approved_at is not None:
        raise ValidationError(_("This AI output is already approved."))
    if is_rejected(obj):
        return obj
    # One entry: the decision on the record (its provenance rows are updated in bulk).
    with audit.logical_change(obj, AuditAction.REJECT, f"AI output rejected: {reason[:200]}"):
        now = timezone.now()
        rows = provenance_of(obj)
        if not rows.exists():
            # Output flagged by hand without a provenance row still needs one to hold the decision.
            AIProvenance.objects.create(
                content_type=ContentType.objects.get_for_model(obj),
                object_id=str(obj.pk),
                generator="(not recorded)",
                template_version="",
            )
        rows.update(rejected_by=actor, rejected_at=now, rejection_reason=reason)
    return obj


def record_export(actor: Any, model: type[models.Model], ids: list[Any], fmt: str) -> None:
    audit.record(
        AuditAction.EXPORT,
        actor=actor,
        object_type=model._meta.label_lower,
        object_repr=f"{len(ids)} record(s) as {fmt}",
        message=",".join(str(i) for i in ids[:200]),
    )
