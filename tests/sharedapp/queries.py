"""Every read path of the test module, each starting from restrict()."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from mufakat.core.registry import IndicatorValue, SearchHit
from mufakat.core.sharing import queries, services
from tests.sharedapp.models import Dossier


def visible(user: Any) -> QuerySet[Dossier]:
    return queries.visible(Dossier, user)


def export_csv(user: Any) -> str:
    """Export what the user may export, and leave an audit entry naming the rows."""
    rows = list(queries.visible(Dossier, user, "export").order_by("pk"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "title", "owner", "distribution", "tlp"])
    for d in rows:
        writer.writerow([d.pk, d.title, d.owner_org_id, d.distribution, d.tlp])
    services.record_export(user, Dossier, [d.pk for d in rows], "csv")
    return out.getvalue()


def search(user: Any, text: str) -> list[int]:
    """A search index answers with ids; the index itself is filtered by the same rule."""
    qs = visible(user)
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(body__icontains=text))
    return list(qs.order_by("pk").values_list("pk", flat=True))


def search_hits(user: Any, q: str, limit: int) -> list[SearchHit]:
    """The registry's search hook: the same restricted search, as hits with links."""
    ids = search(user, q)[:limit]
    return [
        SearchHit(title=d.title, url=reverse("sharedapp:detail", args=[d.pk]), kind="dossier")
        for d in Dossier.objects.filter(pk__in=ids)
    ]


def dossier_indicator(user: Any, start: date, end: date) -> IndicatorValue:
    """The registry's indicator hook: dossiers created in the period that `user` may see."""
    n = visible(user).filter(created__date__gte=start, created__date__lte=end).count()
    return IndicatorValue(float(n), n)


def places(user: Any) -> dict[str, Any]:
    """GeoJSON of the dossiers with a position that `user` may see (the map-layer hook)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": d.pk,
                "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
                "properties": {"name": d.title},
            }
            for d in visible(user).filter(lat__isnull=False, lon__isnull=False)
        ],
    }
