"""Alert subscriptions any module can offer: core knows `state` and `area`, modules register
their own target kinds (cui: `asset`) by naming SubscriptionTarget objects in their module spec's
`subscription_targets` (core.registry), which core registers at start-up.

A module's alert says what it is about (`AlertSubject`: states, a position, target ids by kind);
`subscribers(subject)` finds the users whose subscriptions cover it and who may still see the
target. notify() then drops whoever may not see the record itself, so a subscription never
widens who learns of a record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mufakat.core.geo.geometry import check_lat_lon, geodesic_km
from mufakat.core.models import Organisation, Subscription

STATE = "state"
AREA = "area"
MAX_RADIUS_KM = 500.0


@dataclass(frozen=True)
class AlertSubject:
    """What an alert is about, as subscriptions see it."""

    states: frozenset[str] = frozenset()
    point: tuple[float, float] | None = None  # (lat, lon)
    targets: Mapping[str, frozenset[str]] = field(default_factory=dict)  # kind -> target ids


def _by_target_id(kind: str) -> Callable[[AlertSubject], Q]:
    return lambda subject: Q(target_id__in=subject.targets.get(kind, frozenset()))


def _anyone(user: Any, target_id: str) -> bool:
    return True


@dataclass(frozen=True)
class SubscriptionTarget:
    """A kind of thing users may follow.

    validate(actor, sub): check and normalise an unsaved subscription for this actor; raise
        ValidationError (a target the actor may not see is "unknown", like a missing one).
    describe(sub): one line for the user's list of subscriptions.
    visible(user, target_id): may the subscriber still see the target? A subscription to a target
        they lost sight of is neither listed nor alerted.
    candidates(subject): the database filter narrowing this kind's subscriptions to those that
        may cover the subject; default: target_id among subject.targets[kind].
    covers(sub, subject): the exact test on each candidate; default: always (the filter decided).
    """

    kind: str
    label: str | Promise
    validate: Callable[[Any, Subscription], None]
    describe: Callable[[Subscription], str]
    visible: Callable[[Any, str], bool] = _anyone
    candidates: Callable[[AlertSubject], Q] | None = None
    covers: Callable[[Subscription, AlertSubject], bool] | None = None

    def query(self, subject: AlertSubject) -> Q:
        return (self.candidates or _by_target_id(self.kind))(subject)


_TARGETS: dict[str, SubscriptionTarget] = {}


def register_subscription_target(target: SubscriptionTarget) -> None:
    """Declare a target kind (called from a module's AppConfig.ready() or by the registry).

    Registering the same kind twice with a different declaration is a configuration error."""
    if not target.kind or len(target.kind) > Subscription._meta.get_field("kind").max_length:  # type: ignore[operator]
        raise ImproperlyConfigured(f"subscription target kind {target.kind!r} is empty or too long")
    known = _TARGETS.get(target.kind)
    if known is not None and known != target:
        raise ImproperlyConfigured(f"subscription target kind {target.kind!r} registered twice")
    _TARGETS[target.kind] = target


def load_module_targets() -> None:
    """Register every module's declared `subscription_targets` (core.registry), checking each
    is a SubscriptionTarget; called once the apps are ready."""
    from mufakat.core import registry

    for spec in registry.modules():
        for path in spec.subscription_targets:
            target = registry.resolve(path)
            if not isinstance(target, SubscriptionTarget):
                raise ImproperlyConfigured(
                    f"module {spec.label!r}: subscription target {path!r} is a "
                    f"{type(target).__name__}, not a SubscriptionTarget"
                )
            register_subscription_target(target)


def subscription_targets() -> list[SubscriptionTarget]:
    return list(_TARGETS.values())


def target_for(kind: str) -> SubscriptionTarget | None:
    return _TARGETS.get(kind)


# --- core kinds -----------------------------------------------------------------------------


def _validate_state(actor: Any, sub: Subscription) -> None:
    code = sub.target_id.strip().upper()
    if not code or not Organisation.objects.filter(code=code).exists():
        raise ValidationError({"state": _("Unknown state code %s.") % (sub.target_id or "-")})
    sub.target_id = code


def _validate_area(actor: Any, sub: Subscription) -> None:
    if sub.lat is not None and sub.lon is not None and sub.radius_km is not None:
        sub.lat, sub.lon = check_lat_lon(sub.lat, sub.lon)
        if not 0 < sub.radius_km <= MAX_RADIUS_KM:
            raise ValidationError({"radius_km": _("Radius must be between 0 and 500 km.")})
        sub.min_lon = sub.min_lat = sub.max_lon = sub.max_lat = None
        return
    box = (sub.min_lon, sub.min_lat, sub.max_lon, sub.max_lat)
    if None in box:
        raise ValidationError({"kind": _("An area needs a box or a point and radius.")})
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in box)  # type: ignore[arg-type]
    check_lat_lon(min_lat, min_lon)
    check_lat_lon(max_lat, max_lon)
    if min_lat >= max_lat or min_lon >= max_lon:
        raise ValidationError({"bbox": _("The box must have min < max on both axes.")})
    sub.lat = sub.lon = sub.radius_km = None


def area_covers(sub: Subscription, subject: AlertSubject) -> bool:
    if subject.point is None:
        return False
    lat, lon = subject.point
    if sub.radius_km is not None and sub.lat is not None and sub.lon is not None:
        return geodesic_km(sub.lat, sub.lon, lat, lon) <= sub.radius_km
    if None in (sub.min_lon, sub.min_lat, sub.max_lon, sub.max_lat):
        return False
    return bool(sub.min_lat <= lat <= sub.max_lat and sub.min_lon <= lon <= sub.max_lon)  # type: ignore[operator]


def _describe_state(sub: Subscription) -> str:
    return f"{_('state')} {sub.target_id}"


def _describe_area(sub: Subscription) -> str:
    if sub.radius_km is not None:
        return f"{_('within')} {sub.radius_km:g} km {_('of')} {sub.lat:.3f}, {sub.lon:.3f}"
    return f"{_('box')} {sub.min_lon}, {sub.min_lat} - {sub.max_lon}, {sub.max_lat}"


register_subscription_target(
    SubscriptionTarget(
        kind=STATE,
        label=gettext_lazy("State"),
        validate=_validate_state,
        describe=_describe_state,
        candidates=lambda subject: Q(target_id__in=subject.states),
    )
)
register_subscription_target(
    SubscriptionTarget(
        kind=AREA,
        label=gettext_lazy("Area"),
        validate=_validate_area,
        describe=_describe_area,
        # Every area subscription is a candidate when the alert has a position; the geodesic
        # test runs on each (there are few, and a box across the antimeridian stays simple).
        candidates=lambda subject: Q() if subject.point is not None else Q(pk__in=[]),
        covers=area_covers,
    )
)


# --- reads and writes -----------------------------------------------------------------------


def _still_visible(sub: Subscription) -> bool:
    target = _TARGETS.get(sub.kind)
    return target is not None and target.visible(sub.user, sub.target_id)


def subscriptions_for(user: Any) -> list[Subscription]:
    """The user's own subscriptions of registered kinds whose target they may still see."""
    if not getattr(user, "is_authenticated", False):
        return []
    qs = Subscription.objects.filter(user_id=user.pk, kind__in=list(_TARGETS))
    out = []
    for sub in qs:
        sub.user = user  # visible() asks about this user; saves a query per row
        if _still_visible(sub):
            out.append(sub)
    return out


def subscribers(subject: AlertSubject) -> list[Any]:
    """Active users with a subscription covering the subject whose target they may still see."""
    where = Q(pk__in=[])
    for target in _TARGETS.values():
        where |= Q(kind=target.kind) & target.query(subject)
    qs: QuerySet[Subscription] = Subscription.objects.filter(
        where, user__is_active=True
    ).select_related("user", "user__membership__organisation")
    users: dict[int, Any] = {}
    for sub in qs:
        target = _TARGETS[sub.kind]
        if sub.user_id in users:
            continue
        if target.covers is not None and not target.covers(sub, subject):
            continue
        if target.visible(sub.user, sub.target_id):
            users[sub.user_id] = sub.user
    return list(users.values())


def subscribe(
    actor: Any,
    kind: str,
    *,
    target_id: str = "",
    bbox: tuple[float, float, float, float] | None = None,
    point: tuple[float, float] | None = None,
    radius_km: float | None = None,
) -> Subscription:
    """Save a subscription after its kind's validation; audited (core.audit signals)."""
    target = _TARGETS.get(kind)
    if target is None or not getattr(actor, "is_authenticated", False):
        raise ValidationError({"kind": _("Unknown subscription kind.")})
    sub = Subscription(user=actor, kind=kind, target_id=str(target_id)[:64])
    if point is not None:
        sub.lat, sub.lon = point
        sub.radius_km = radius_km
    if bbox is not None:
        sub.min_lon, sub.min_lat, sub.max_lon, sub.max_lat = bbox
    target.validate(actor, sub)
    sub.save()
    return sub


def unsubscribe(actor: Any, pk: int) -> bool:
    """Delete one of the actor's own subscriptions (another user's answers like a missing one)."""
    with transaction.atomic():
        subs = list(Subscription.objects.filter(user_id=actor.pk or 0, pk=pk))
        for sub in subs:
            sub.delete()  # one by one so each deletion is audited
    return bool(subs)
