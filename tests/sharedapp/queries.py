"""Every read path of the test module, each starting from restrict()."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Q, QuerySet

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
