"""Tenancy models: organisations (member states, partners, the Secretariat), memberships, roles and
their permission grants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from mufakat.core.choices import (
    Action,
    OrgKind,
)

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


_M = TypeVar("_M", bound=models.Model)


class AccessQuerySet(models.QuerySet[_M]):
    """Bulk writes that bypass save() signals still renew the access stamp, so the grants
    cached across requests (core.sharing.grantcache) never outlive them."""

    def update(self, **kwargs: Any) -> int:
        n = super().update(**kwargs)
        _bump()
        return n

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[_M]:
        made = super().bulk_create(*args, **kwargs)
        _bump()
        return made

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        n = super().bulk_update(*args, **kwargs)
        _bump()
        return n


def _bump() -> None:
    from mufakat.core.sharing.grantcache import bump

    bump()


class Role(models.Model):
    """A named bundle of permission grants (the grants live in ObjectPermission).

    Declared by core or by a module (core.registry.RoleSpec) and seeded on migrate; the flags are
    data an operator may change, and the sharing rules read them from here."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    module = models.CharField(
        _("declared by"), max_length=40, blank=True, help_text=_("Empty for platform roles")
    )
    two_factor = models.BooleanField(_("needs a second factor"), default=False)
    tlp_red = models.BooleanField(
        _("individual recipient (TLP:RED)"),
        default=False,
        help_text=_("Holders may receive TLP:RED records released to their organisation by name"),
    )
    org_assignable = models.BooleanField(_("organisation admins may grant it"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's one organisation, roles and second factor."""

    # Written as part of its account's creation (one audit entry); audited on its own otherwise.
    audit_parent = "user"
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
    # Alerts are written in this language; set when the user picks one in the shell.
    language = models.CharField(_("alert language"), max_length=10, blank=True)

    objects = AccessQuerySet.as_manager()

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

    objects = AccessQuerySet.as_manager()

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
        # From the cross-request cache while the access stamp is unchanged (one indexed read).
        from mufakat.core.sharing import grantcache

        grantcache.attach_roles(user, m)
    return m


def role_slugs(user: User | Any) -> frozenset[str]:
    """Slugs of the user's roles, from the membership loaded once per request."""
    m = membership_of(user)
    return frozenset(r.slug for r in m.roles.all()) if m else frozenset()


def user_org(user: User | Any) -> Organisation | None:
    """The acting user's organisation, from the membership loaded once per request."""
    m = membership_of(user)
    return m.organisation if m else None


class AccessVersion(models.Model):
    """One row whose value changes with every change to roles, grants, memberships or groups.

    Grants are cached across requests per process (core.sharing.grantcache) and used only while
    this stamp is unchanged. It lives in the database, not in a cache, so that every worker
    process sees it and it commits (or rolls back) with the change that bumped it.
    """

    # Internal (no admin, no page shows it), so its names are not translated.
    value = models.BigIntegerField("value", default=0)

    class Meta:
        verbose_name = "access version"
        verbose_name_plural = "access versions"

    def __str__(self) -> str:
        return str(self.value)
