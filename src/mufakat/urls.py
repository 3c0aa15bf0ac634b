"""Root URLs: the core shell, the API, the admin, and one include per installed module."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

from mufakat.api import api
from mufakat.core import registry
from mufakat.core.notifications.views import set_language

# Input nothing can store is a 400, a locked database a 503 with Retry-After (core.ops.errors).
handler500 = "mufakat.core.ops.errors.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("mufakat.core.urls")),
    path("api/", api.urls),
    # Django's own admin log-in asks for no second factor: send it to the platform's log-in,
    # after which the admin's session (password and TOTP) is the one the admin site checks.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="core:login", query_string=True),
        name="admin_login_redirect",
    ),
    path("admin/", admin.site.urls),
    # Django's set_language, plus remembering the choice as the user's alert language.
    path("i18n/setlang/", set_language, name="set_language"),
]

urlpatterns += [path(f"{s.mount}/", include(s.urls)) for s in registry.modules() if s.urls]
