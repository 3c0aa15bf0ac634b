"""Alerts: in-app inbox, e-mail and signed webhooks, each filtered by the sharing rules.

A notification is created for a recipient only if the record is visible to that recipient through
restrict(); webhooks deliver as their configured user, so the same rule applies to machines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import models, transaction
from django.tasks import task  # type: ignore[import-untyped,unused-ignore]
from django.utils import timezone

from mufakat.core.models import Delivery, Notification, Webhook

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 5


def _visible_to(obj: models.Model, user: Any) -> bool:
    manager = type(obj)._default_manager
    if hasattr(manager, "restrict"):
        return bool(manager.restrict(user, "view").filter(pk=obj.pk).exists())
    return True


def notify(
    obj: models.Model,
    recipients: Iterable[Any],
    *,
    title: str,
    body: str = "",
    link: str = "",
    payload: dict[str, Any] | None = None,
    once: bool = False,
) -> list[Notification]:
    """Fan an alert about `obj` out to every recipient allowed to see it, on every channel.

    With once=True, recipients and webhooks already alerted about `obj` are left out: used when
    a record's audience widens, so only those it newly reaches hear of it."""
    ct = ContentType.objects.get_for_model(obj)
    created: list[Notification] = []
    seen: set[int] = set()
    if once:
        seen.update(
            Notification.objects.filter(content_type=ct, object_id=str(obj.pk)).values_list(
                "recipient_id", flat=True
            )
        )
    emails: list[str] = []
    for user in recipients:
        if user.pk in seen or not user.is_active or not _visible_to(obj, user):
            continue
        seen.add(user.pk)
        created.append(
            Notification(
                recipient=user,
                title=title[:200],
                body=body,
                link=link,
                content_type=ct,
                object_id=str(obj.pk),
            )
        )
        m = getattr(user, "membership", None)
        if user.email and (m is None or m.email_alerts):
            emails.append(user.email)
    Notification.objects.bulk_create(created)
    orgs = {
        m.organisation_id for u in recipients if (m := getattr(u, "membership", None)) is not None
    }
    hooks = [
        h
        for h in Webhook.objects.filter(enabled=True, organisation_id__in=orgs).select_related(
            "run_as"
        )
        if _visible_to(obj, h.run_as)
    ]
    if once and hooks:
        done = set(
            Delivery.objects.filter(
                channel=Delivery.Channel.WEBHOOK,
                payload__object_type=obj._meta.label_lower,
                payload__object_id=str(obj.pk),
            ).values_list("target", flat=True)
        )
        hooks = [h for h in hooks if str(h.pk) not in done]
    body_json = {
        "title": title,
        "body": body,
        "link": link,
        "object_type": obj._meta.label_lower,
        "object_id": str(obj.pk),
        **(payload or {}),
    }
    deliveries = [
        Delivery(
            channel=Delivery.Channel.EMAIL,
            target=e,
            payload={"subject": title, "body": f"{body}\n\n{link}"},
        )
        for e in emails
    ]
    deliveries += [
        Delivery(channel=Delivery.Channel.WEBHOOK, target=str(h.pk), payload=body_json)
        for h in hooks
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in deliveries]
        # Outbound traffic only after the record is committed, in the background.
        transaction.on_commit(lambda: [deliver_task.enqueue(i) for i in ids])
    return created


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(delivery_id: int) -> str:
    d = Delivery.objects.filter(pk=delivery_id).first()
    if d is None or d.status == Delivery.Status.SENT:
        return "skipped"
    d.attempts += 1
    try:
        if d.channel == Delivery.Channel.EMAIL:
            send_mail(
                d.payload["subject"], d.payload["body"], settings.DEFAULT_FROM_EMAIL, [d.target]
            )
        else:
            hook = Webhook.objects.get(pk=int(d.target))
            body = json.dumps(d.payload, sort_keys=True).encode()
            req = urllib.request.Request(  # noqa: S310 - URL validated as http(s) by URLField
                hook.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "X-Mufakat-Signature": sign(hook.secret, body),
                },
            )
            with urllib.request.urlopen(req, timeout=WEBHOOK_TIMEOUT_S) as resp:  # noqa: S310
                if resp.status >= 300:
                    raise urllib.error.HTTPError(
                        hook.url, resp.status, "unexpected status", resp.headers, None
                    )
        d.status = Delivery.Status.SENT
        d.sent_at = timezone.now()
        d.error = ""
    except Exception as exc:  # delivery errors are recorded, never raised into the request
        log.warning("delivery %s failed: %s", d.pk, exc)
        d.status = Delivery.Status.FAILED
        d.error = str(exc)[:1000]
    d.save()
    return d.status


@task()  # type: ignore[untyped-decorator,unused-ignore]
def deliver_task(delivery_id: int) -> str:
    return deliver(delivery_id)
