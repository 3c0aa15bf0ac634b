"""Root URLs: the core shell, the API, the admin, and one include per installed module."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from mufakat.api import api
from mufakat.core import registry

# A locked database answers 503 + Retry-After; anything else is Django's plain 500.
handler500 = "mufakat.core.ops.busy.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("mufakat.core.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

urlpatterns += [path(f"{s.mount}/", include(s.urls)) for s in registry.modules() if s.urls]
