"""API schemas for the CUI module."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from mufakat.core.choices import TLP, Distribution
from mufakat.cui.models import IncidentType, Severity
from mufakat.cui.queries import impact_for, incident_asset


class ImpactAssetOut(Schema):
    id: int
    name: str
    kind: str
    distance_km: float
    affected: bool = Field(
        True,
        description="The reported asset, or within the position uncertainty plus the route's "
        "accuracy; false: only within the impact radius (nearby)",
    )
    accuracy_km: float | None = Field(None, description="Stated accuracy of the route data")


class RedundancyOut(Schema):
    total: int
    affected: int
    remaining: int


class ImpactOut(Schema):
    assets: list[ImpactAssetOut]
    affected_states: list[str] = Field(..., description="Served by affected public cables")
    redundancy: dict[str, RedundancyOut] = {}
    basis: str = Field(
        "", description="reported_asset or position: how the affected set was chosen"
    )


class IncidentIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    incident_type: IncidentType = IncidentType.UNKNOWN
    occurred_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    uncertainty_km: float = Field(1.0, ge=0, le=500)
    asset_id: int | None = None
    segment_id: int | None = None
    depth_m: float | None = Field(None, ge=0, le=11000)
    severity: Severity = Severity.MODERATE
    description: str = ""
    impact_radius_km: float = 50.0
    distribution: Distribution = Distribution.ORGANISATION
    tlp: TLP = TLP.AMBER
    shared_with: list[str] = Field(default_factory=list, description="ISO alpha-2 codes")
    sharing_group_id: int | None = None


class IncidentListOut(Schema):
    """One row of the incident list: everything but the stored impact, which made a 50-item
    page 170 KB (benchmarks/README.md, "API lists"); the detail endpoint has it."""

    id: int
    reference: str
    title: str
    incident_type: str
    occurred_at: datetime
    lat: float
    lon: float
    uncertainty_km: float
    asset_id: int | None
    depth_m: float | None
    severity: int
    status: str
    description: str
    owner: str
    distribution: str
    tlp: str
    affected_states: list[str]
    created: datetime
    updated: datetime

    @staticmethod
    def resolve_owner(obj: Any) -> str:
        return str(obj.owner_org.code)

    @staticmethod
    def resolve_asset_id(obj: Any, context: Any) -> int | None:
        a = incident_asset(_reader(context), obj)
        return a.pk if a is not None else None


class IncidentOut(IncidentListOut):
    impact: ImpactOut | None

    @staticmethod
    def resolve_impact(obj: Any, context: Any) -> dict[str, Any] | None:
        # Only the assets this reader may see: public ones and their organisation's uploads.
        return impact_for(_reader(context), obj) if obj.impact else None


def _reader(context: Any) -> Any:
    """The user the response is for (ninja passes the request in the serialisation context)."""
    request = (context or {}).get("request")
    return getattr(request, "user", None)


class StatusIn(Schema):
    status: str
    note: str = ""


class AssetOut(Schema):
    id: int
    name: str
    kind: str
    source: str
    owners: str
    rfs_year: int | None
    length_km: float | None
    states: list[str]
    attribution: str
    private: bool = Field(
        False, description="Uploaded by your organisation: visible to your organisation only"
    )

    @staticmethod
    def resolve_attribution(obj: Any) -> str:
        return str(obj.attribution)

    @staticmethod
    def resolve_private(obj: Any) -> bool:
        return obj.owner_org_id is not None


class AssetDetailOut(AssetOut):
    geometry: dict[str, Any] = Field(
        description="The route as a GeoJSON geometry (LineString or MultiLineString, WGS 84)"
    )


class StixImportOut(Schema):
    created: list[int]


class EtaOut(Schema):
    ship: str
    home_port: str
    distance_nm: float | None
    hours: float | None
    error: str
