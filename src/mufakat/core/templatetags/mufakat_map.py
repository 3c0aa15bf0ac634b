"""`{% mufakat_map layers %}…panel content…{% endmufakat_map %}`: the one map component.

`{% mufakat_map_assets %}` goes in the page's scripts block (Leaflet, markercluster, the basemap
and core/js/mufakat-map.js); the stylesheets are linked by the component itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from mufakat.core.map.layers import LayerGroup, layers_json
from mufakat.core.map.spec import LayerSpec, LayerSpecError, same_origin_path

register = template.Library()


def _groups(layers: Sequence[LayerSpec | LayerGroup]) -> list[LayerGroup]:
    if all(isinstance(x, LayerSpec) for x in layers):
        return (
            [LayerGroup("", tuple(x for x in layers if isinstance(x, LayerSpec)))] if layers else []
        )
    if all(isinstance(x, LayerGroup) for x in layers):
        return [x for x in layers if isinstance(x, LayerGroup)]
    raise LayerSpecError("mufakat_map takes LayerSpec objects or LayerGroup objects, not a mix")


@register.simple_block_tag
def mufakat_map(
    content: str,
    layers: Sequence[LayerSpec | LayerGroup],
    *,
    map_id: str = "map",
    label: str = "",
    css_class: str = "map",
    role: str = "region",
    panel: bool = True,
    fit: bool = False,
    view: str = "8,112,4.5",
    click_url: str = "",
    click_label: str = "",
    click_class: str = "",
) -> SafeString:
    """The map element and, with `panel`, its collapsible side panel: the block's content first
    (a module's links and hints), then layer toggles, legends, filters and time sliders, all
    rendered here in the page's language. `click_url` (a same-origin path) makes a click on the map
    offer a link to it with `?lat=…&lon=…`. `view` is the start "lat,lon,zoom"; `fit` zooms to
    the layers' data instead."""
    if click_url and not same_origin_path(click_url):
        raise LayerSpecError(f"mufakat_map click_url must be a path on this site: {click_url!r}")
    groups = _groups(layers)
    specs = [spec for group in groups for spec in group.layers]
    attributions = list(dict.fromkeys(s.attribution for s in specs if s.attribution))
    return mark_safe(  # noqa: S308 - the template autoescapes every value it renders
        render_to_string(
            "core/map/_map.html",
            {
                "content": content,
                "groups": groups,
                "layers_json": layers_json(specs),
                "map_id": map_id,
                "label": label,
                "css_class": css_class,
                "role": role,
                "panel": panel,
                "fit": fit,
                "view": view,
                "click_url": click_url,
                "click_label": click_label,
                "click_class": click_class,
                "attributions": attributions,
            },
        )
    )


@register.inclusion_tag("core/map/_assets.html")
def mufakat_map_assets() -> dict[str, object]:
    return {}
