"""Read helpers: every lookup of a shared record goes through restrict(); missing = forbidden = 404."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.http import Http404

from mufakat.core.models import Organisation, SharedRecord, SharingGroup, user_org

M = TypeVar("M", bound=models.Model)


def access[M: models.Model](model: type[M], user: Any, pk: Any, action: str = "view") -> M:
    """The object if the user may perform `action` on it; Http404 otherwise, whatever the reason."""
    try:
        return model._default_manager.restrict(user, action).get(pk=pk)  # type: ignore[attr-defined,no-any-return]
    except (model.DoesNotExist, ValueError, TypeError, OverflowError):  # type: ignore[attr-defined]
        raise Http404 from None


def visible[M: models.Model](model: type[M], user: Any, action: str = "view") -> models.QuerySet[M]:
    return model._default_manager.restrict(user, action)  # type: ignore[attr-defined,no-any-return]


def can(user: Any, obj: models.Model, action: str) -> bool:
    return bool(type(obj)._default_manager.restrict(user, action).filter(pk=obj.pk).exists())  # type: ignore[attr-defined]


def sharing_groups_for(user: Any) -> models.QuerySet[SharingGroup]:
    """Groups the user's organisation belongs to or owns (what it may release records to)."""
    org = user_org(user)
    if org is None:
        return SharingGroup.objects.none()
    return SharingGroup.objects.filter(models.Q(members=org) | models.Q(owner_org=org)).distinct()


def organisations() -> models.QuerySet[Organisation]:
    return Organisation.objects.all()


def group_name_for(obj: SharedRecord, user: Any) -> str:
    """The record's sharing group name, only when the record is released to that group and the
    reader's organisation belongs to it (or owns it); a group's name is itself information."""
    group_id = getattr(obj, "sharing_group_id", None)
    org = user_org(user)
    if obj.distribution != "group" or group_id is None or org is None:
        return ""
    group = (
        SharingGroup.objects.filter(pk=group_id)
        .filter(models.Q(members=org) | models.Q(owner_org=org))
        .first()
    )
    return group.name if group is not None else ""
