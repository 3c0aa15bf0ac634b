"""Change logging: every save/delete of an audited model lands in the audit chain."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from mufakat.core.audit import log as audit
from mufakat.core.choices import AuditAction
from mufakat.core.models import (
    Membership,
    ObjectPermission,
    PrivateRecord,
    SharedRecord,
    SharingGroup,
    Subscription,
    Webhook,
)

CORE_AUDITED: tuple[type[models.Model], ...] = (
    Membership,
    ObjectPermission,
    SharingGroup,
    Subscription,
    Webhook,
)
_BEFORE = "_mufakat_before"


def is_audited(sender: type[models.Model]) -> bool:
    """Shared and organisation-private records, core security models, and any model that opts in
    with `audited = True` or declares the record it belongs to (`audit_parent`)."""
    if getattr(sender, "audit_exempt", False):
        return False
    if getattr(sender, "audited", False) or getattr(sender, "audit_parent", ""):
        return True
    return issubclass(sender, (SharedRecord, PrivateRecord, *CORE_AUDITED))


def _logs(sender: type[models.Model], instance: models.Model) -> bool:
    return is_audited(sender) and not audit.is_suspended(instance)


@receiver(pre_save)
def _capture_before(
    sender: type[models.Model], instance: models.Model, raw: bool = False, **kw: Any
) -> None:
    if raw or instance.pk is None or not _logs(sender, instance):
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    setattr(instance, _BEFORE, audit.snapshot(old) if old is not None else None)


@receiver(post_save)
def _log_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw or not _logs(sender, instance):
        return
    before = None if created else getattr(instance, _BEFORE, None)
    audit.record(
        AuditAction.CREATE if created else AuditAction.UPDATE,
        instance,
        before=before,
        after=audit.snapshot(instance),
    )


@receiver(post_delete)
def _log_delete(sender: type[models.Model], instance: models.Model, **kw: Any) -> None:
    if _logs(sender, instance):
        audit.record(AuditAction.DELETE, instance, before=audit.snapshot(instance))


@receiver(m2m_changed)
def _log_m2m(
    sender: Any, instance: models.Model, action: str, pk_set: set[Any] | None, **kw: Any
) -> None:
    if action not in {"post_add", "post_remove", "post_clear"} or not _logs(
        type(instance), instance
    ):
        return
    field = next(
        (f.name for f in instance._meta.many_to_many if f.remote_field.through is sender),
        "m2m",
    )
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    kind = AuditAction.SHARE if field in {"shared_with", "members"} else AuditAction.UPDATE
    audit.record(
        kind,
        instance,
        after=audit.snapshot(instance),
        message=f"{field} {verb}: {sorted(pk_set or [])}",
    )


@receiver(user_logged_in)
def _log_login(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    audit.record(
        AuditAction.LOGIN,
        actor=user,
        object_type="auth.user",
        object_id=str(user.pk),
        object_repr=user.get_username(),
    )


@receiver(user_logged_out)
def _log_logout(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    if user is not None:
        audit.record(
            AuditAction.LOGOUT,
            actor=user,
            object_type="auth.user",
            object_id=str(user.pk),
            object_repr=user.get_username(),
        )


@receiver(user_login_failed)
def _log_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit.record(AuditAction.LOGIN_FAILED, object_type="auth.user", object_repr=username)
