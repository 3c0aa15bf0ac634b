"""The platform's generic shared-record contract applied to undersea incidents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from mufakat.core.sharing.testing import SharedRecordContract
from mufakat.cui import exports, queries
from mufakat.cui.filtersets import IncidentFilterSet
from mufakat.cui.models import Incident, IncidentType


class TestIncidentContract(SharedRecordContract):
    model = Incident
    anonymous_ui = False  # every page needs a log-in: anonymous callers are redirected
    anonymous_api = False  # the API answers 401 without a session or token

    def record_fields(self) -> dict[str, Any]:
        return {
            "title": "Cable fault east of Pulau Bintan",
            "incident_type": IncidentType.FAULT,
            "occurred_at": datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
            "lat": 1.25,
            "lon": 104.6,
        }

    def detail_url(self, obj: Any) -> str:
        return reverse("cui:incident", args=[obj.pk])

    def list_url(self) -> str:
        return reverse("cui:incidents") + "?size=200"

    def api_detail_url(self, obj: Any) -> str:
        return f"/api/cui/incidents/{obj.pk}"

    def api_list_url(self) -> str:
        return "/api/cui/incidents?limit=200"

    def export_ids(self, user: Any) -> set[int]:
        data = exports.geojson(list(queries.incidents(user, "export")))
        return {int(f["id"]) for f in data["features"]}

    def search_ids(self, user: Any) -> set[int]:
        qs = IncidentFilterSet({"q": "Bintan"}, queries.incidents(user), user=user).qs
        return set(qs.values_list("pk", flat=True))
