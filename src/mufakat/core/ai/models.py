"""Where an AI output came from."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AIProvenance(models.Model):
    """One AI call and the artefact it produced: where it came from and who decided on it.

    core.ai writes a row for every call (also failed ones), before any artefact exists; `attach`
    then links it to the artefact. A rejection is recorded here too: a rejected output never
    leaves the approval queue for sharing.
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("Valid output")
        INVALID = "invalid", _("Invalid output")
        UNAVAILABLE = "unavailable", _("Server unavailable")

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    object_id = models.CharField(max_length=64, blank=True)
    artefact = GenericForeignKey("content_type", "object_id")
    generator = models.CharField(_("generator or model"), max_length=200)
    model_name = models.CharField(_("model"), max_length=200, blank=True)
    template_version = models.CharField(_("prompt/template version"), max_length=100)
    inputs = models.JSONField(_("inputs"), default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    prompt_hash = models.CharField(_("prompt SHA-256"), max_length=64, blank=True)
    output_hash = models.CharField(_("output SHA-256"), max_length=64, blank=True)
    schema_name = models.CharField(_("output schema"), max_length=200, blank=True)
    # How the schema reached the server (json_schema, json_object, prompt) and whether the server
    # was seen to enforce it (None: not probed, e.g. free text).
    schema_mode = models.CharField(_("schema mode"), max_length=16, blank=True)
    schema_enforced = models.BooleanField(_("schema enforced by the server"), null=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.OK
    )
    error = models.TextField(_("error"), blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rejected by"),
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("AI provenance")
        verbose_name_plural = _("AI provenance records")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.generator} ({self.template_version})"
