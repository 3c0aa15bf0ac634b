from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _

from mufakat.core.registry import Grant, Indicator, ModuleSpec, NavEntry, SearchProvider
from mufakat.core.tenancy.roles import standard_grants

MODULE = ModuleSpec(
    label="cui",
    name=_("Undersea infrastructure"),
    area=3,
    nav=(
        NavEntry(
            _("Undersea"),
            "cui:map",
            _("Cable and pipeline incidents: report, alert, coordinate repair."),
        ),
    ),
    # Built on first use: the specs name the models' choices (cui.layers).
    map_layers="mufakat.cui.layers:module_layers",
    grants=(
        *standard_grants("cui.Incident"),
        # Uploaded routes are the uploading organisation's private records: everyone in it reads
        # them, those who file reports may upload, analysts and focal points may replace them.
        Grant("viewer", "cui.Asset", ("view",)),
        Grant("reporter", "cui.Asset", ("view", "add")),
        Grant("analyst", "cui.Asset", ("view", "add", "change")),
        Grant("focal_point", "cui.Asset", ("view", "add", "change", "delete")),
        Grant("org_admin", "cui.Asset", ("view", "add", "change", "delete")),
        Grant("platform_admin", "cui.Asset", ("view",)),
    ),
    demo="mufakat.cui.demo:load_demo",
    indicators=(
        Indicator(
            "cui_incidents_reported",
            _("Undersea incidents reported"),
            3,
            "incidents",
            "mufakat.cui.indicators:incidents_reported",
            _("Incidents on cables and pipelines reported in the period, as the reader sees them."),
        ),
        Indicator(
            "cui_incidents_shared",
            _("Undersea incidents shared beyond the reporting state"),
            3,
            "incidents",
            "mufakat.cui.indicators:incidents_shared",
            _("Incidents released to at least one other organisation."),
        ),
        Indicator(
            "cui_mean_hours_to_restore",
            _("Mean time to restore"),
            3,
            "hours",
            "mufakat.cui.indicators:mean_hours_to_restore",
            _("From the time of the incident to the restoration, for incidents restored."),
        ),
    ),
    search=(
        SearchProvider("cui_incidents", _("Undersea incidents"), "mufakat.cui.search:incidents"),
        SearchProvider("cui_assets", _("Cables and pipelines"), "mufakat.cui.search:assets"),
    ),
    subscription_targets=("mufakat.cui.subscriptions:ASSET_TARGET",),
    cli="mufakat.cui.cli:app",
    api="mufakat.cui.api:router",
    urls="mufakat.cui.urls",
)


class CuiConfig(AppConfig):
    name = "mufakat.cui"
    label = "cui"
    verbose_name = _("Undersea infrastructure")
    module_spec = MODULE

    def ready(self) -> None:
        from mufakat.core.sharing.events import record_shared
        from mufakat.cui.models import Asset, Incident

        post_delete.connect(_drop_asset_subscriptions, sender=Asset, dispatch_uid="cui-asset-subs")
        record_shared.connect(_alert_on_share, sender=Incident, dispatch_uid="cui-alert-on-share")
        # Registers the import job kinds, so job pages and the worker know them.
        import mufakat.cui.jobs  # noqa: F401


def _alert_on_share(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    from mufakat.cui.services import alert_newly_shared

    alert_newly_shared(instance)


def _drop_asset_subscriptions(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    # Core's subscriptions name targets by id, with no foreign key to cascade.
    from mufakat.core.models import Subscription
    from mufakat.cui.subscriptions import ASSET

    Subscription.objects.filter(kind=ASSET, target_id=str(instance.pk)).delete()
