"""The one map component: typed layer specs (`spec`), the layers modules contribute (`layers`)
and the `{% mufakat_map %}` tag (core/templatetags/mufakat_map.py) with core/js/mufakat-map.js."""

from mufakat.core.map.spec import (
    Categorical,
    ChoiceFilter,
    Cluster,
    FieldKind,
    Geometry,
    LayerSpec,
    LayerSpecError,
    LegendEntry,
    LegendShape,
    MinimumFilter,
    PopupField,
    Ramp,
    Style,
)

__all__ = [
    "Categorical",
    "ChoiceFilter",
    "Cluster",
    "FieldKind",
    "Geometry",
    "LayerSpec",
    "LayerSpecError",
    "LegendEntry",
    "LegendShape",
    "MinimumFilter",
    "PopupField",
    "Ramp",
    "Style",
]
