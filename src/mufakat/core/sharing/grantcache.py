"""Roles and permission grants cached across requests, checked against a version stamp.

Building restrict()'s filter used to cost four queries per request (roles, groups, grants and
their object types: benchmarks/README.md, "API lists"). Their result depends only on the grant
tables, so each process keeps it per user, tagged with core.AccessVersion's value, and reuses it
while that value is unchanged: one indexed read per request instead of four queries.

Any save, delete or membership change of a role, grant, membership or Django group, and any
change to a user's groups, sets a new random value in the same transaction (signals below):
the next request of every worker process reloads. The value is random rather than a counter
so that a rolled-back transaction (or a flushed test database) can never bring back a stamp
under which other data was cached. update(), bulk_create() and bulk_update() on grants and
memberships renew it too (tenancy.models.AccessQuerySet); changes made around all of these
(a role's fields or through rows written in bulk, raw SQL) must call bump() themselves.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save

from mufakat.core.models import AccessVersion, Membership, ObjectPermission, Role

if TYPE_CHECKING:
    from collections.abc import Sequence

Grant = tuple[set[int], set[str], Any]
ENTRY_ATTR = "_mufakat_access"
MAX_USERS = 10_000  # per process; beyond it the cache starts again (a few KB per user)
_STAMP_PK = 1


@dataclass(frozen=True)
class Entry:
    """What one user's requests need, valid while the stamp equals `version`."""

    version: int
    membership_id: int | None
    role_rows: tuple[tuple[Any, ...], ...]  # Role column values, in ROLE_FIELDS order
    grants: tuple[Grant, ...]


# Every column of a role (its flags too: second factor, TLP:RED), so cached roles behave as loaded.
ROLE_FIELDS = tuple(f.attname for f in Role._meta.concrete_fields)
_local: dict[int, Entry] = {}
_lock = threading.Lock()


def current_version() -> int:
    row = AccessVersion.objects.filter(pk=_STAMP_PK).values_list("value", flat=True).first()
    return row if row is not None else 0


def bump(**_kw: Any) -> None:
    """Give the stamp a new value (inside the caller's transaction, if any)."""
    value = secrets.randbits(62) + 1
    if not AccessVersion.objects.filter(pk=_STAMP_PK).update(value=value):
        AccessVersion.objects.update_or_create(pk=_STAMP_PK, defaults={"value": value})


def _load(user: Any, m: Membership | None, version: int) -> Entry:
    role_rows: Sequence[tuple[Any, ...]] = (
        list(Role.objects.filter(memberships=m).values_list(*ROLE_FIELDS)) if m else []
    )
    role_ids = [r[0] for r in role_rows]
    group_ids = list(user.groups.values_list("id", flat=True))
    perms = (
        ObjectPermission.objects.filter(enabled=True)
        .filter(Q(roles__in=role_ids) | Q(users=user) | Q(groups__in=group_ids))
        .distinct()
        .prefetch_related("object_types")
    )
    grants = tuple(
        ({ct.pk for ct in p.object_types.all()}, set(p.actions), p.constraints) for p in perms
    )
    return Entry(version, m.pk if m else None, tuple(role_rows), grants)


def entry_for(user: Any, m: Membership | None) -> Entry:
    """The user's cached entry, reloaded when the stamp or the membership changed.

    Kept on the user object as well, so one request reads the stamp once; a caller that
    changes roles and reads again in the same request goes through membership_of, which
    comes back here after the roles relation was cleared.
    """
    version = current_version()
    cached = _local.get(user.pk)
    mid = m.pk if m else None
    if cached is None or cached.version != version or cached.membership_id != mid:
        cached = _load(user, m, version)
        with _lock:
            if len(_local) >= MAX_USERS:
                _local.clear()
            _local[user.pk] = cached
    setattr(user, ENTRY_ATTR, cached)
    return cached


def attach_roles(user: Any, m: Membership) -> None:
    """Fill m.roles.all() from the cache, as prefetch_related would (no query on a hit)."""
    entry = entry_for(user, m)
    roles = [Role.from_db(m._state.db, list(ROLE_FIELDS), row) for row in entry.role_rows]
    qs = Role.objects.filter(memberships=m)
    qs._result_cache = roles
    qs._prefetch_done = True  # type: ignore[attr-defined]
    if not hasattr(m, "_prefetched_objects_cache"):
        m._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    m._prefetched_objects_cache["roles"] = qs  # type: ignore[attr-defined]


def grants(user: Any) -> list[Grant]:
    from mufakat.core.models import membership_of

    entry = getattr(user, ENTRY_ATTR, None)
    if entry is None:
        m = membership_of(user)  # fills ENTRY_ATTR when it attaches the roles
        entry = getattr(user, ENTRY_ATTR, None) or entry_for(user, m)
    return list(entry.grants)


def clear_local() -> None:
    """Forget this process's entries (tests, or after changes made around the signals)."""
    with _lock:
        _local.clear()


def _m2m(sender: Any, action: str, **_kw: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        bump()


_UID = "mufakat-grantcache"
for _model in (ObjectPermission, Role, Membership, Group):
    post_save.connect(bump, sender=_model, dispatch_uid=f"{_UID}-save-{_model.__name__}")
    post_delete.connect(bump, sender=_model, dispatch_uid=f"{_UID}-delete-{_model.__name__}")
_THROUGH: tuple[type[models.Model], ...] = (
    ObjectPermission.object_types.through,
    ObjectPermission.roles.through,
    ObjectPermission.users.through,
    ObjectPermission.groups.through,
    Membership.roles.through,
    Group.user_set.through,  # a user's groups (User.groups)
)
for _through in _THROUGH:
    m2m_changed.connect(_m2m, sender=_through, dispatch_uid=f"{_UID}-m2m-{_through.__name__}")
