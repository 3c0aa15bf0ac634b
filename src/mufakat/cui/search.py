"""cui's providers for the platform-wide search (registered in apps.MODULE)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse

from mufakat.core.registry import SearchHit
from mufakat.cui.queries import incidents as visible_incidents
from mufakat.cui.queries import visible_assets


def incidents(user: Any, q: str, limit: int) -> list[SearchHit]:
    qs = visible_incidents(user).filter(Q(title__icontains=q) | Q(description__icontains=q))
    return [
        SearchHit(
            title=f"{i.reference} {i.title}",
            url=reverse("cui:incident", args=[i.pk]),
            snippet=i.description[:200],
            kind=str(i.get_incident_type_display()),
        )
        for i in qs[:limit]
    ]


def assets(user: Any, q: str, limit: int) -> list[SearchHit]:
    qs = visible_assets(user).filter(Q(name__icontains=q) | Q(owners__icontains=q))
    return [
        SearchHit(
            title=a.name,
            url=reverse("cui:asset", args=[a.pk]),
            snippet=a.owners[:200],
            kind=str(a.get_kind_display()),
        )
        for a in qs.only("pk", "name", "owners", "kind")[:limit]
    ]
