"""Root URLs: the core shell, the API, the admin, and one include per installed module."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from mufakat.api import api
from mufakat.core import registry
from mufakat.core.notifications.views import set_language

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("mufakat.core.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # Django's set_language, plus remembering the choice as the user's alert language.
    path("i18n/setlang/", set_language, name="set_language"),
]

urlpatterns += [path(f"{s.mount}/", include(s.urls)) for s in registry.modules() if s.urls]
