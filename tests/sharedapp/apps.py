from __future__ import annotations

from django.apps import AppConfig


class SharedAppConfig(AppConfig):
    name = "tests.sharedapp"
    label = "sharedapp"
    verbose_name = "Shared-record test module"
    default_auto_field = "django.db.models.BigAutoField"
