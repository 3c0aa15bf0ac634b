"""The undersea module's map layers, declared once for the common map, the module map and the
incident and asset pages' small maps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from mufakat.core.map import (
    Categorical,
    ChoiceFilter,
    Cluster,
    FieldKind,
    Geometry,
    LayerSpec,
    LegendEntry,
    LegendShape,
    MinimumFilter,
    PopupField,
    Ramp,
    Style,
)
from mufakat.cui.models import ATTRIBUTION, AssetSource, IncidentType, Severity, Status

CABLE_COLOUR = "#0e7490"
GAS_COLOUR = "#7c3aed"
LIQUIDS_COLOUR = "#9a3412"
DONE_COLOUR = "#6b7280"
SEVERITY_COLOURS = {1: "#2563eb", 2: "#ca8a04", 3: "#ea580c", 4: "#b42318"}
STATUS_DONE = frozenset({Status.RESTORED, Status.CLOSED})

# Incidents: colour by severity, grey once restored or closed, bigger when more severe.
INCIDENT_STYLE = Style(
    colour=SEVERITY_COLOURS[4], outline="#111111", weight=1, radius=8, fill_opacity=0.9
)
INCIDENT_STYLE_BY = (
    Categorical(property="severity", values=SEVERITY_COLOURS),
    Categorical(property="status", values=dict.fromkeys(STATUS_DONE, DONE_COLOUR)),
    Ramp(property="severity", attribute="radius", stops=((1, 8.0), (4, 14.0))),
)
INCIDENT_LEGEND = (
    LegendEntry(label=_("Severity 4"), colour=SEVERITY_COLOURS[4], shape=LegendShape.CIRCLE),
    LegendEntry(label="3", colour=SEVERITY_COLOURS[3], shape=LegendShape.CIRCLE),
    LegendEntry(label="2", colour=SEVERITY_COLOURS[2], shape=LegendShape.CIRCLE),
    LegendEntry(label="1", colour=SEVERITY_COLOURS[1], shape=LegendShape.CIRCLE),
    LegendEntry(label=_("restored"), colour=DONE_COLOUR, shape=LegendShape.CIRCLE),
)
INCIDENT_POPUP = (
    PopupField(property="url", kind=FieldKind.LINK, text_property="reference"),
    PopupField(property="name"),
    PopupField(property="incident_type", label=_("Type"), choices=dict(IncidentType.choices)),
    PopupField(property="status", label=_("Status"), choices=dict(Status.choices)),
    PopupField(property="owner", label=_("Owner")),
    PopupField(property="occurred_at", label=_("Time (UTC)"), kind=FieldKind.DATETIME),
)
ROUTE_POPUP = (PopupField(property="url", kind=FieldKind.LINK, text_property="name"),)


def module_layers() -> tuple[LayerSpec, ...]:
    """CuiConfig.map_layers: cables, pipelines, landing points and incidents."""
    return (
        LayerSpec(
            id="cui-cables",
            name=_("Cables"),
            geometry=Geometry.LINE,
            url_name="cui:cables_geojson",
            style=Style(colour=CABLE_COLOUR, opacity=0.8),
            colour_property="colour",
            legend=(
                LegendEntry(label=_("Telecom cable"), colour=CABLE_COLOUR, shape=LegendShape.LINE),
            ),
            popup=ROUTE_POPUP,
            attribution=ATTRIBUTION[AssetSource.TELEGEOGRAPHY],
        ),
        LayerSpec(
            id="cui-pipelines",
            name=_("Pipelines"),
            geometry=Geometry.LINE,
            url_name="cui:pipelines_geojson",
            style=Style(colour=GAS_COLOUR, opacity=0.8),
            colour_property="colour",
            legend=(
                LegendEntry(label=_("Gas pipeline"), colour=GAS_COLOUR, shape=LegendShape.LINE),
                LegendEntry(label=_("liquids"), colour=LIQUIDS_COLOUR, shape=LegendShape.LINE),
            ),
            popup=ROUTE_POPUP,
            attribution=ATTRIBUTION[AssetSource.GEM],
        ),
        LayerSpec(
            id="cui-landing-points",
            name=_("Landing points"),
            geometry=Geometry.POINT,
            url_name="cui:landing_points_geojson",
            style=Style(colour="#ffffff", outline="#0f172a", weight=1, radius=3, fill_opacity=1),
            tooltip=("name", "country"),
            cluster=Cluster(),
            visible=False,
        ),
        LayerSpec(
            id="cui-incidents",
            name=_("Incidents"),
            geometry=Geometry.POINT,
            url_name="cui:incidents_geojson",
            style=INCIDENT_STYLE,
            style_by=INCIDENT_STYLE_BY,
            legend=INCIDENT_LEGEND,
            popup=INCIDENT_POPUP,
            time_property="occurred_at",
            time_label=_("Show incidents up to"),
            filters=(
                ChoiceFilter(
                    property="phase",
                    label=_("Status"),
                    choices=(("open", _("Open")), ("done", _("Restored / closed"))),
                ),
                ChoiceFilter(
                    property="incident_type", label=_("Type"), choices=IncidentType.choices
                ),
                MinimumFilter(
                    property="severity",
                    label=_("Minimum severity"),
                    options=tuple((int(s), str(int(s))) for s in Severity),
                ),
            ),
        ),
    )


def _collection(features: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def routes_layer(features: list[Mapping[str, Any]], attribution: str = "") -> LayerSpec:
    """The routes on an incident or asset page's small map."""
    return LayerSpec(
        id="routes",
        name=_("Asset"),
        geometry=Geometry.LINE,
        data=_collection(features),
        style=Style(colour=CABLE_COLOUR, weight=2.5),
        colour_property="colour",
        attribution=attribution,
    )


def incident_layers(feature: Mapping[str, Any], radius_km: float) -> tuple[LayerSpec, ...]:
    """An incident's impact circle and its marker, styled as on the module map."""
    props = dict(feature["properties"], radius_km=radius_km)
    return (
        LayerSpec(
            id="impact",
            name=_("Incidents"),
            geometry=Geometry.AREA,
            data=_collection([dict(feature, properties=props)]),
            style=Style(colour=SEVERITY_COLOURS[4], weight=1),
            radius_km_property="radius_km",
        ),
        LayerSpec(
            id="incident",
            name=_("Incidents"),
            geometry=Geometry.POINT,
            data=_collection([feature]),
            style=INCIDENT_STYLE,
            style_by=INCIDENT_STYLE_BY[:2],
        ),
    )
