"""Alert models: in-app notifications, webhooks, outbound deliveries, subscriptions and mutes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from mufakat.core.choices import TLP
from mufakat.core.tenancy.models import Organisation


class Notification(models.Model):
    """An in-app message to one user about one record."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    # Successive alerts about one record share a thread, shown as one entry in the inbox.
    thread = models.CharField(_("thread"), max_length=120, blank=True, db_index=True)
    module = models.CharField(_("module"), max_length=50, blank=True)
    severity = models.PositiveSmallIntegerField(_("severity"), null=True, blank=True)
    tlp = models.CharField(_("TLP"), max_length=12, choices=TLP.choices, blank=True)
    states = models.JSONField(_("states"), default=list, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title


class Webhook(models.Model):
    """An organisation's HTTPS endpoint that receives signed JSON alerts."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="webhooks",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100)
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("deliver as user"),
        help_text=_("Only records this user may see are delivered"),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One outbound e-mail or webhook delivery attempt."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    target = models.CharField(_("target"), max_length=500)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.channel} → {self.target} ({self.status})"


class Subscription(models.Model):
    """A user's standing request for alerts about a target of a registered kind.

    Core kinds: `state` (target_id is the ISO code) and `area` (a box, or a point and radius).
    Modules register their own (cui: `asset`, target_id is the asset id) through
    `notifications.subscriptions.register_subscription_target`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=32)
    target_id = models.CharField(_("target"), max_length=64, blank=True)
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    radius_km = models.FloatField(null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["kind", "target_id"], name="core_subscription_target")]
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.describe()}"

    def describe(self) -> str:
        from mufakat.core.notifications.subscriptions import target_for

        target = target_for(self.kind)
        return target.describe(self) if target is not None else f"{self.kind} {self.target_id}"


class Mute(models.Model):
    """A user's "stop alerting me": about one module's records, or about one record."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alert_mutes",
        verbose_name=_("user"),
    )
    module = models.CharField(_("module"), max_length=50)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["module", "-created"]
        constraints = [
            # Two partial constraints: SQLite has no NULLS NOT DISTINCT.
            models.UniqueConstraint(
                fields=["user", "module"],
                condition=models.Q(content_type__isnull=True),
                name="core_mute_unique_user_module",
                violation_error_message=_("Already muted."),
            ),
            models.UniqueConstraint(
                fields=["user", "content_type", "object_id"],
                condition=models.Q(content_type__isnull=False),
                name="core_mute_unique_user_record",
                violation_error_message=_("Already muted."),
            ),
        ]
        verbose_name = _("alert mute")
        verbose_name_plural = _("alert mutes")

    def __str__(self) -> str:
        what = f"{self.module}:{self.object_id}" if self.object_id else self.module
        return f"{self.user_id} mutes {what}"

    def module_name(self) -> str:
        from mufakat.core.notifications.inbox import module_name

        return module_name(self.module)
