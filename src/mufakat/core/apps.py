from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "mufakat.core"
    label = "core"
    verbose_name = _("Platform core")

    def ready(self) -> None:
        from mufakat.core import registry
        from mufakat.core.audit import signals  # noqa: F401  (connects the audit receivers)
        from mufakat.core.map import checks  # noqa: F401  (registers the map layer check)
        from mufakat.core.sharing import grantcache  # noqa: F401  (connects the stamp's bumps)
        from mufakat.core.tenancy.reference import seed_reference_data

        # Every module's spec is checked before anything serves: a mistake stops start-up with
        # a message that names the module and the field.
        registry.validate()
        # Modules' subscription targets join core's (state, area) once their specs are valid.
        from mufakat.core.notifications.subscriptions import load_module_targets

        load_module_targets()

        post_migrate.connect(
            seed_reference_data, sender=self, dispatch_uid="mufakat-seed-reference"
        )
