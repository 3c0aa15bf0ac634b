"""The one enforcement point: RestrictedQuerySet.restrict(user, action).

A record is returned only if (a) the user holds a grant for the action on the model, narrowed by
the grant's constraints, and (b) the record's sharing rules release it to the user's organisation.
Viewing follows the distribution level intersected with the TLP marking; every other action is
confined to records the user's own organisation owns. Nobody bypasses (b), not even superusers:
a platform operator from one state must not read another state's records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Exists, OuterRef, Q

if TYPE_CHECKING:
    from mufakat.core.models import Organisation

ROLE_CACHE_ATTR = "_mufakat_grants"


def _substitute(value: Any, user: Any, org: Organisation | None) -> Any:
    if value == "$user":
        return user.pk
    if value == "$org":
        return org.pk if org else None
    if isinstance(value, list):
        return [_substitute(v, user, org) for v in value]
    return value


def constraint_q(
    constraints: dict[str, Any] | list[dict[str, Any]] | None, user: Any, org: Any
) -> Q:
    """Turn grant constraints into a Q; a list is OR-ed, a dict's keys are AND-ed."""
    if not constraints:
        return Q()
    items = constraints if isinstance(constraints, list) else [constraints]
    if any(not item for item in items):
        return Q()  # an empty alternative matches everything
    q = Q(pk__in=[])
    for item in items:
        q |= Q(**{k: _substitute(v, user, org) for k, v in item.items()})
    return q


def grants_for(user: Any) -> list[tuple[set[int], set[str], Any]]:
    """The user's enabled grants as (content type ids, actions, constraints), cached on the user."""
    cached = getattr(user, ROLE_CACHE_ATTR, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from mufakat.core.models import ObjectPermission, membership_of

    m = membership_of(user)
    role_ids = [r.pk for r in m.roles.all()] if m else []
    group_ids = list(user.groups.values_list("id", flat=True))
    perms = (
        ObjectPermission.objects.filter(enabled=True)
        .filter(Q(roles__in=role_ids) | Q(users=user) | Q(groups__in=group_ids))
        .distinct()
        .prefetch_related("object_types")
    )
    result = [
        ({ct.pk for ct in p.object_types.all()}, set(p.actions), p.constraints) for p in perms
    ]
    setattr(user, ROLE_CACHE_ATTR, result)
    return result


def has_grant(user: Any, model: type[models.Model], action: str) -> bool:
    """Whether any grant lets the user perform `action` on some object of `model`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(model)
    return any(ct.pk in cts and action in acts for cts, acts, _c in grants_for(user))


def sharing_q(model: type[models.Model], user: Any) -> Q:
    """Q over `model` (a SharedRecord) that holds for records released to this user."""
    from mufakat.core.choices import TLP, Distribution, OrgKind, RoleSlug
    from mufakat.core.models import SharingGroup, role_slugs, user_org

    approved = Q(ai_generated=False) | Q(ai_approved_at__isnull=False)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(distribution=Distribution.PUBLIC, tlp=TLP.CLEAR) & approved
    org = user_org(user)
    if org is None:
        return Q(pk__in=[])

    through = model._meta.get_field("shared_with").remote_field.through  # type: ignore[union-attr]
    src = next(
        f.name for f in through._meta.get_fields() if getattr(f, "related_model", None) is model
    )
    named = Exists(through.objects.filter(**{src: OuterRef("pk"), "organisation": org}))
    group_through = SharingGroup.members.through
    in_group = Exists(
        group_through.objects.filter(sharinggroup=OuterRef("sharing_group"), organisation=org)
    )

    audience = (
        Q(distribution=Distribution.PUBLIC)
        | Q(named, distribution=Distribution.NAMED)
        | Q(in_group, distribution=Distribution.GROUP)
    )
    if org.kind == OrgKind.MEMBER:
        audience |= Q(distribution__in=[Distribution.ASEAN, Distribution.ASEAN_PLUS])
    elif org.kind in (OrgKind.PARTNER, OrgKind.SECRETARIAT):
        audience |= Q(distribution=Distribution.ASEAN_PLUS)

    # TLP ceiling: who may hold the marking at all, whatever the distribution says.
    individual = bool(role_slugs(user) & {RoleSlug.FOCAL_POINT, RoleSlug.ORG_ADMIN})
    marking = (
        Q(tlp__in=[TLP.CLEAR, TLP.GREEN])
        | Q(named | in_group, tlp=TLP.AMBER)
        | Q(named, tlp=TLP.AMBER_STRICT)
    )
    if individual:
        marking |= Q(named, tlp=TLP.RED)
    return Q(owner_org=org) | (audience & marking & approved)


class RestrictedQuerySet(models.QuerySet[Any]):
    """Default queryset of every shared model; start every read from .restrict()."""

    def restrict(self, user: Any, action: str = "view") -> Self:
        from django.contrib.contenttypes.models import ContentType

        from mufakat.core.models import user_org

        model = self.model
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            if action != "view":
                return self.none()
            return self.filter(sharing_q(model, user))
        ct = ContentType.objects.get_for_model(model)
        org = user_org(user)
        grant = Q(pk__in=[])
        granted = unconstrained = False
        for cts, actions, constraints in grants_for(user):
            if ct.pk in cts and action in actions:
                granted = True
                narrowed = constraint_q(constraints, user, org)
                # Q(pk__in=[]) | Q() is still Q(pk__in=[]) in Django (an empty Q is dropped from
                # an OR), so an unconstrained grant has to be tracked explicitly.
                if narrowed:
                    grant |= narrowed
                else:
                    unconstrained = True
        if not granted or org is None:
            return self.none()
        if unconstrained:
            grant = Q()
        if action == "view":
            return self.filter(grant).filter(sharing_q(model, user))
        # Writes, sharing, exports of raw records and approvals stay inside the owner state.
        if action == "export":
            return self.filter(grant).filter(sharing_q(model, user))
        return self.filter(grant).filter(owner_org=org)
