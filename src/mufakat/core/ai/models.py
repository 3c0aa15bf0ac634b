"""Where an AI output came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass


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
