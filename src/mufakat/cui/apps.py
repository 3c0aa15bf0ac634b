from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CuiConfig(AppConfig):
    name = "mufakat.cui"
    label = "cui"
    verbose_name = _("Undersea infrastructure")

    nav = [
        {
            "label": _("Undersea"),
            "url": "cui:map",
            "app": "cui",
            "description": _("Cable and pipeline incidents: report, alert, coordinate repair."),
        }
    ]
    map_layers = [
        {
            "name": _("Submarine cables"),
            "url_name": "cui:cables_geojson",
            "colour": "#0e7490",
            "attribution": "Cables: TeleGeography Submarine Cable Map 2022-11-11, CC BY-NC-SA 3.0",
        },
        {
            "name": _("Undersea incidents"),
            "url_name": "cui:incidents_geojson",
            "colour": "#b42318",
            "radius": 7,
        },
    ]

    def ready(self) -> None:
        from mufakat.core.sharing.events import record_shared
        from mufakat.cui.models import Incident

        record_shared.connect(_alert_on_share, sender=Incident, dispatch_uid="cui-alert-on-share")

    def load_demo(self, console: Any) -> None:
        from mufakat.cui.demo import load_demo

        load_demo(console)


def _alert_on_share(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    from mufakat.cui.services import alert_newly_shared

    alert_newly_shared(instance)
