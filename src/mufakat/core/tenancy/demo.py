"""Demo data: users for every member state and partner, a sharing group, plus each module's demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from rich.console import Console
from rich.progress import Progress

from mufakat.core import registry
from mufakat.core.choices import OrgKind, RoleSlug
from mufakat.core.models import Organisation
from mufakat.core.tenancy import factory

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
    """A demo account (the platform's one user factory, with the demo password)."""
    return factory.ensure_user(username, org, roles, password=password, two_factor=two_factor)


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
            progress.advance(t)
    for _spec, loader in registry.demo_loaders():
        loader(console)
    return out
