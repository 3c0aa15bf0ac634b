from __future__ import annotations

from django.db import models

from mufakat.core.models import PrivateRecord, ReferenceData, SharedRecord


class Dossier(SharedRecord):
    """The smallest possible shared record: what every real module's records look like to core."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)

    class Meta(SharedRecord.Meta):
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class Memo(PrivateRecord):
    """An organisation-private record: never released outside its organisation."""

    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class Term(ReferenceData):
    """Public reference data: every signed-in user reads it."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
