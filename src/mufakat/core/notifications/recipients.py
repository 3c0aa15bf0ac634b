"""Who hears about a record: the choice every module's alerts share.

By default the focal points of the states concerned; a module adds the roles whose holders in
those states should hear too (cui: analysts), and subscribers whose subscriptions cover the
alert. Each person can mute a module or a record (notify() drops them), and notify() releases
the alert only to those restrict() lets see the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model

from mufakat.core.choices import RoleSlug
from mufakat.core.notifications.subscriptions import AlertSubject, subscribers


def recipients_for(
    states: Iterable[str],
    *,
    roles: Iterable[str] = (),
    subject: AlertSubject | None = None,
) -> list[Any]:
    """Focal points of `states`, users of `states` holding one of `roles`, then subscribers
    covering `subject`; each user once, in that order."""
    codes = {c.upper() for c in states}
    slugs = {RoleSlug.FOCAL_POINT.value, *roles}
    by_role = (
        get_user_model()
        .objects.filter(
            is_active=True,
            membership__organisation__code__in=codes,
            membership__roles__slug__in=slugs,
        )
        .select_related("membership__organisation")
        .distinct()
        .order_by("pk")
    )
    users: dict[int, Any] = {u.pk: u for u in by_role}
    for u in subscribers(subject) if subject is not None else []:
        users.setdefault(u.pk, u)
    return list(users.values())
