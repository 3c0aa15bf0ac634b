"""Template context for the shell: navigation of the installed modules, the user's organisation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from mufakat.core import registry
from mufakat.core.ai.views import may_approve_any
from mufakat.core.map.layers import LayerGroup, module_layer_groups
from mufakat.core.models import user_org
from mufakat.core.notifications.inbox import unread_threads


def module_nav() -> list[dict[str, Any]]:
    """Navigation entries the installed modules declare (core.registry)."""
    return [
        {
            "label": e.label,
            "url": e.url_name,
            "app": e.url_name.split(":", 1)[0],
            "description": e.description,
        }
        for e in registry.nav()
    ]


def map_layers() -> list[LayerGroup]:
    """Overlay layers that module apps contribute to the common map, grouped by module."""
    return module_layer_groups()


def shell(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    unread = 0
    if user.is_authenticated:
        unread = unread_threads(user)
    return {
        "nav_modules": module_nav(),
        "may_approve_ai": user.is_authenticated and may_approve_any(user),
        "current_org": user_org(user),
        "unread_count": unread,
        "ENV": settings.CONFIG.env,
    }
