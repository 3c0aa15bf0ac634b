"""The types a module declares itself with (see core.registry and docs/modules.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from mufakat.core.map.spec import LayerSpec

    Text = str | Promise
else:
    Text = Any


@dataclass(frozen=True)
class NavEntry:
    """A link in the shell's top bar and on the home page."""

    label: Text
    url_name: str
    description: Text = ""


@dataclass(frozen=True)
class RoleSpec:
    """A role. Platform roles are declared by core; a module declares the roles its work needs
    (exercise controller, evaluator, delegation lead…). Seeded on migrate and editable as data."""

    slug: str
    name: Text
    description: str = ""
    # Holders must use a second factor (focal points, administrators).
    two_factor: bool = False
    # Holders are individual recipients in the TLP:RED sense (named persons, not a whole state).
    tlp_red: bool = False
    # An organisation admin may grant it (platform administration is granted by operators only).
    org_assignable: bool = True


@dataclass(frozen=True)
class Grant:
    """A role's actions on one of the module's models ("app_label.ModelName"), optionally
    narrowed by ORM-lookup constraints ("$user" and "$org" are substituted)."""

    role: str
    model: str
    actions: tuple[str, ...]
    constraints: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class Indicator:
    """A live figure for the strategic framework dashboard. `compute` is a dotted path to
    `f(user, start: date, end: date) -> IndicatorValue`; it must count only what `user` may see."""

    slug: str
    name: Text
    area: Literal[1, 2, 3]  # 1 shared identity, 2 institutional processes, 3 preparedness
    unit: str
    compute: str
    description: Text = ""


@dataclass(frozen=True)
class IndicatorValue:
    """One computed figure and how many records it rests on (small counts can be suppressed)."""

    value: float | None
    records: int


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    snippet: str = ""
    kind: str = ""


@dataclass(frozen=True)
class SearchProvider:
    """Platform-wide search: `search` is a dotted path to `f(user, q: str, limit: int) ->
    list[SearchHit]`, which must search only what `user` may see (start from restrict())."""

    slug: str
    name: Text
    search: str


@dataclass(frozen=True)
class ModuleSetting:
    """An environment variable the module reads (documented in docs/deploy.md like core's)."""

    name: str
    default: str
    help: str


@dataclass(frozen=True)
class ModuleSpec:
    """What one module contributes. Every hook is optional except `label` and `name`."""

    label: str
    name: Text
    area: Literal[1, 2, 3] | None = None
    nav: tuple[NavEntry, ...] = ()
    # Typed layer specs (docs/map-layers.md), or "pkg.layers:function" returning them when the
    # specs name model choices, which cannot be imported while apps load.
    map_layers: tuple[LayerSpec, ...] | str = ()
    roles: tuple[RoleSpec, ...] = ()
    grants: tuple[Grant, ...] = ()
    settings: tuple[ModuleSetting, ...] = ()
    demo: str | None = None  # "pkg.demo:load_demo", called as load_demo(console)
    indicators: tuple[Indicator, ...] = ()
    search: tuple[SearchProvider, ...] = ()
    subscription_targets: tuple[str, ...] = ()  # dotted paths to SubscriptionTarget objects
    cli: str | None = None  # "pkg.cli:app", a Typer app mounted as `mufakat <cli_name>`
    cli_name: str | None = None  # defaults to the label
    api: str | None = None  # "pkg.api:router", a ninja Router mounted at /api/<api_prefix>/
    api_prefix: str | None = None  # defaults to the label
    urls: str | None = None  # "pkg.urls", included at /<url_prefix>/
    url_prefix: str | None = None  # defaults to the label

    @property
    def mount(self) -> str:
        return self.url_prefix or self.label
