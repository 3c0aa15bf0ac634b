"""Demo data: users for every member state and partner, a sharing group, plus each module's demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from rich.console import Console
from rich.progress import Progress

from mufakat.core.choices import OrgKind, RoleSlug
from mufakat.core.models import Membership, Organisation, Role, SharingGroup

DEMO_PASSWORD = "mufakat-demo-2026"  # noqa: S105 - printed to the person running the demo
# Per member state: (username suffix, roles, enrol a second factor).
MEMBER_USERS: list[tuple[str, list[str], bool]] = [
    ("analyst", [RoleSlug.ANALYST, RoleSlug.REPORTER], False),
    ("viewer", [RoleSlug.VIEWER], False),
    ("focal", [RoleSlug.FOCAL_POINT], True),
]


@dataclass(frozen=True)
class DemoUser:
    state: str
    username: str
    roles: list[str]


def ensure_user(
    org: Organisation,
    username: str,
    roles: list[str],
    *,
    two_factor: bool = False,
    password: str = DEMO_PASSWORD,
) -> Any:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"email": f"{username}@{org.code.lower()}.mufakat.invalid"}
    )
    if created:
        user.set_password(password)
        user.save()
    m, _ = Membership.objects.get_or_create(user=user, defaults={"organisation": org})
    m.roles.set(Role.objects.filter(slug__in=roles))
    if two_factor and not m.totp_confirmed:
        m.totp_secret = pyotp.random_base32()
        m.totp_confirmed = True
        m.save()
    return user


def load_demo(console: Console | None = None) -> list[DemoUser]:
    console = console or Console(quiet=True)
    out: list[DemoUser] = []
    members = list(Organisation.objects.filter(kind=OrgKind.MEMBER))
    with Progress(console=console, transient=True) as progress:
        t = progress.add_task("Demo users", total=len(members) + 1)
        with transaction.atomic():
            for org in members:
                for suffix, roles, tfa in MEMBER_USERS:
                    username = f"{org.code.lower()}-{suffix}"
                    ensure_user(org, username, roles, two_factor=tfa)
                    out.append(DemoUser(org.code, username, [str(r) for r in roles]))
                progress.advance(t)
            sg = Organisation.objects.get(code="SG")
            admin = ensure_user(
                sg, "sg-admin", [RoleSlug.ORG_ADMIN, RoleSlug.PLATFORM_ADMIN], two_factor=True
            )
            out.append(
                DemoUser("SG", admin.username, [RoleSlug.ORG_ADMIN, RoleSlug.PLATFORM_ADMIN])
            )
            for partner in Organisation.objects.filter(kind=OrgKind.PARTNER, code__in=["AU", "JP"]):
                username = f"{partner.code.lower()}-analyst"
                ensure_user(partner, username, [RoleSlug.ANALYST])
                out.append(DemoUser(partner.code, username, [RoleSlug.ANALYST]))
            if not SharingGroup.objects.filter(name="Malacca Strait cable watch").exists():
                g = SharingGroup.objects.create(
                    name="Malacca Strait cable watch",
                    description="Littoral states of the Malacca and Singapore Straits.",
                    owner_org=sg,
                )
                g.members.set(Organisation.objects.filter(code__in=["SG", "MY", "ID", "TH"]))
            progress.advance(t)
    for label in settings.MUFAKAT_MODULES:
        cfg = apps.get_app_config(label.rsplit(".", 1)[-1])
        loader = getattr(cfg, "load_demo", None)
        if loader is not None:
            loader(console)
    return out
