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

from mufakat.core.choices import Action, RoleSlug

DATA = Path(__file__).parent.parent / "data" / "organisations.json"

ROLE_DESCRIPTIONS: dict[str, str] = {
    RoleSlug.VIEWER: "Reads what is shared with the organisation.",
    RoleSlug.REPORTER: "Files reports and edits their own.",
    RoleSlug.ANALYST: "Files, edits and exports the organisation's records.",
    RoleSlug.FOCAL_POINT: "Releases records to other states, approves AI outputs, receives alerts.",
    RoleSlug.EXERCISE_CONTROLLER: "Runs exercises: edits scenarios, releases injects.",
    RoleSlug.ORG_ADMIN: "Manages the organisation's users, groups and webhooks.",
    RoleSlug.PLATFORM_ADMIN: "Operates the platform: reference data and the audit log.",
}

# Role → (actions, constraints) on every shared record type. Non-view actions are confined to
# the user's own organisation by restrict() itself; constraints narrow further.
ROLE_GRANTS: dict[str, list[tuple[list[str], Any]]] = {
    RoleSlug.VIEWER: [([Action.VIEW], None)],
    RoleSlug.REPORTER: [
        ([Action.VIEW, Action.ADD], None),
        ([Action.CHANGE], {"created_by": "$user"}),
    ],
    RoleSlug.ANALYST: [([Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT], None)],
    RoleSlug.FOCAL_POINT: [
        (
            [
                Action.VIEW,
                Action.ADD,
                Action.CHANGE,
                Action.DELETE,
                Action.SHARE,
                Action.EXPORT,
                Action.APPROVE,
            ],
            None,
        )
    ],
    RoleSlug.EXERCISE_CONTROLLER: [([Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT], None)],
    RoleSlug.ORG_ADMIN: [
        (
            [
                Action.VIEW,
                Action.ADD,
                Action.CHANGE,
                Action.DELETE,
                Action.SHARE,
                Action.EXPORT,
                Action.APPROVE,
            ],
            None,
        )
    ],
    RoleSlug.PLATFORM_ADMIN: [([Action.VIEW], None)],
}


def shared_models() -> list[type[models.Model]]:
    from mufakat.core.models import SharedRecord

    return [m for m in apps.get_models() if issubclass(m, SharedRecord)]


def seed_reference_data(**kwargs: Any) -> None:
    from mufakat.core.models import ObjectPermission, Organisation, Role

    with transaction.atomic():
        for row in json.loads(DATA.read_text(encoding="utf-8"))["organisations"]:
            code = row.pop("code")
            Organisation.objects.update_or_create(code=code, defaults=row)
        roles = {}
        for slug, label in RoleSlug.choices:
            roles[slug], _created = Role.objects.get_or_create(
                slug=slug, defaults={"name": str(label), "description": ROLE_DESCRIPTIONS[slug]}
            )
        cts = [ContentType.objects.get_for_model(m) for m in shared_models()]
        for slug, grants in ROLE_GRANTS.items():
            for i, (actions, constraints) in enumerate(grants, start=1):
                perm, created = ObjectPermission.objects.get_or_create(
                    name=f"{slug}: shared records #{i}",
                    defaults={
                        "description": f"Default grant for the {slug} role.",
                        "actions": [str(a) for a in actions],
                        "constraints": constraints,
                    },
                )
                if created:
                    perm.roles.add(roles[slug])
                # New modules' record types join the default grants on the next migrate.
                perm.object_types.add(*cts)
