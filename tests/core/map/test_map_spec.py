"""The typed map layer spec: precise errors for bad specs, JSON for the component, module layers,
the start-up check and the {% mufakat_map %} tag."""

from __future__ import annotations

import dataclasses
import json
from html import unescape
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mufakat.core import registry
from mufakat.core.map import (
    Categorical,
    ChoiceFilter,
    Cluster,
    FieldKind,
    Geometry,
    LayerSpec,
    LayerSpecError,
    LegendEntry,
    MinimumFilter,
    PopupField,
    Ramp,
    Style,
)
from mufakat.core.map.checks import check_map_layers
from mufakat.core.map.layers import layers_json, module_layer_groups
from mufakat.core.map.spec import same_origin_path

EMPTY = {"type": "FeatureCollection", "features": []}


def layer(**kw: Any) -> LayerSpec:
    fields: dict[str, Any] = {
        "id": "boats",
        "name": "Boats",
        "geometry": Geometry.POINT,
        "data": EMPTY,
    }
    fields.update(kw)
    return LayerSpec(**fields)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"id": "Boats!"}, "map layer id must be lower-case letters"),
        ({"name": "  "}, "map layer 'boats': name must be a non-empty string"),
        ({"geometry": "blob"}, "geometry must be one of point, line, polygon, area, not 'blob'"),
        ({"data": None}, "give exactly one of url_name, url or data"),
        ({"url": "/x/"}, "give exactly one of url_name, url or data"),
        ({"data": None, "url": "https://evil.example/x"}, "url must be a path on this site"),
        ({"data": None, "url": "//evil.example/x"}, "url must be a path on this site"),
        ({"data": {"type": "Feature"}}, "data must be a GeoJSON FeatureCollection"),
        ({"url_kwargs": {"pk": 1}}, "url_kwargs need a url_name"),
        ({"style": Style(colour="red")}, "style.colour must be a colour like '#0e7490', not 'red'"),
        ({"style": Style(opacity=1.5)}, "style.opacity must be a number from 0 to 1, not 1.5"),
        ({"style": Style(outline="#12345")}, "style.outline must be a colour"),
        (
            {"style_by": [Categorical(property="kind", values={})]},
            "categorical style on 'kind' has no values",
        ),
        (
            {"style_by": [Categorical(property="kind", values={"a": "blue"})]},
            "(style_by 'kind'): a colour value must be a colour",
        ),
        (
            {"style_by": [Categorical(property="kind", values={"a": 3}, attribute="size")]},  # type: ignore[arg-type]
            "attribute must be one of colour, radius, weight, opacity, fill_opacity, not 'size'",
        ),
        (
            {"style_by": [Ramp(property="sev", attribute="radius", stops=((2, 5.0), (1, 8.0)))]},
            "stops must be in increasing order",
        ),
        (
            {"style_by": [Ramp(property="sev", attribute="radius", stops=((1, 500.0),))]},
            "a radius value must be a number from 0 to 100, not 500.0",
        ),
        ({"style_by": [Ramp(property="sev", stops=())]}, "a ramp needs at least one stop"),
        ({"style_by": ["colour"]}, "style_by entries must be Categorical or Ramp, not 'colour'"),
        ({"colour_property": "bad name"}, "colour_property must be a GeoJSON property name"),
        ({"geometry": Geometry.AREA}, "radius_km_property is required for, and only for, area"),
        ({"radius_km_property": "km"}, "radius_km_property is required for, and only for, area"),
        ({"legend": [LegendEntry(label="", colour="#000000")]}, "legend label must be a non-empty"),
        ({"legend": [LegendEntry(label="x", colour="black")]}, "legend colour must be a colour"),
        ({"geometry": Geometry.LINE, "cluster": Cluster()}, "clustering is only for point layers"),
        ({"cluster": Cluster(radius_px=5)}, "cluster.radius_px must be a number from 10 to 200"),
        (
            {"popup": [PopupField(property="name", text_property="x")]},
            "text_property is only for link fields ('name')",
        ),
        (
            {"popup": [PopupField(property="n", kind=FieldKind.NUMBER, choices={"1": "one"})]},
            "choices are only for text fields ('n')",
        ),
        ({"popup": [PopupField(property="x-y")]}, "popup property must be a GeoJSON property name"),
        ({"popup": [{"property": "name"}]}, "popup entries must be PopupField, not {'property'"),
        ({"tooltip": ["ok", "not ok"]}, "tooltip property must be a GeoJSON property name"),
        (
            {"filters": [ChoiceFilter(property="status", label="Status", choices=())]},
            "filter on 'status' has no choices",
        ),
        (
            {"filters": [MinimumFilter(property="sev", label="Severity", options=(("1", "1"),))]},  # type: ignore[arg-type]
            "a minimum option must be a (number, label) pair",
        ),
        ({"min_zoom": 25}, "min_zoom must be a number from 0 to 20, not 25"),
        ({"time_property": "occurred_at"}, "time_label must be a non-empty string"),
    ],
)
def test_a_bad_spec_fails_with_a_precise_message(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(LayerSpecError) as err:
        layer(**kw)
    assert message in str(err.value)


def test_a_spec_is_frozen_and_its_sequences_are_tuples() -> None:
    spec = layer(tooltip=["name"], popup=[PopupField(property="name")])
    assert spec.tooltip == ("name",)
    assert isinstance(spec.popup, tuple)
    with pytest.raises(AttributeError):
        spec.id = "other"  # type: ignore[misc]


def test_same_origin_path() -> None:
    assert same_origin_path("/cui/incidents/3/?a=1#x")
    for bad in (
        "https://evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        "/\\evil",
        "/a b",
        "cui/",
    ):
        assert not same_origin_path(bad), bad


def test_url_name_resolves_with_kwargs_and_a_bad_name_is_named() -> None:
    spec = layer(data=None, url_name="cui:incident", url_kwargs={"pk": 7})
    assert spec.to_json()["url"] == "/cui/incidents/7/"
    with pytest.raises(LayerSpecError, match="url_name 'cui:nowhere' does not resolve"):
        layer(data=None, url_name="cui:nowhere").to_json()


def test_serialisation_in_the_active_language() -> None:
    spec = layer(
        name=_("Pipelines"),
        style=Style(colour="#112233", radius=4),
        style_by=(
            Categorical(property="severity", values={1: "#2563eb", 4: "#b42318"}),
            Ramp(property="severity", attribute="radius", stops=((1, 8.0), (4, 14.0))),
        ),
        colour_property="colour",
        time_property="occurred_at",
        time_label="Up to",
        cluster=Cluster(radius_px=40, disable_at_zoom=None),
        popup=(
            PopupField(property="url", kind=FieldKind.LINK, text_property="reference"),
            PopupField(property="status", label=_("Status"), choices={"closed": _("Closed")}),
        ),
        tooltip=("name",),
        filters=(MinimumFilter(property="severity", label="Minimum", options=((1, "1"),)),),
        attribution="Data: somebody",
        visible=False,
        min_zoom=6,
    )
    with translation.override("vi"):
        data = json.loads(layers_json([spec]))[0]
    assert data["name"] == "Đường ống"
    assert data["popup"][1] == {
        "property": "status",
        "label": "Trạng thái",
        "kind": "text",
        "text_property": None,
        "choices": {"closed": "Đã đóng"},
    }
    assert data["style"] == {
        "colour": "#112233",
        "outline": None,
        "weight": 2.0,
        "radius": 4,
        "opacity": 0.85,
        "fill_opacity": 0.8,
    }
    assert data["style_by"] == [
        {
            "type": "categorical",
            "property": "severity",
            "attribute": "colour",
            "values": {"1": "#2563eb", "4": "#b42318"},
        },
        {
            "type": "ramp",
            "property": "severity",
            "attribute": "radius",
            "stops": [[1, 8.0], [4, 14.0]],
        },
    ]
    assert data["cluster"] == {"radius_px": 40, "disable_at_zoom": None}
    assert data["filters"] == [{"type": "minimum", "property": "severity"}]
    assert (data["url"], data["data"]) == (None, EMPTY)
    assert (data["visible"], data["min_zoom"], data["tooltip"]) == (False, 6, ["name"])
    assert (data["time_property"], data["colour_property"]) == ("occurred_at", "colour")
    assert data["attribution"] == "Data: somebody"


def test_modules_declare_their_layers_grouped_by_module() -> None:
    groups = module_layer_groups()
    cui = next(g for g in groups if str(g.name) == "Undersea infrastructure")
    ids = [spec.id for spec in cui.layers]
    assert ids == ["cui-cables", "cui-pipelines", "cui-landing-points", "cui-incidents"]
    incidents = cui.layers[-1]
    assert incidents.time_property == "occurred_at"
    assert [f.property for f in incidents.filters] == ["phase", "incident_type", "severity"]
    assert next(s for s in cui.layers if s.id == "cui-landing-points").cluster is not None
    assert check_map_layers() == []


def test_a_duplicate_id_or_an_unresolved_url_fails_the_start_up_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = next(m for m in registry.modules() if m.label == "sharedapp")
    others = tuple(m for m in registry.modules() if m.label != "sharedapp")

    def declare(*layers: LayerSpec) -> None:
        changed = dataclasses.replace(shared, map_layers=layers)
        monkeypatch.setattr(registry, "modules", lambda: (*others, changed))

    declare(layer(id="cui-incidents"))
    [error] = check_map_layers()
    assert error.id == "mufakat.E101"
    assert "map layer id 'cui-incidents' is declared by both cui and sharedapp" in error.msg
    declare(layer(id="ships", data=None, url_name="no:such"))
    [error] = check_map_layers()
    assert "map layer 'ships': url_name 'no:such' does not resolve" in error.msg


def render(source: str, **context: Any) -> str:
    return Template("{% load mufakat_map %}" + source).render(Context(context))


def test_the_tag_renders_the_panel_and_escapes_the_layer_json() -> None:
    hostile = '<img src=x onerror=alert(1)>"'
    spec = layer(
        name=hostile,
        legend=(LegendEntry(label=hostile, colour="#b42318"),),
        filters=(ChoiceFilter(property="kind", label="Kind", choices=(("a", hostile),)),),
        attribution=hostile,
    )
    html = render(
        '{% mufakat_map layers map_id="m" label="Boats" click_url="/cui/incidents/new/" click_label="Report" %}'
        "<p>{{ note }}</p>{% endmufakat_map %}",
        layers=[spec],
        note=hostile,
    )
    assert "<img" not in html  # every declared string is escaped, in attributes and text
    # Toggle label and aria-label, legend, choice, sources, block content, JSON name and attribution.
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 8
    start = html.index('data-layers="') + len('data-layers="')
    data = json.loads(unescape(html[start : html.index('"', start)]))
    assert data[0]["name"] == hostile
    assert 'data-click-url="/cui/incidents/new/"' in html
    assert 'data-layer-toggle="boats" aria-label="&lt;img' in html
    assert 'data-filter="boats" data-property="kind" data-kind="choice" value="a" checked' in html


def test_the_tag_refuses_an_off_site_click_url_and_can_drop_the_panel() -> None:
    with pytest.raises(LayerSpecError, match="click_url must be a path on this site"):
        render(
            '{% mufakat_map layers click_url="https://evil.example/" %}{% endmufakat_map %}',
            layers=[layer()],
        )
    html = render(
        "{% mufakat_map layers panel=False fit=True %}{% endmufakat_map %}", layers=[layer()]
    )
    assert "map-panel" not in html
    assert 'data-fit="1"' in html
