"""The overlay layers installed modules contribute to the common map, and their JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from mufakat.core.map.spec import Label, LayerSpec, LayerSpecError


@dataclass(frozen=True)
class LayerGroup:
    """A module's layers under its name in the map's side panel."""

    name: Label
    layers: tuple[LayerSpec, ...]


def module_layer_groups() -> list[LayerGroup]:
    """Each module's declared layers (`ModuleSpec.map_layers`), under the module's name."""
    from mufakat.core import registry

    groups: list[LayerGroup] = []
    seen: dict[str, str] = {}
    for module in registry.modules():
        declared = registry.map_layers(module)
        for spec in declared:
            if not isinstance(spec, LayerSpec):
                raise LayerSpecError(
                    f"{module.label}.map_layers must hold LayerSpec objects, not {spec!r}"
                )
            if spec.id in seen:
                raise LayerSpecError(
                    f"map layer id {spec.id!r} is declared by both {seen[spec.id]} and "
                    f"{module.label}"
                )
            seen[spec.id] = module.label
        if declared:
            groups.append(LayerGroup(module.name, declared))
    return groups


def module_layers() -> list[LayerSpec]:
    return [spec for group in module_layer_groups() for spec in group.layers]


def layers_json(specs: Iterable[LayerSpec]) -> str:
    """The `data-layers` attribute: names in the active language, URLs resolved. Not ASCII-escaped
    so the page carries readable text; Django's autoescape makes it safe inside the attribute."""
    return json.dumps([spec.to_json() for spec in specs], ensure_ascii=False)
