"""Reference data every install has: organisations, roles and the default role grants.

Applied after every migrate (idempotent), so a fresh database, a test database and an upgraded
one all hold the same reference set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from mufakat.core import registry
from mufakat.core.registry import Grant

DATA = Path(__file__).parent.parent / "data" / "organisations.json"


def shared_models() -> list[type[models.Model]]:
    from mufakat.core.models import SharedRecord

    return [m for m in apps.get_models() if issubclass(m, SharedRecord)]


def grant_name(module: str, index: int, grant: Grant) -> str:
    """Stable name of a declared grant's row, so re-seeding finds it (and leaves edits alone)."""
    return f"{module}: {grant.role} on {grant.model.lower()} #{index}"[:100]


def seed_reference_data(**kwargs: Any) -> None:
    """Organisations, every declared role and every declared grant. Rows that exist are left as
    an operator may have edited them; only missing ones are created."""
    from mufakat.core.models import ObjectPermission, Organisation, Role

    with transaction.atomic():
        for row in json.loads(DATA.read_text(encoding="utf-8"))["organisations"]:
            code = row.pop("code")
            Organisation.objects.update_or_create(code=code, defaults=row)
        module_of = {r.slug: m.label for m in registry.modules() for r in m.roles}
        roles = {}
        for slug, spec in registry.roles().items():
            roles[slug], _created = Role.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": str(spec.name),
                    "description": spec.description,
                    "module": module_of.get(slug, ""),
                    "two_factor": spec.two_factor,
                    "tlp_red": spec.tlp_red,
                    "org_assignable": spec.org_assignable,
                },
            )
        counters: dict[tuple[str, str, str], int] = {}
        for module, grant in registry.grants():
            key = (module.label, grant.role, grant.model.lower())
            counters[key] = counters.get(key, 0) + 1
            app_label, model_name = grant.model.split(".")
            perm, created = ObjectPermission.objects.get_or_create(
                name=grant_name(module.label, counters[key], grant),
                defaults={
                    "description": f"Declared by the {module.label} module.",
                    "actions": list(grant.actions),
                    "constraints": _plain(grant.constraints),
                },
            )
            if created:
                perm.roles.add(roles[grant.role])
                model = apps.get_model(app_label, model_name)
                perm.object_types.add(ContentType.objects.get_for_model(model))


def _plain(constraints: Any) -> Any:
    """Constraints as JSON (tuples and mappings from a declaration become lists and dicts)."""
    if constraints is None:
        return None
    if isinstance(constraints, dict) or hasattr(constraints, "items"):
        return dict(constraints)
    return [dict(c) for c in constraints]
