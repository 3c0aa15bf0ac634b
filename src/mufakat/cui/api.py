"""CUI API: incidents (list/get/create/status), impact, exports, STIX import, assets, repair ETAs."""

# No postponed annotations here: django-ninja builds Query[...] parameter models from them.

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import File, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from mufakat.core.filtering import filtered
from mufakat.core.geo.geometry import check_lat_lon
from mufakat.core.sharing.queries import sharing_groups_for
from mufakat.cui import exports, queries, services
from mufakat.cui.filtersets import AssetFilterSet, IncidentFilterSet
from mufakat.cui.impact import analyse
from mufakat.cui.models import Asset, Incident
from mufakat.cui.schemas import (
    AssetDetailOut,
    AssetOut,
    EtaOut,
    ImpactOut,
    IncidentIn,
    IncidentListOut,
    IncidentOut,
    StatusIn,
    StixImportOut,
)

router = Router(tags=["cui"])


@router.get("/incidents", response=list[IncidentListOut])
@paginate
@filtered(IncidentFilterSet)
def list_incidents(request: HttpRequest, filters: IncidentFilterSet) -> QuerySet[Incident]:
    """Incidents you may see, newest first; each item without `impact` (see the detail)."""
    return filters.narrow(queries.incident_rows(request.user))


@router.get("/incidents/{incident_id}", response=IncidentOut)
def get_incident(request: HttpRequest, incident_id: int) -> Incident:
    return queries.incident(request.user, incident_id)


@router.post("/incidents", response={201: IncidentOut})
def create_incident(request: HttpRequest, payload: IncidentIn) -> Status[Incident]:
    group = None
    if payload.sharing_group_id is not None:
        # Only groups the caller's organisation is in: another group answers like a missing one.
        group = sharing_groups_for(request.user).filter(pk=payload.sharing_group_id).first()
        if group is None:
            raise ValidationError({"sharing_group_id": "Unknown sharing group."})
    data = services.IncidentInput(
        **payload.dict(exclude={"shared_with", "sharing_group_id"}),
        shared_with=services.ensure_states(payload.shared_with),
        sharing_group=group,
    )
    return Status(201, services.report_incident(request.user, data))


@router.post("/incidents/{incident_id}/status", response=IncidentOut)
def change_status(request: HttpRequest, incident_id: int, payload: StatusIn) -> Incident:
    inc = queries.incident(request.user, incident_id)
    return services.change_status(request.user, inc, payload.status, payload.note)


@router.get("/impact", response=ImpactOut)
def impact(
    request: HttpRequest,
    lat: float,
    lon: float,
    radius_km: float = 50.0,
    uncertainty_km: float = 1.0,
) -> dict[str, Any]:
    """What-if analysis over public assets and the caller's own organisation's uploads: routes
    within `uncertainty_km` plus each route's stated accuracy are affected, the rest within
    `radius_km` nearby."""
    la, lo = check_lat_lon(lat, lon)
    if not 0 < radius_km <= services.MAX_RADIUS_KM:
        raise ValidationError({"radius_km": "The radius must be between 0 and 500 km."})
    if not 0 <= uncertainty_km <= radius_km:
        raise ValidationError(
            {"uncertainty_km": "The uncertainty must be between 0 and the radius."}
        )
    return analyse(
        la, lo, radius_km, queries.viewer_org_id(request.user), uncertainty_km=uncertainty_km
    )


@router.get("/incidents/{incident_id}/repair-etas", response=list[EtaOut])
def repair_etas(
    request: HttpRequest, incident_id: int, speed_knots: float | None = None
) -> list[EtaOut]:
    inc = queries.incident(request.user, incident_id)
    if speed_knots is not None and not services.MIN_SPEED_KNOTS <= speed_knots <= 40:
        raise ValidationError({"speed_knots": "Speed must be between 1 and 40 knots."})
    return [
        EtaOut(
            ship=e.ship.name,
            home_port=e.ship.home_port,
            distance_nm=e.distance_nm,
            hours=e.hours,
            error=e.error,
        )
        for e in queries.repair_etas(inc, speed_knots)
    ]


def export_response(user: Any, fmt: str, incidents: list[Incident]) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise ValidationError(
            {"format": f"Unknown format {fmt!r}; use one of {', '.join(exports.FORMATS)}."}
        )
    return exports.response(user, fmt, incidents)


@router.get("/export/{fmt}")
@filtered(IncidentFilterSet)
def export_incidents(request: HttpRequest, fmt: str, filters: IncidentFilterSet) -> HttpResponse:
    """A filtered set, limited to what the caller may export (sharing and TLP apply)."""
    qs = filters.narrow(queries.incidents(request.user, "export"))
    return export_response(request.user, fmt, list(qs[:1000]))


@router.get("/incidents/{incident_id}/export/{fmt}")
def export_incident(request: HttpRequest, incident_id: int, fmt: str) -> HttpResponse:
    inc = queries.incident(request.user, incident_id, "export")
    return export_response(request.user, fmt, [inc])


@router.post("/import/stix", response={201: StixImportOut})
def import_stix(request: HttpRequest, file: File[UploadedFile]) -> Status[StixImportOut]:
    from mufakat.core.ops.uploads import check_upload

    check_upload(file, allowed={".json"})
    created = services.import_stix(request.user, file.read())
    return Status(201, StixImportOut(created=[i.pk for i in created]))


@router.get("/assets", response=list[AssetOut])
@paginate
@filtered(AssetFilterSet)
def list_assets(request: HttpRequest, filters: AssetFilterSet) -> QuerySet[Asset]:
    """Public reference assets plus routes uploaded by the caller's own organisation; an
    uploaded route is visible to that organisation only (`private` is true)."""
    return filters.narrow(queries.visible_assets(request.user)).defer(*queries.ASSET_LIST_DEFER)


@router.get("/assets/{asset_id}", response=AssetDetailOut)
def get_asset(request: HttpRequest, asset_id: int) -> Asset:
    """One asset with its route geometry (GeoJSON); another organisation's upload answers 404,
    like a missing id."""
    return queries.asset(request.user, asset_id)
