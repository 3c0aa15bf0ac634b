"""Core models: organisations, memberships and roles, permission grants, sharing, audit, AI
provenance, notifications and API tokens. Feature modules inherit `SharedRecord`."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mufakat.core.choices import (
    DISTRIBUTION_ORDER,
    TLP,
    TLP_MAX_DISTRIBUTION,
    Action,
    AuditAction,
    Distribution,
    OrgKind,
    RoleSlug,
)
from mufakat.core.querysets import RestrictedQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Organisation(models.Model):
    """A tenant: an ASEAN member state, an ADMM-Plus partner or the ASEAN Secretariat."""

    code = models.CharField(_("code"), max_length=8, unique=True, help_text=_("ISO 3166 alpha-2"))
    iso3 = models.CharField(_("ISO alpha-3"), max_length=3, blank=True)
    name = models.CharField(_("name"), max_length=100)
    name_long = models.CharField(_("long name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OrgKind.choices)
    colour = models.CharField(_("colour"), max_length=7, default="#1f4e79")
    flag = models.CharField(_("flag"), max_length=8, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    joined = models.DateField(_("joined"), null=True, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_member_state(self) -> bool:
        return self.kind == OrgKind.MEMBER


class Role(models.Model):
    """A named bundle of permission grants (the grants live in ObjectPermission)."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True, choices=RoleSlug.choices)
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's one organisation, roles and second factor."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    roles = models.ManyToManyField(
        Role, blank=True, related_name="memberships", verbose_name=_("roles")
    )
    totp_secret = models.CharField(_("TOTP secret"), max_length=64, blank=True)
    totp_confirmed = models.BooleanField(_("two-factor active"), default=False)
    totp_last_step = models.BigIntegerField(_("last TOTP step used"), default=0)
    email_alerts = models.BooleanField(_("e-mail alerts"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation.code}"

    def role_slugs(self) -> set[str]:
        return {r.slug for r in self.roles.all()}


class ObjectPermission(models.Model):
    """A grant: actions on object types, optionally narrowed by ORM-lookup constraints.

    Constraints are a dict (or list of dicts, OR-ed) of lookups on the target model; the tokens
    "$user" and "$org" are replaced by the acting user's id and organisation id.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    object_types = models.ManyToManyField(
        ContentType, related_name="+", verbose_name=_("object types")
    )
    actions = models.JSONField(_("actions"), default=list, help_text=_('e.g. ["view", "add"]'))
    constraints = models.JSONField(_("constraints"), null=True, blank=True)
    roles = models.ManyToManyField(
        Role, blank=True, related_name="permissions", verbose_name=_("roles")
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("users")
    )
    groups = models.ManyToManyField(Group, blank=True, related_name="+", verbose_name=_("groups"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("permission grant")
        verbose_name_plural = _("permission grants")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = set(self.actions or []) - set(Action.values)
        if unknown:
            raise ValidationError(
                {"actions": _("Unknown actions: %s") % ", ".join(sorted(unknown))}
            )
        c = self.constraints
        if c is not None and not isinstance(c, dict | list):
            raise ValidationError(
                {"constraints": _("Constraints must be an object or a list of objects.")}
            )


class SharingGroup(models.Model):
    """A named, closed community of organisations (MISP sharing group, IORIS community of choice)."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    owner_org = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="owned_sharing_groups",
        verbose_name=_("owner"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    members = models.ManyToManyField(
        Organisation, related_name="sharing_groups", verbose_name=_("members")
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sharing group")
        verbose_name_plural = _("sharing groups")
        constraints = [
            models.UniqueConstraint(
                fields=["owner_org", "name"],
                name="%(app_label)s_%(class)s_unique_owner_name",
                violation_error_message=_(
                    "Your organisation already has a sharing group with this name."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


class SharedRecord(models.Model):
    """Abstract base of every record a state owns and shares.

    Visibility is computed only by RestrictedQuerySet.restrict(); never filter these by hand.
    """

    owner_org = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner organisation"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    distribution = models.CharField(
        _("distribution"),
        max_length=16,
        choices=Distribution.choices,
        default=Distribution.ORGANISATION,
    )
    shared_with = models.ManyToManyField(
        Organisation, blank=True, related_name="+", verbose_name=_("named organisations")
    )
    sharing_group = models.ForeignKey(
        SharingGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sharing group"),
    )
    tlp = models.CharField(_("TLP marking"), max_length=16, choices=TLP.choices, default=TLP.AMBER)
    ai_generated = models.BooleanField(_("AI-generated"), default=False)
    ai_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("AI output approved by"),
    )
    ai_approved_at = models.DateTimeField(_("AI output approved at"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects: ClassVar[Any] = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        widest = TLP_MAX_DISTRIBUTION[self.tlp]
        if DISTRIBUTION_ORDER.index(self.distribution) > DISTRIBUTION_ORDER.index(widest):
            errors["distribution"] = _("%(tlp)s allows at most “%(max)s”.") % {
                "tlp": TLP(self.tlp).label,
                "max": Distribution(widest).label,
            }
        if (
            self.distribution == Distribution.GROUP
            and getattr(self, "sharing_group_id", None) is None
        ):
            errors["sharing_group"] = _("Choose the sharing group to release to.")
        if errors:
            raise ValidationError(errors)

    @property
    def awaiting_ai_approval(self) -> bool:
        return self.ai_generated and self.ai_approved_at is None


class AuditHead(models.Model):
    """Single row holding the chain tip; locked while appending so the chain stays linear."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit tip #{self.last_seq}"


class AuditEntry(models.Model):
    """One hash-chained audit record. Never updated or deleted through the application."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    org = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
        help_text=_("The organisation whose record or account this entry concerns"),
    )
    request_id = models.CharField(_("request id"), max_length=36, blank=True, db_index=True)
    action = models.CharField(
        _("action"), max_length=16, choices=AuditAction.choices, db_index=True
    )
    object_type = models.CharField(_("object type"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_repr}"

    def payload(self) -> dict[str, Any]:
        """The fields covered by the hash, in a stable form."""
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "org": self.org_id,
            "request_id": self.request_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "before": self.before,
            "after": self.after,
            "message": self.message,
        }

    def compute_hash(self) -> str:
        body = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256((self.prev_hash + body).encode()).hexdigest()


class AIProvenance(models.Model):
    """Where an AI-produced artefact came from: generator, template version, inputs, requester."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    artefact = GenericForeignKey("content_type", "object_id")
    generator = models.CharField(_("generator or model"), max_length=200)
    template_version = models.CharField(_("prompt/template version"), max_length=100)
    inputs = models.JSONField(_("inputs"), default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("AI provenance")
        verbose_name_plural = _("AI provenance records")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.generator} ({self.template_version})"


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
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
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


class ApiToken(models.Model):
    """A bearer token for machine clients; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """A failed log-in, kept for throttling; in the database so every worker sees it."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    time = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("log-in failure")
        verbose_name_plural = _("log-in failures")

    def __str__(self) -> str:
        return f"{self.username} {self.time:%Y-%m-%d %H:%M}"


def membership_of(user: User | Any) -> Membership | None:
    """The user's membership with its organisation and roles, loaded once per user object.

    A page used to fetch the same membership up to four times (organisation, two-factor check,
    TLP ceiling, grants). The result is kept in Django's own cache of the user.membership
    relation, so `user.membership` and this function agree; the session back-end
    (core.auth.ThrottledModelBackend.get_user) fills it with the user's own query.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    relation = Membership._meta.get_field("user").remote_field
    if relation.is_cached(user):
        m = cast("Membership | None", relation.get_cached_value(user))
    else:
        m = Membership.objects.select_related("organisation").filter(user=user).first()
        relation.set_cached_value(user, m)
    if m is not None and "roles" not in getattr(m, "_prefetched_objects_cache", {}):
        models.prefetch_related_objects([m], "roles")
    return m


def role_slugs(user: User | Any) -> frozenset[str]:
    """Slugs of the user's roles, from the membership loaded once per request."""
    m = membership_of(user)
    return frozenset(r.slug for r in m.roles.all()) if m else frozenset()


def user_org(user: User | Any) -> Organisation | None:
    """The acting user's organisation, from the membership loaded once per request."""
    m = membership_of(user)
    return m.organisation if m else None
