"""Start-up check (`manage.py check`, run before serve and migrate): every module's map layers
are LayerSpec objects with unique ids and endpoints that resolve."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from mufakat.core.map.layers import module_layers
from mufakat.core.map.spec import LayerSpecError


@register()
def check_map_layers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        for spec in module_layers():
            spec.resolved_url()
    except LayerSpecError as exc:
        return [Error(str(exc), id="mufakat.E101", obj="map_layers")]
    return []
