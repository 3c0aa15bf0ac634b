"""cui's subscription target: follow one asset (cable or pipeline). Registered with core's
subscriptions in CuiConfig.ready(); state and area subscriptions are core's own kinds."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mufakat.core.models import Subscription
from mufakat.core.notifications.subscriptions import SubscriptionTarget
from mufakat.cui.models import Asset, SubscriptionKind
from mufakat.cui.queries import visible_assets

ASSET = SubscriptionKind.ASSET.value


def sees_asset(user: Any, target_id: str) -> bool:
    """An asset subscription counts only while the subscriber may see the asset: public, or an
    upload of the subscriber's own organisation (visible_assets)."""
    return target_id.isdigit() and visible_assets(user).filter(pk=int(target_id)).exists()


def _validate(actor: Any, sub: Subscription) -> None:
    if not sees_asset(actor, sub.target_id):
        # Another organisation's upload is "unknown", exactly like a missing id.
        raise ValidationError({"asset_id": _("Unknown asset id %s.") % (sub.target_id or None)})


def _describe(sub: Subscription) -> str:
    name = (
        Asset.objects.filter(pk=int(sub.target_id)).values_list("name", flat=True).first()
        if sub.target_id.isdigit()
        else None
    )
    return f"{_('asset')} {name or sub.target_id}"


ASSET_TARGET = SubscriptionTarget(
    kind=ASSET,
    label=gettext_lazy("Asset"),
    validate=_validate,
    describe=_describe,
    visible=sees_asset,
)
