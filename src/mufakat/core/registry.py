"""The typed module registry: one place that says what each feature module contributes.

A module is a Django app listed in `settings.MUFAKAT_MODULES` whose AppConfig carries a
`module_spec = ModuleSpec(...)` attribute. Everything the platform discovers from modules (navigation,
map layers, roles and grants, settings, demo data, framework indicators, search, subscription
targets, CLI, API router, URLs) is read from these specs through the functions below, never from
ad-hoc attributes. `validate()` runs when the core app is ready, so a mistake in a spec stops
start-up with an `ImproperlyConfigured` that names the module and the field.

Hooks that point at code are dotted paths ("package.module:attribute"), imported on first use:
declaring a module never imports its views, API or CLI. docs/modules.md documents every hook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from datetime import date
from functools import cache
from importlib import import_module
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from mufakat.core.map.spec import LayerSpec
from mufakat.core.spec import (
    Grant,
    Indicator,
    IndicatorValue,
    ModuleSetting,
    ModuleSpec,
    NavEntry,
    RoleSpec,
    SearchHit,
    SearchProvider,
)
from mufakat.core.tenancy.roles import PLATFORM_ROLES

ACTIONS = ("view", "add", "change", "delete", "share", "export", "approve")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_MODULE_PATH = re.compile(r"^[A-Za-z_][\w.]*$")
TUPLE_HOOKS = (
    "nav",
    "roles",
    "grants",
    "settings",
    "indicators",
    "search",
    "subscription_targets",
)


def resolve(path: str) -> Any:
    """Import "package.module:attribute"."""
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


def _fail(label: str, what: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"module {label!r}: {what}")


@cache
def modules() -> tuple[ModuleSpec, ...]:
    """The specs of the installed modules, in MUFAKAT_MODULES order."""
    from django.apps import apps
    from django.conf import settings

    out = []
    for name in settings.MUFAKAT_MODULES:
        cfg = next((c for c in apps.get_app_configs() if c.name == name), None)
        if cfg is None:
            raise ImproperlyConfigured(f"MUFAKAT_MODULES lists {name!r}, not in INSTALLED_APPS")
        spec = getattr(cfg, "module_spec", None)
        if not isinstance(spec, ModuleSpec):
            raise ImproperlyConfigured(
                f"module {name!r}: its AppConfig needs `module_spec = ModuleSpec(...)` "
                f"(found {type(spec).__name__})"
            )
        if spec.label != cfg.label:
            raise _fail(spec.label, f"label must equal the app label {cfg.label!r}")
        out.append(spec)
    return tuple(out)


def platform_roles() -> tuple[RoleSpec, ...]:
    return PLATFORM_ROLES


def roles() -> dict[str, RoleSpec]:
    """Every role: the platform's, then each module's."""
    out = {r.slug: r for r in platform_roles()}
    for m in modules():
        out.update({r.slug: r for r in m.roles})
    return out


def grants() -> list[tuple[ModuleSpec, Grant]]:
    return [(m, g) for m in modules() for g in m.grants]


def role_actions(model_label: str) -> dict[str, frozenset[str]]:
    """Declared actions of each role on one model ("app_label.modelname", any case)."""
    want = model_label.lower()
    out: dict[str, set[str]] = {slug: set() for slug in roles()}
    for _m, g in grants():
        if g.model.lower() == want:
            out[g.role].update(g.actions)
    return {k: frozenset(v) for k, v in out.items()}


def setting(name: str) -> str:
    """A module setting's value from the environment, or its declared default."""
    import os

    for m in modules():
        for s in m.settings:
            if s.name == name:
                return os.environ.get(name, s.default)
    raise KeyError(f"no module declares the setting {name}")


def all_settings() -> list[tuple[str, ModuleSetting]]:
    return [(m.label, s) for m in modules() for s in m.settings]


def map_layers(m: ModuleSpec) -> tuple[LayerSpec, ...]:
    """A module's map layers; a dotted path is imported and called on first use."""
    if isinstance(m.map_layers, str):
        return tuple(resolve(m.map_layers)())
    return m.map_layers


def nav() -> list[NavEntry]:
    return [e for m in modules() for e in m.nav]


def indicators() -> list[tuple[ModuleSpec, Indicator]]:
    return [(m, i) for m in modules() for i in m.indicators]


def compute_indicator(indicator: Indicator, user: Any, start: date, end: date) -> IndicatorValue:
    fn: Callable[[Any, date, date], IndicatorValue] = resolve(indicator.compute)
    return fn(user, start, end)


def search(user: Any, q: str, limit: int = 10) -> list[tuple[SearchProvider, list[SearchHit]]]:
    """Ask every module's search providers; each searches only what `user` may see."""
    return [
        (p, list(resolve(p.search)(user, q, limit))[:limit]) for m in modules() for p in m.search
    ]


def subscription_targets() -> list[Any]:
    return [resolve(path) for m in modules() for path in m.subscription_targets]


def demo_loaders() -> list[tuple[ModuleSpec, Callable[[Any], None]]]:
    return [(m, resolve(m.demo)) for m in modules() if m.demo]


def validate() -> None:
    """Check every spec; raise ImproperlyConfigured naming the module and the field."""
    specs = modules()
    role_slugs = {r.slug for r in platform_roles()}
    seen: set[str] = set()
    for m in specs:
        if m.label in seen:
            raise _fail(m.label, "declared twice")
        seen.add(m.label)
        _check_shapes(m)
        for r in m.roles:
            if not _SLUG.match(r.slug):
                raise _fail(m.label, f"role slug {r.slug!r} is not a lower-case slug")
            if r.slug in role_slugs:
                raise _fail(m.label, f"role {r.slug!r} is already declared")
            role_slugs.add(r.slug)
    setting_names = _core_setting_names()
    mounts: dict[str, str] = {}
    for m in specs:
        _check_grants(m, role_slugs)
        _check_paths(m)
        for s in m.settings:
            if not s.name.startswith(f"MUFAKAT_{m.label.upper()}_"):
                raise _fail(m.label, f"setting {s.name} must start with MUFAKAT_{m.label.upper()}_")
            if s.name in setting_names:
                raise _fail(m.label, f"setting {s.name} is declared twice")
            setting_names.add(s.name)
        if m.urls is not None:
            if m.mount in mounts:
                raise _fail(m.label, f"URL prefix {m.mount!r} is taken by {mounts[m.mount]}")
            mounts[m.mount] = m.label


def _check_shapes(m: ModuleSpec) -> None:
    for name in TUPLE_HOOKS:
        if not isinstance(getattr(m, name), tuple):
            raise _fail(m.label, f"{name} must be a tuple")
    kinds: list[tuple[str, type, tuple[Any, ...]]] = [
        ("nav", NavEntry, m.nav),
        ("roles", RoleSpec, m.roles),
        ("grants", Grant, m.grants),
        ("settings", ModuleSetting, m.settings),
        ("indicators", Indicator, m.indicators),
        ("search", SearchProvider, m.search),
    ]
    for name, kind, items in kinds:
        for item in items:
            if not isinstance(item, kind):
                raise _fail(m.label, f"{name} holds a {type(item).__name__}, not a {kind.__name__}")
    if not isinstance(m.map_layers, str):
        if not isinstance(m.map_layers, tuple):
            raise _fail(m.label, "map_layers must be a tuple or a 'package.module:function' path")
        for layer in m.map_layers:
            if not isinstance(layer, LayerSpec):
                raise _fail(m.label, f"map_layers holds a {type(layer).__name__}, not a LayerSpec")
    for i in m.indicators:
        if i.area not in (1, 2, 3):
            raise _fail(m.label, f"indicator {i.slug}: area must be 1, 2 or 3")


def _check_grants(m: ModuleSpec, role_slugs: set[str]) -> None:
    from django.apps import apps

    own = {model._meta.label_lower for model in apps.get_app_config(m.label).get_models()}
    for g in m.grants:
        if g.role not in role_slugs:
            raise _fail(m.label, f"grant names unknown role {g.role!r}")
        if g.model.lower() not in own:
            raise _fail(
                m.label,
                f"grant on {g.model!r}: a module grants actions on its own models only "
                f"({', '.join(sorted(own)) or 'none'})",
            )
        bad = set(g.actions) - set(ACTIONS)
        if bad or not g.actions:
            raise _fail(m.label, f"grant {g.role}/{g.model}: unknown actions {sorted(bad)}")


def _check_paths(m: ModuleSpec) -> None:
    paths = [
        ("demo", m.demo),
        ("cli", m.cli),
        ("api", m.api),
        *[(f"indicator {i.slug}", i.compute) for i in m.indicators],
        *[(f"search {p.slug}", p.search) for p in m.search],
        *[("subscription target", t) for t in m.subscription_targets],
        *([("map_layers", m.map_layers)] if isinstance(m.map_layers, str) else []),
    ]
    for what, path in paths:
        if path is not None and not _PATH.match(path):
            raise _fail(m.label, f"{what}: {path!r} is not 'package.module:attribute'")
    if m.urls is not None and not _MODULE_PATH.match(m.urls):
        raise _fail(m.label, f"urls: {m.urls!r} is not a module path")


def _core_setting_names() -> set[str]:
    from mufakat.config import SETTINGS

    return {s.name for s in SETTINGS}


def field_names() -> list[str]:
    """The hook names, for the docs test (docs/modules.md has a section per hook)."""
    return [f.name for f in fields(ModuleSpec)]


__all__ = [
    "Grant",
    "Indicator",
    "IndicatorValue",
    "ModuleSetting",
    "ModuleSpec",
    "NavEntry",
    "RoleSpec",
    "SearchHit",
    "SearchProvider",
]
