"""Account models: API tokens and log-in failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass


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
    # A wrong TOTP code after a right password: it counts towards the same lock-out, and a later
    # right password must not wipe it (else "password, then four wrong codes" repeats forever).
    second_factor = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("log-in failure")
        verbose_name_plural = _("log-in failures")

    def __str__(self) -> str:
        return f"{self.username} {self.time:%Y-%m-%d %H:%M}"
