"""Core subscriptions: core's state/area kinds, a module's own kind registered through the typed
API, the visibility rule, audit, and the migration of cui's old subscriptions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mufakat.core.models import AuditEntry, Organisation, Subscription
from mufakat.core.notifications import subscriptions as subs
from mufakat.core.notifications.subscriptions import (
    AlertSubject,
    SubscriptionTarget,
    register_subscription_target,
    subscribe,
    subscribers,
    subscriptions_for,
    unsubscribe,
)
from mufakat.core.sharing.testing import make_user

SECRET_DRILLS = {"7"}  # a module's targets that only SG users may see


def _drill_visible(user: Any, target_id: str) -> bool:
    m = getattr(user, "membership", None)
    return target_id not in SECRET_DRILLS or (m is not None and m.organisation.code == "SG")


def _drill_validate(actor: Any, sub: Subscription) -> None:
    if not sub.target_id.isdigit() or not _drill_visible(actor, sub.target_id):
        raise ValidationError({"target_id": f"Unknown drill {sub.target_id}."})


DRILL = SubscriptionTarget(
    kind="drill",
    label="Exercise drill",
    validate=_drill_validate,
    describe=lambda s: f"drill {s.target_id}",
    visible=_drill_visible,
)


@pytest.fixture
def drill_kind() -> Iterator[SubscriptionTarget]:
    """A second module's kind, registered the way a module's ready() (or the registry) does."""
    register_subscription_target(DRILL)
    try:
        yield DRILL
    finally:
        subs._TARGETS.pop("drill", None)


@pytest.fixture
def users(db: Any) -> dict[str, Any]:
    orgs = {o.code: o for o in Organisation.objects.filter(code__in=["SG", "MY"])}
    return {
        "sg": make_user("sg-a", orgs["SG"], ["analyst"]),
        "my": make_user("my-a", orgs["MY"], ["analyst"]),
    }


def test_registration_is_validated(drill_kind: SubscriptionTarget) -> None:
    register_subscription_target(DRILL)  # the same declaration again is harmless
    with pytest.raises(ImproperlyConfigured, match="'drill' registered twice"):
        register_subscription_target(SubscriptionTarget("drill", "Other", _drill_validate, str))
    with pytest.raises(ImproperlyConfigured, match="empty or too long"):
        register_subscription_target(SubscriptionTarget("", "None", _drill_validate, str))
    kinds = [t.kind for t in subs.subscription_targets()]
    assert {"state", "area", "asset", "drill"} <= set(kinds)


def test_state_and_area_kinds(users: dict[str, Any]) -> None:
    sg, my = users["sg"], users["my"]
    subscribe(sg, "state", target_id=" my ")
    subscribe(my, "area", point=(1.2, 104.0), radius_km=50)
    subscribe(my, "area", bbox=(100.0, 0.0, 102.0, 2.0))
    with pytest.raises(ValidationError, match="Unknown state code ZZ"):
        subscribe(sg, "state", target_id="ZZ")
    with pytest.raises(ValidationError, match="between 0 and 500"):
        subscribe(sg, "area", point=(1.0, 104.0), radius_km=501)
    with pytest.raises(ValidationError, match="min < max"):
        subscribe(sg, "area", bbox=(102.0, 0.0, 100.0, 2.0))
    with pytest.raises(ValidationError, match=r"latitude 95\.0"):
        subscribe(sg, "area", bbox=(100.0, 0.0, 102.0, 95.0))
    with pytest.raises(ValidationError, match="Unknown subscription kind"):
        subscribe(sg, "nothing")
    assert Subscription.objects.get(user=sg).target_id == "MY"
    near = AlertSubject(states=frozenset({"SG"}), point=(1.25, 104.2))  # ~25 km from the centre
    assert [u.username for u in subscribers(near)] == ["my-a"]
    in_box = AlertSubject(states=frozenset({"MY"}), point=(1.0, 101.0))
    assert sorted(u.username for u in subscribers(in_box)) == ["my-a", "sg-a"]
    far = AlertSubject(point=(10.0, 110.0))
    assert subscribers(far) == []
    assert subscribers(AlertSubject(states=frozenset({"MY"}))) == [sg]  # no position: no areas


def test_module_kind_and_visibility_rule(
    users: dict[str, Any], drill_kind: SubscriptionTarget
) -> None:
    sg, my = users["sg"], users["my"]
    subscribe(sg, "drill", target_id="7")
    with pytest.raises(ValidationError, match="Unknown drill 7"):
        subscribe(my, "drill", target_id="7")
    # A subscription left from before the target became invisible: neither listed nor alerted.
    Subscription.objects.create(user=my, kind="drill", target_id="7")
    subscribe(my, "drill", target_id="8")
    about_7 = AlertSubject(targets={"drill": frozenset({"7"})})
    assert subscribers(about_7) == [sg]
    assert [s.target_id for s in subscriptions_for(my)] == ["8"]
    assert [s.describe() for s in subscriptions_for(sg)] == ["drill 7"]
    # A kind whose module is gone is ignored everywhere, not an error.
    subs._TARGETS.pop("drill")
    assert subscribers(about_7) == []
    assert subscriptions_for(sg) == []


def test_subscribing_and_unsubscribing_is_audited(users: dict[str, Any]) -> None:
    sg, my = users["sg"], users["my"]
    s = subscribe(sg, "state", target_id="MY")
    created = AuditEntry.objects.filter(
        object_type="core.subscription", object_id=str(s.pk)
    ).order_by("seq")
    assert list(created.values_list("action", flat=True)) == ["create"]
    assert not unsubscribe(my, s.pk)  # another user's: missing
    assert Subscription.objects.filter(pk=s.pk).exists()
    assert unsubscribe(sg, s.pk)
    assert list(created.values_list("action", flat=True)) == ["create", "delete"]


@pytest.mark.django_db(transaction=True)
def test_cui_subscriptions_are_migrated_to_core() -> None:
    executor = MigrationExecutor(connection)
    before = [("cui", "0002_asset_private_record")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="old-sub")
    asset = old.get_model("cui", "Asset").objects.create(
        name="old_subscription cable", kind="cable"
    )
    old_subscription = old.get_model("cui", "Subscription")
    old_subscription.objects.create(user=user, kind="asset", asset=asset)
    old_subscription.objects.create(user=user, kind="state", state="SG")
    old_subscription.objects.create(user=user, kind="area", lat=1.0, lon=104.0, radius_km=20.0)
    old_subscription.objects.create(
        user=user, kind="area", min_lon=100, min_lat=0, max_lon=102, max_lat=2
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    got = {
        (s.kind, s.target_id, s.lat, s.radius_km, s.min_lon, s.max_lat)
        for s in Subscription.objects.filter(user_id=user.pk)
    }
    assert got == {
        ("asset", str(asset.pk), None, None, None, None),
        ("state", "SG", None, None, None, None),
        ("area", "", 1.0, 20.0, None, None),
        ("area", "", None, None, 100.0, 2.0),
    }
    assert "cui_subscription" not in connection.introspection.table_names()


def test_module_targets_come_from_the_registry(users: dict[str, Any], monkeypatch: Any) -> None:
    """cui and the test module declare their kinds in their ModuleSpec; core registers them at
    start-up, and a declaration that is not a SubscriptionTarget stops start-up, named."""
    from mufakat.core import registry
    from mufakat.core.sharing import services
    from mufakat.cui.subscriptions import ASSET_TARGET
    from tests.sharedapp.models import Dossier
    from tests.sharedapp.subscriptions import DOSSIER_TARGET

    assert subs.target_for("asset") is ASSET_TARGET
    assert subs.target_for("dossier") is DOSSIER_TARGET
    sg_focal = make_user("sg-f", Organisation.objects.get(code="SG"), ["focal_point"])
    doc = services.guarded_write(sg_focal, Dossier(title="Fault"), "add")
    subscribe(users["sg"], "dossier", target_id=str(doc.pk))
    with pytest.raises(ValidationError, match=f"Unknown dossier {doc.pk}"):
        subscribe(users["my"], "dossier", target_id=str(doc.pk))  # not shared with MY
    about = AlertSubject(targets={"dossier": frozenset({str(doc.pk)})})
    assert subscribers(about) == [users["sg"]]

    broken = [
        dataclasses.replace(m, subscription_targets=("tests.sharedapp.apps:MODULE",))
        if m.label == "sharedapp"
        else m
        for m in registry.modules()
    ]
    monkeypatch.setattr(registry, "modules", lambda: tuple(broken))
    with pytest.raises(ImproperlyConfigured, match="module 'sharedapp': subscription target"):
        subs.load_module_targets()
