"""Alerts: in-app inbox, e-mail and signed webhooks, each filtered by the sharing rules.

A notification is created for a recipient only if the record is visible to that recipient through
restrict(); webhooks deliver as their configured user, so the same rule applies to machines.
Each recipient reads the alert in their own language, can mute a module or a record, and sees
successive alerts about one record as one thread in the inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Q
from django.tasks import task  # type: ignore[import-untyped,unused-ignore]
from django.utils import timezone, translation

from mufakat.core.models import Delivery, Mute, Notification, Webhook

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 5


Text = str | Callable[[], str]


def _visible_to(obj: models.Model, user: Any) -> bool:
    manager = type(obj)._default_manager
    if hasattr(manager, "restrict"):
        return bool(manager.restrict(user, "view").filter(pk=obj.pk).exists())
    return True


def absolute(link: str) -> str:
    """A site-relative link made absolute with MUFAKAT_SITE_URL (for mail clients and machines)."""
    if not link or urlsplit(link).scheme:
        return link
    return urljoin(settings.MUFAKAT_SITE_URL + "/", link)


def alert_language(user: Any) -> str:
    """The language a user's alerts are written in: their membership's choice (the language
    they last picked in the shell), else the site default."""
    m = getattr(user, "membership", None) if user is not None else None
    lang = getattr(m, "language", "") or ""
    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class _Renderer:
    """Title and body rendered once per language: callables run under that language."""

    def __init__(self, title: Text, body: Text) -> None:
        self.title, self.body = title, body
        self._done: dict[str, tuple[str, str]] = {}

    def __call__(self, lang: str) -> tuple[str, str]:
        if lang not in self._done:
            with translation.override(lang):
                t = self.title() if callable(self.title) else self.title
                b = self.body() if callable(self.body) else self.body
            self._done[lang] = (str(t), str(b))
        return self._done[lang]


@dataclass
class Fanout:
    """Who an alert reached, per channel (for banners that say exactly who was alerted)."""

    notifications: list[Notification] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    webhooks: list[Webhook] = field(default_factory=list)

    @property
    def states(self) -> list[str]:
        """Codes of the organisations whose people got the alert in their inbox."""
        return sorted(
            {
                m.organisation.code
                for n in self.notifications
                if (m := getattr(n.recipient, "membership", None)) is not None
            }
        )

    def counts(self) -> dict[str, int]:
        return {
            "inbox": len(self.notifications),
            "email": len(self.emails),
            "webhook": len(self.webhooks),
        }


def _muted(obj: models.Model, ct: ContentType, user_ids: Iterable[int]) -> set[int]:
    """Users who muted the record's module, or this record."""
    return set(
        Mute.objects.filter(user_id__in=list(user_ids))
        .filter(
            Q(module=obj._meta.app_label, content_type__isnull=True)
            | Q(content_type=ct, object_id=str(obj.pk))
        )
        .values_list("user_id", flat=True)
    )


def notify(
    obj: models.Model,
    recipients: Iterable[Any],
    *,
    title: Text,
    body: Text = "",
    link: str = "",
    payload: dict[str, Any] | None = None,
    once: bool = False,
    severity: int | None = None,
    states: Iterable[str] = (),
) -> list[Notification]:
    """fanout(), returning the inbox entries created."""
    return fanout(
        obj,
        recipients,
        title=title,
        body=body,
        link=link,
        payload=payload,
        once=once,
        severity=severity,
        states=states,
    ).notifications


def fanout(
    obj: models.Model,
    recipients: Iterable[Any],
    *,
    title: Text,
    body: Text = "",
    link: str = "",
    payload: dict[str, Any] | None = None,
    once: bool = False,
    severity: int | None = None,
    states: Iterable[str] = (),
) -> Fanout:
    """Fan an alert about `obj` out to every recipient allowed to see it, on every channel.

    Recipients who muted the record or its module are left out. `title`/`body` may be
    callables: each recipient gets them rendered in their own language (alert_language).
    With once=True, recipients and webhooks already alerted about `obj` are left out: used when
    a record's audience widens, so only those it newly reaches hear of it."""
    recipients = list(recipients)
    ct = ContentType.objects.get_for_model(obj)
    render = _Renderer(title, body)
    result = Fanout()
    seen: set[int] = _muted(obj, ct, (u.pk for u in recipients))
    if once:
        seen.update(
            Notification.objects.filter(content_type=ct, object_id=str(obj.pk)).values_list(
                "recipient_id", flat=True
            )
        )
    thread = f"{obj._meta.label_lower}:{obj.pk}"
    tlp = str(getattr(obj, "tlp", "") or "")
    if severity is None and isinstance(getattr(obj, "severity", None), int):
        severity = obj.severity  # type: ignore[attr-defined]
    state_list = sorted(set(states))
    deliveries: list[Delivery] = []
    for user in recipients:
        if user.pk in seen or not user.is_active or not _visible_to(obj, user):
            continue
        seen.add(user.pk)
        t, b = render(alert_language(user))
        result.notifications.append(
            Notification(
                recipient=user,
                title=t[:200],
                body=b,
                link=link,
                content_type=ct,
                object_id=str(obj.pk),
                thread=thread,
                module=obj._meta.app_label,
                severity=severity,
                tlp=tlp,
                states=state_list,
            )
        )
        m = getattr(user, "membership", None)
        if user.email and (m is None or m.email_alerts):
            result.emails.append(user.email)
            deliveries.append(
                Delivery(
                    channel=Delivery.Channel.EMAIL,
                    target=user.email,
                    payload={"subject": t, "body": f"{b}\n\n{absolute(link)}"},
                )
            )
    Notification.objects.bulk_create(result.notifications)
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
    result.webhooks = hooks
    # Machines read the site's default language.
    t, b = render(settings.LANGUAGE_CODE)
    body_json = {
        "title": t,
        "body": b,
        "link": absolute(link),
        "object_type": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "severity": severity,
        "tlp": tlp,
        **(payload or {}),
    }
    deliveries += [
        Delivery(channel=Delivery.Channel.WEBHOOK, target=str(h.pk), payload=body_json)
        for h in hooks
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in deliveries]
        # Outbound traffic only after the record is committed, in the background.
        transaction.on_commit(lambda: [deliver_task.enqueue(i) for i in ids])
    return result


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
