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
    from mufakat.core.tenancy.models import Organisation

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
    """The user's enabled grants as (content type ids, actions, constraints).

    Cached across requests per process and reused while core.AccessVersion is unchanged
    (core.sharing.grantcache), and on the user object within a request.
    """
    cached = getattr(user, ROLE_CACHE_ATTR, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from mufakat.core.sharing import grantcache

    result = grantcache.grants(user)
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
    from mufakat.core.choices import TLP, Distribution, OrgKind
    from mufakat.core.tenancy.models import membership_of, user_org

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
    # The sharing group model, reached through the record's own field (no import cycle).
    group_model = model._meta.get_field("sharing_group").related_model
    group_through = group_model.members.through  # type: ignore[union-attr]
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
    m = membership_of(user)
    individual = bool(m and any(r.tlp_red for r in m.roles.all()))
    marking = (
        Q(tlp__in=[TLP.CLEAR, TLP.GREEN])
        | Q(named | in_group, tlp=TLP.AMBER)
        | Q(named, tlp=TLP.AMBER_STRICT)
    )
    if individual:
        marking |= Q(named, tlp=TLP.RED)
    return Q(owner_org=org) | (audience & marking & approved)


def private_q(org: Any, prefix: str = "") -> Q:
    """Private-record rows organisation `org` (an instance, an id, an F() expression or None) may
    see: platform reference rows (no owner) and its own. `prefix` reaches the record through a
    relation, e.g. "asset__" from a subscription. The one written form of that rule."""
    public = Q(**{f"{prefix}owner_org__isnull": True})
    return public if org is None else public | Q(**{f"{prefix}owner_org": org})


def private_visible(owner_id: int | None, org_id: int | None) -> bool:
    """private_q() for an owner id already in hand (e.g. stored in a derived JSON result)."""
    return owner_id is None or owner_id == org_id


def grant_q(model: type[models.Model], user: Any, action: str) -> Q | None:
    """The user's grants for `action` on `model` as a Q (an empty Q when unconstrained), or None
    when no grant covers it."""
    from django.contrib.contenttypes.models import ContentType

    from mufakat.core.tenancy.models import user_org

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
    if not granted:
        return None
    return Q() if unconstrained else grant


class RestrictedQuerySet(models.QuerySet[Any]):
    """Default queryset of every shared, private and reference model; start every read from
    .restrict(). The model's `record_kind` ("shared", "private", "reference") picks the rule."""

    def restrict(self, user: Any, action: str = "view") -> Self:
        kind = getattr(self.model, "record_kind", "shared")
        if kind == "reference":
            return self._restrict_reference(user, action)
        if kind == "private":
            return self._restrict_private(user, action)
        return self._restrict_shared(user, action)

    def _restrict_reference(self, user: Any, action: str) -> Self:
        signed_in = getattr(user, "is_authenticated", False) and user.is_active
        return self.all() if signed_in and action == "view" else self.none()

    def _restrict_private(self, user: Any, action: str) -> Self:
        from mufakat.core.tenancy.models import user_org

        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        org = user_org(user)
        grant = grant_q(self.model, user, action) if org is not None else None
        if action == "view":
            public = private_q(None)
            return self.filter(public if grant is None else public | (Q(owner_org=org) & grant))
        if grant is None:
            return self.none()
        return self.filter(grant, owner_org=org)

    def _restrict_shared(self, user: Any, action: str) -> Self:

        model = self.model
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            if action != "view":
                return self.none()
            return self.filter(sharing_q(model, user))
        filters = shared_filters(model, user, action)
        if filters is None:
            return self.none()
        grant, scope = filters
        return self.filter(grant).filter(scope)


RESTRICT_CACHE_ATTR = "_mufakat_restrict_q"


def shared_filters(model: type[models.Model], user: Any, action: str) -> tuple[Q, Q] | None:
    """(grant, scope) of a signed-in user on a shared model, or None for nothing; built once per
    request, model and action (a list builds it for the page and again in resolvers).

    The key holds the organisation and roles the filter was built from, so a change to the
    user's roles within the request builds it anew.
    """
    from mufakat.core.tenancy.models import membership_of, user_org

    org = user_org(user)
    m = membership_of(user)
    key = (
        model,
        action,
        org.pk if org else None,
        frozenset(r.pk for r in m.roles.all()) if m else None,
    )
    memo: dict[Any, tuple[Q, Q] | None] | None = getattr(user, RESTRICT_CACHE_ATTR, None)
    if memo is None:
        memo = {}
        setattr(user, RESTRICT_CACHE_ATTR, memo)
    if key not in memo:
        grant = grant_q(model, user, action)
        if grant is None or org is None:
            memo[key] = None
        elif action in ("view", "export"):
            memo[key] = (grant, sharing_q(model, user))
        else:
            # Writes, sharing and approvals stay inside the owner state.
            memo[key] = (grant, Q(owner_org=org))
    return memo[key]
