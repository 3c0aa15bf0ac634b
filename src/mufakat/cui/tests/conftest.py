from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from mufakat.core.choices import RoleSlug
from mufakat.core.models import Organisation
from mufakat.core.tenancy.demo import ensure_user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def _shipped_assets(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Import the shipped subset once per session (tests roll back around it, never under it)."""
    from mufakat.cui import importers

    with django_db_blocker.unblock():
        importers.import_cables(importers.shipped_cables_dir())
        importers.import_pipelines(importers.shipped_pipelines())


@pytest.fixture
def assets(_shipped_assets: None, db: Any) -> None:
    from mufakat.cui import importers
    from mufakat.cui.models import Asset

    if not Asset.objects.exists():  # a transactional test flushed the tables
        importers.import_cables(importers.shipped_cables_dir())
        importers.import_pipelines(importers.shipped_pipelines())


def _user(code: str, name: str, roles: list[str]) -> Any:
    return ensure_user(
        Organisation.objects.get(code=code),
        name,
        roles,
        password="cui-test-password-1",
        two_factor=RoleSlug.FOCAL_POINT in roles,  # focal points must have a second factor
    )


@pytest.fixture
def focal_point(db: Any) -> Callable[[str], Any]:
    """Makes a focal point (with a second factor) of the given state: t-<cc>-fp."""
    return lambda code: _user(code, f"t-{code.lower()}-fp", [RoleSlug.FOCAL_POINT])


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    """Reporter in SG; focal points in SG, MY, ID, PH and (far from the Straits) KH; a viewer in VN."""
    return {
        "sg_reporter": _user("SG", "t-sg-rep", [RoleSlug.ANALYST, RoleSlug.REPORTER]),
        "sg_focal": _user("SG", "t-sg-fp", [RoleSlug.FOCAL_POINT]),
        "my_focal": _user("MY", "t-my-fp", [RoleSlug.FOCAL_POINT]),
        "id_focal": _user("ID", "t-id-fp", [RoleSlug.FOCAL_POINT]),
        "ph_focal": _user("PH", "t-ph-fp", [RoleSlug.FOCAL_POINT]),
        "vn_viewer": _user("VN", "t-vn-view", [RoleSlug.VIEWER]),
        "vn_analyst": _user("VN", "t-vn-an", [RoleSlug.ANALYST]),
        "au_analyst": _user("AU", "t-au-an", [RoleSlug.ANALYST]),
    }


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
