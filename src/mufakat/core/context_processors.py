"""Template context for the shell: navigation of the installed modules, the user's organisation."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from mufakat.core.models import user_org


def module_nav() -> list[dict[str, Any]]:
    """Navigation entries declared by installed module apps (AppConfig.nav)."""
    entries: list[dict[str, Any]] = []
    for label in settings.MUFAKAT_MODULES:
        cfg = apps.get_app_config(label.rsplit(".", 1)[-1])
        entries.extend(getattr(cfg, "nav", []))
    return entries


def map_layers() -> list[dict[str, Any]]:
    """Overlay layers that module apps contribute to the common map (AppConfig.map_layers)."""
    layers: list[dict[str, Any]] = []
    for label in settings.MUFAKAT_MODULES:
        cfg = apps.get_app_config(label.rsplit(".", 1)[-1])
        for layer in getattr(cfg, "map_layers", []):
            entry = {
                k: (str(v) if k in {"name", "label"} else v)
                for k, v in layer.items()
                if k != "url_name"
            }
            entry["url"] = reverse(layer["url_name"])
            layers.append(entry)
    return layers


def shell(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    unread = 0
    if user.is_authenticated:
        unread = user.notifications.filter(read_at__isnull=True).count()
    return {
        "nav_modules": module_nav(),
        "current_org": user_org(user),
        "unread_count": unread,
        "ENV": settings.CONFIG.env,
    }
