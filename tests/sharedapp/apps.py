"""The test module: the smallest module that uses every hook of the registry, so each hook is
exercised by tests (tests/core/test_registry.py) exactly as a feature module would use it."""

from __future__ import annotations

from django.apps import AppConfig

from mufakat.core.map import Geometry, LayerSpec, PopupField, Style
from mufakat.core.registry import (
    Grant,
    Indicator,
    ModuleSetting,
    ModuleSpec,
    NavEntry,
    RoleSpec,
    SearchProvider,
)
from mufakat.core.tenancy.roles import standard_grants

MODULE = ModuleSpec(
    label="sharedapp",
    name="Shared-record test module",
    area=2,
    nav=(NavEntry("Dossiers", "sharedapp:list", "Test dossiers"),),
    map_layers=(
        LayerSpec(
            id="sharedapp-places",
            name="Dossier places",
            geometry=Geometry.POINT,
            url_name="sharedapp:places",
            style=Style(colour="#6941c6"),
            popup=(PopupField(property="name"),),
        ),
    ),
    roles=(
        RoleSpec(
            "dossier_clerk",
            "Dossier clerk",
            "Files dossiers; may not change them.",
        ),
    ),
    grants=(
        *standard_grants("sharedapp.Dossier"),
        Grant("dossier_clerk", "sharedapp.Dossier", ("view", "add")),
        Grant("viewer", "sharedapp.Memo", ("view",)),
        Grant("analyst", "sharedapp.Memo", ("view", "add", "change")),
        Grant("focal_point", "sharedapp.Memo", ("view", "add", "change", "delete")),
    ),
    settings=(ModuleSetting("MUFAKAT_SHAREDAPP_PAGE_SIZE", "50", "dossiers per list page"),),
    demo="tests.sharedapp.demo:load_demo",
    indicators=(
        Indicator(
            "sharedapp_dossiers",
            "Dossiers visible",
            2,
            "dossiers",
            "tests.sharedapp.queries:dossier_indicator",
        ),
    ),
    search=(SearchProvider("dossiers", "Dossiers", "tests.sharedapp.queries:search_hits"),),
    subscription_targets=("tests.sharedapp.subscriptions:DOSSIER_TARGET",),
    cli="tests.sharedapp.cli:app",
    api="tests.sharedapp.api:router",
    urls="tests.sharedapp.urls",
    url_prefix="dossiers",
)


class SharedAppConfig(AppConfig):
    name = "tests.sharedapp"
    label = "sharedapp"
    verbose_name = "Shared-record test module"
    default_auto_field = "django.db.models.BigAutoField"
    module_spec = MODULE
