"""The generic shared-record contract applied to the test module's Dossier."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from mufakat.core.sharing.testing import SharedRecordContract
from tests.sharedapp.models import Dossier
from tests.sharedapp.queries import export_csv, search


class TestDossierContract(SharedRecordContract):
    model = Dossier

    def record_fields(self) -> dict[str, Any]:
        return {"title": "Harbour survey", "body": "berths and depths"}

    def detail_url(self, obj: Any) -> str:
        return reverse("sharedapp:detail", args=[obj.pk])

    def list_url(self) -> str:
        return reverse("sharedapp:list")

    def api_detail_url(self, obj: Any) -> str:
        return f"/api/sharedapp/dossiers/{obj.pk}"

    def api_list_url(self) -> str:
        return "/api/sharedapp/dossiers"

    def export_ids(self, user: Any) -> set[int]:
        lines = export_csv(user).splitlines()[1:]
        return {int(line.split(",", 1)[0]) for line in lines}

    def search_ids(self, user: Any) -> set[int]:
        return set(search(user, "harbour"))
