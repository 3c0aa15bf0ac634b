"""Root URLs: the core shell, the API, the admin, and one include per installed module."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from mufakat.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("mufakat.core.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

for module in settings.MUFAKAT_MODULES:
    urls = import_module(f"{module}.urls")
    urlpatterns.append(
        path(
            f"{getattr(urls, 'url_prefix', module.rsplit('.', 1)[-1])}/", include(f"{module}.urls")
        )
    )
