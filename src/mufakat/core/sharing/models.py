"""Sharing models: sharing groups and the abstract shared record every module's records inherit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from mufakat.core.choices import (
    DISTRIBUTION_ORDER,
    TLP,
    TLP_MAX_DISTRIBUTION,
    Distribution,
)
from mufakat.core.sharing.querysets import RestrictedQuerySet
from mufakat.core.tenancy.models import Organisation

if TYPE_CHECKING:
    pass


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

    record_kind: ClassVar[str] = "shared"

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


class PrivateRecord(models.Model):
    """Abstract base of records an organisation keeps to itself: they are never released to
    another organisation (uploaded routes, AIS track sets, document collections, a delegation's
    notes). A row with no owner is platform reference data that every signed-in user reads
    (cui's imported cables live in the same table as each state's uploads).

    Read through restrict() like shared records: viewing needs the view grant for the
    organisation's own rows, every other action is confined to the organisation's own rows.
    """

    record_kind: ClassVar[str] = "private"

    owner_org = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner organisation"),
        help_text=_("Empty for platform reference data"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects: ClassVar[Any] = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_private(self) -> bool:
        return self.owner_org_id is not None

    def visible_to(self, user: Any) -> bool:
        """restrict(user, "view")'s verdict on this loaded row; a query only for own-org rows."""
        if not getattr(user, "is_authenticated", False):
            return False
        if self.owner_org_id is None:
            return True
        from mufakat.core.sharing.querysets import grant_q
        from mufakat.core.tenancy.models import user_org

        org = user_org(user)
        if org is None or org.pk != self.owner_org_id:
            return False
        grant = grant_q(type(self), user, "view")
        if grant is None:
            return False
        # An unconstrained grant (the usual case) decides without a query; constraints are
        # ORM look-ups, so only the database can evaluate them.
        return not grant or type(self)._default_manager.filter(grant, pk=self.pk).exists()


class ReferenceData(models.Model):
    """Abstract base of public reference data (landing points, repair ships…): every signed-in
    user reads it through restrict(); it changes only through import commands and the admin."""

    record_kind: ClassVar[str] = "reference"

    objects: ClassVar[Any] = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True
