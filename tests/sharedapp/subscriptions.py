"""The test module's subscription target: follow one dossier, while you may still see it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from mufakat.core.models import Subscription
from mufakat.core.notifications.subscriptions import SubscriptionTarget
from tests.sharedapp.models import Dossier


def sees_dossier(user: Any, target_id: str) -> bool:
    return (
        target_id.isdigit()
        and Dossier.objects.restrict(user, "view").filter(pk=int(target_id)).exists()
    )


def _validate(actor: Any, sub: Subscription) -> None:
    if not sees_dossier(actor, sub.target_id):
        raise ValidationError({"target_id": f"Unknown dossier {sub.target_id or '-'}."})


DOSSIER_TARGET = SubscriptionTarget(
    kind="dossier",
    label="Dossier",
    validate=_validate,
    describe=lambda s: f"dossier {s.target_id}",
    visible=sees_dossier,
)
