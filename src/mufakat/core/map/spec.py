"""The typed map layer spec: what a module declares for each overlay on a Mufakat map.

A spec is data, checked when it is built (a bad spec fails at import/start-up with a message that
names the layer and the field), and serialised to JSON for the map component's `data-layers`
attribute. Nothing in a spec is ever rendered as HTML: popups and tooltips are built in the
browser from the declared fields with `textContent`, and links must be same-origin paths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal

from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise

type Label = str | Promise  # a plain or lazily translated string
type StyleAttribute = Literal["colour", "radius", "weight", "opacity", "fill_opacity"]

_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_NUMERIC: dict[str, tuple[float, float]] = {
    "radius": (0.0, 100.0),
    "weight": (0.0, 20.0),
    "opacity": (0.0, 1.0),
    "fill_opacity": (0.0, 1.0),
}


class LayerSpecError(ImproperlyConfigured):
    """A layer spec that cannot be drawn; the message names the layer and the field."""


class Geometry(StrEnum):
    POINT = "point"  # drawn as circle markers sized in pixels
    LINE = "line"
    POLYGON = "polygon"
    AREA = "area"  # points drawn as geographic circles, radius in km from a property


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"  # shown in UTC, as records keep it
    DATETIME = "datetime"
    LINK = "link"  # a same-origin relative path; anything else is shown as text, not linked


class LegendShape(StrEnum):
    LINE = "line"
    CIRCLE = "circle"
    SQUARE = "square"


def _fail(where: str, message: str) -> LayerSpecError:
    return LayerSpecError(f"map layer {where}: {message}")


def _check_property(where: str, name: str, value: object) -> None:
    if not isinstance(value, str) or not _PROPERTY.match(value):
        raise _fail(
            where, f"{name} must be a GeoJSON property name (letters, digits, _), not {value!r}"
        )


def _check_colour(where: str, name: str, value: object) -> None:
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise _fail(where, f"{name} must be a colour like '#0e7490', not {value!r}")


def _check_number(where: str, name: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(where, f"{name} must be a number from {low:g} to {high:g}, not {value!r}")


def _check_attribute_value(where: str, attribute: str, value: object) -> None:
    if attribute == "colour":
        _check_colour(where, "a colour value", value)
    elif attribute in _NUMERIC:
        low, high = _NUMERIC[attribute]
        _check_number(where, f"a {attribute} value", value, low, high)
    else:
        allowed = ", ".join(["colour", *_NUMERIC])
        raise _fail(where, f"attribute must be one of {allowed}, not {attribute!r}")


def _check_label(where: str, name: str, value: object, *, blank: bool = False) -> None:
    if not isinstance(value, str | Promise) or (not blank and not str(value).strip()):
        raise _fail(where, f"{name} must be a non-empty string")


def _is_pair(value: object) -> bool:
    # Declared as pairs, but a spec is written by hand: check what actually arrived.
    return isinstance(value, tuple) and len(value) == 2


def same_origin_path(url: str) -> bool:
    """A path on this site ('/cui/…'): not scheme-relative ('//host'), no scheme, no backslash."""
    return (
        url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and not any(c.isspace() or ord(c) < 32 for c in url)
    )


@dataclass(frozen=True, kw_only=True)
class Style:
    """How a layer's features are drawn when no rule says otherwise."""

    colour: str = "#0e7490"
    outline: str | None = None  # stroke of point markers; None: the fill colour
    weight: float = 2.0
    radius: float = 5.0  # pixels, point markers
    opacity: float = 0.85
    fill_opacity: float = 0.8

    def check(self, where: str) -> None:
        _check_colour(where, "style.colour", self.colour)
        if self.outline is not None:
            _check_colour(where, "style.outline", self.outline)
        for name, (low, high) in _NUMERIC.items():
            _check_number(where, f"style.{name}", getattr(self, name), low, high)

    def to_json(self) -> dict[str, Any]:
        return {
            "colour": self.colour,
            "outline": self.outline,
            "weight": self.weight,
            "radius": self.radius,
            "opacity": self.opacity,
            "fill_opacity": self.fill_opacity,
        }


@dataclass(frozen=True, kw_only=True)
class Categorical:
    """Set one style attribute from a property's value: {"restored": "#6b7280", …}."""

    property: str
    values: Mapping[Any, str | float]  # str or int keys, as the property holds them
    attribute: StyleAttribute = "colour"

    def check(self, where: str) -> None:
        _check_property(where, "style_by property", self.property)
        if not self.values:
            raise _fail(where, f"categorical style on {self.property!r} has no values")
        for value in self.values.values():
            _check_attribute_value(f"{where} (style_by {self.property!r})", self.attribute, value)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "categorical",
            "property": self.property,
            "attribute": self.attribute,
            "values": {str(k): v for k, v in self.values.items()},
        }


@dataclass(frozen=True, kw_only=True)
class Ramp:
    """Set one style attribute from a numeric property. Colours step (a value takes the colour of
    the highest stop at or below it); numbers are interpolated linearly between stops."""

    property: str
    stops: Sequence[tuple[float, str | float]]
    attribute: StyleAttribute = "colour"

    def check(self, where: str) -> None:
        _check_property(where, "style_by property", self.property)
        here = f"{where} (style_by {self.property!r})"
        if not self.stops:
            raise _fail(here, "a ramp needs at least one stop")
        previous: float | None = None
        for stop in self.stops:
            if not _is_pair(stop):
                raise _fail(here, f"a stop must be a (value, {self.attribute}) pair, not {stop!r}")
            at, value = stop
            if isinstance(at, bool) or not isinstance(at, int | float):
                raise _fail(here, f"a stop's value must be a number, not {at!r}")
            if previous is not None and at <= previous:
                raise _fail(here, "stops must be in increasing order")
            previous = at
            _check_attribute_value(here, self.attribute, value)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "ramp",
            "property": self.property,
            "attribute": self.attribute,
            "stops": [[at, value] for at, value in self.stops],
        }


type StyleRule = Categorical | Ramp


@dataclass(frozen=True, kw_only=True)
class LegendEntry:
    label: Label
    colour: str
    shape: LegendShape = LegendShape.SQUARE

    def check(self, where: str) -> None:
        _check_label(where, "legend label", self.label)
        _check_colour(where, "legend colour", self.colour)


@dataclass(frozen=True, kw_only=True)
class PopupField:
    """One line of a popup: the property's value as text (never markup)."""

    property: str
    label: Label = ""  # blank: the value alone, as the popup's heading line
    kind: FieldKind = FieldKind.TEXT
    text_property: str | None = None  # for links: the property shown as the link's text
    choices: Mapping[Any, Label] | None = None  # value -> display label (text fields)

    def check(self, where: str) -> None:
        _check_property(where, "popup property", self.property)
        _check_label(where, "popup label", self.label, blank=True)
        if self.text_property is not None:
            if self.kind != FieldKind.LINK:
                raise _fail(where, f"text_property is only for link fields ({self.property!r})")
            _check_property(where, "popup text_property", self.text_property)
        if self.choices is not None and self.kind != FieldKind.TEXT:
            raise _fail(where, f"choices are only for text fields ({self.property!r})")

    def to_json(self) -> dict[str, Any]:
        return {
            "property": self.property,
            "label": str(self.label),
            "kind": str(self.kind),
            "text_property": self.text_property,
            "choices": None
            if self.choices is None
            else {str(k): str(v) for k, v in self.choices.items()},
        }


@dataclass(frozen=True, kw_only=True)
class ChoiceFilter:
    """Checkboxes, all ticked at first: a feature is shown when its value is ticked. Values not
    listed (a status added later) stay shown, so a filter never hides data by omission."""

    property: str
    label: Label
    choices: Sequence[tuple[str | int, Label]]
    kind: ClassVar[str] = "choice"  # read by the panel template

    def check(self, where: str) -> None:
        _check_property(where, "filter property", self.property)
        _check_label(where, "filter label", self.label)
        if not self.choices:
            raise _fail(where, f"filter on {self.property!r} has no choices")
        for choice in self.choices:
            if not _is_pair(choice):
                raise _fail(where, f"a filter choice must be a (value, label) pair: {choice!r}")

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "property": self.property}


@dataclass(frozen=True, kw_only=True)
class MinimumFilter:
    """A select: features whose numeric property is below the chosen option are hidden."""

    property: str
    label: Label
    options: Sequence[tuple[float, Label]]
    kind: ClassVar[str] = "minimum"

    def check(self, where: str) -> None:
        _check_property(where, "filter property", self.property)
        _check_label(where, "filter label", self.label)
        if not self.options:
            raise _fail(where, f"filter on {self.property!r} has no options")
        for option in self.options:
            if (
                not _is_pair(option)
                or isinstance(option[0], bool)
                or not isinstance(option[0], int | float)
            ):
                raise _fail(where, f"a minimum option must be a (number, label) pair: {option!r}")

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "property": self.property}


type LayerFilter = ChoiceFilter | MinimumFilter


@dataclass(frozen=True, kw_only=True)
class Cluster:
    """Group nearby point markers (Leaflet.markercluster) until zoomed in."""

    radius_px: int = 60
    disable_at_zoom: int | None = 9

    def check(self, where: str) -> None:
        _check_number(where, "cluster.radius_px", self.radius_px, 10, 200)
        if self.disable_at_zoom is not None:
            _check_number(where, "cluster.disable_at_zoom", self.disable_at_zoom, 1, 20)

    def to_json(self) -> dict[str, Any]:
        return {"radius_px": self.radius_px, "disable_at_zoom": self.disable_at_zoom}


type _Part = Categorical | Ramp | LegendEntry | PopupField | ChoiceFilter | MinimumFilter


@dataclass(frozen=True, kw_only=True)
class LayerSpec:
    """One overlay on a map. Exactly one source: `url_name` (+ `url_kwargs`), `url` (a same-origin
    path) or inline `data` (a GeoJSON FeatureCollection, for small per-page layers)."""

    id: str
    name: Label
    geometry: Geometry
    url_name: str | None = None
    url_kwargs: Mapping[str, str | int] = field(default_factory=dict)
    url: str | None = None
    data: Mapping[str, Any] | None = None
    style: Style = field(default_factory=Style)
    style_by: Sequence[StyleRule] = ()
    colour_property: str | None = None  # a feature's own '#rrggbb' colour, checked in the browser
    radius_km_property: str | None = None  # AREA layers: the circle's radius
    legend: Sequence[LegendEntry] = ()
    time_property: str | None = None  # ISO 8601 date-time; the panel gets a time slider
    time_label: Label = ""  # the slider's label ("Show incidents up to"); required with it
    cluster: Cluster | None = None
    popup: Sequence[PopupField] = ()
    tooltip: Sequence[str] = ()  # properties joined with ' · ' on hover
    filters: Sequence[LayerFilter] = ()
    attribution: str = ""
    visible: bool = True
    min_zoom: float | None = None

    def __post_init__(self) -> None:
        # Sequences become tuples so a declared spec cannot be changed after the check.
        for name in ("style_by", "legend", "popup", "tooltip", "filters"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        self.check()

    def check(self) -> None:
        if not _ID.match(str(self.id)):
            raise LayerSpecError(
                f"map layer id must be lower-case letters, digits, '-' or '_', not {self.id!r}"
            )
        where = repr(self.id)
        _check_label(where, "name", self.name)
        try:
            Geometry(self.geometry)
        except ValueError:
            kinds = ", ".join(g.value for g in Geometry)
            raise _fail(where, f"geometry must be one of {kinds}, not {self.geometry!r}") from None
        self._check_source(where)
        self.style.check(where)
        for name in ("colour_property", "radius_km_property", "time_property"):
            value = getattr(self, name)
            if value is not None:
                _check_property(where, name, value)
        if (self.geometry == Geometry.AREA) != (self.radius_km_property is not None):
            raise _fail(where, "radius_km_property is required for, and only for, area layers")
        _check_label(where, "time_label", self.time_label, blank=self.time_property is None)
        if self.cluster is not None:
            if self.geometry != Geometry.POINT:
                raise _fail(where, "clustering is only for point layers")
            self.cluster.check(where)
        self._check_parts(where)
        for prop in self.tooltip:
            _check_property(where, "tooltip property", prop)
        if not isinstance(self.attribution, str):
            raise _fail(where, "attribution must be a string")
        if self.min_zoom is not None:
            _check_number(where, "min_zoom", self.min_zoom, 0, 20)

    def _check_source(self, where: str) -> None:
        sources = [s for s in (self.url_name, self.url, self.data) if s is not None]
        if len(sources) != 1:
            raise _fail(where, "give exactly one of url_name, url or data")
        if self.url_kwargs and self.url_name is None:
            raise _fail(where, "url_kwargs need a url_name")
        if self.url is not None and not same_origin_path(self.url):
            raise _fail(where, f"url must be a path on this site ('/…'), not {self.url!r}")
        if self.data is not None and self.data.get("type") != "FeatureCollection":
            raise _fail(where, "data must be a GeoJSON FeatureCollection")

    def _check_parts(self, where: str) -> None:
        """Each declared rule, legend entry, popup field and filter is of its type and valid."""
        parts: list[tuple[str, Sequence[_Part], tuple[type, ...]]] = [
            ("style_by", self.style_by, (Categorical, Ramp)),
            ("legend", self.legend, (LegendEntry,)),
            ("popup", self.popup, (PopupField,)),
            ("filters", self.filters, (ChoiceFilter, MinimumFilter)),
        ]
        for name, items, types in parts:
            for item in items:
                if not isinstance(item, types):
                    allowed = " or ".join(t.__name__ for t in types)
                    raise _fail(where, f"{name} entries must be {allowed}, not {item!r}")
                item.check(where)

    def resolved_url(self) -> str | None:
        """The GeoJSON endpoint's path, or None for an inline layer."""
        if self.url_name is not None:
            try:
                return reverse(self.url_name, kwargs=dict(self.url_kwargs) or None)
            except NoReverseMatch as exc:
                raise _fail(
                    repr(self.id), f"url_name {self.url_name!r} does not resolve: {exc}"
                ) from exc
        return self.url

    def to_json(self) -> dict[str, Any]:
        """What the browser needs, with names in the active language and the URL resolved."""
        return {
            "id": self.id,
            "name": str(self.name),
            "geometry": str(self.geometry),
            "url": self.resolved_url(),
            "data": self.data,
            "style": self.style.to_json(),
            "style_by": [rule.to_json() for rule in self.style_by],
            "colour_property": self.colour_property,
            "radius_km_property": self.radius_km_property,
            "time_property": self.time_property,
            "cluster": None if self.cluster is None else self.cluster.to_json(),
            "popup": [f.to_json() for f in self.popup],
            "tooltip": list(self.tooltip),
            "filters": [f.to_json() for f in self.filters],
            "attribution": self.attribution,
            "visible": self.visible,
            "min_zoom": self.min_zoom,
        }
