from __future__ import annotations

from django.db import models

from mufakat.core.models import SharedRecord


class Dossier(SharedRecord):
    """The smallest possible shared record: what every real module's records look like to core."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)

    class Meta(SharedRecord.Meta):
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title
