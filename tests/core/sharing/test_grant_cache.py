"""Grants are cached across requests (core.sharing.grantcache), yet every change to a grant,
a role, a membership or a group takes effect on the very next request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mufakat.core.accounts.auth import issue_token
from mufakat.core.choices import Distribution
from mufakat.core.models import Membership, ObjectPermission, Organisation, Role
from mufakat.core.tenancy.demo import ensure_user
from tests.sharedapp.models import Dossier

pytestmark = pytest.mark.django_db

LIST = "/api/sharedapp/dossiers"


@pytest.fixture
def sg() -> Organisation:
    return Organisation.objects.get(code="SG")


@pytest.fixture
def dossier(sg: Organisation) -> Dossier:
    return Dossier.objects.create(title="own", owner_org=sg, distribution=Distribution.ORGANISATION)


def token_client(user: Any) -> Client:
    _token, raw = issue_token(user, "cache test")
    return Client(headers={"authorization": f"Bearer {raw}"})


def ids(c: Client) -> list[int]:
    r = c.get(LIST)
    assert r.status_code == 200
    return [d["id"] for d in r.json()]


def direct_grant(user: Any) -> ObjectPermission:
    perm = ObjectPermission.objects.create(name=f"direct {user.pk}", actions=["view"])
    perm.object_types.add(ContentType.objects.get_for_model(Dossier))
    perm.users.add(user)
    return perm


def test_a_repeated_request_reads_no_grant_tables(sg: Organisation, dossier: Dossier) -> None:
    c = token_client(ensure_user(sg, "sg-cached", ["viewer"]))
    assert ids(c) == [dossier.pk]
    with CaptureQueriesContext(connection) as queries:
        assert ids(c) == [dossier.pk]
    sqls = [q["sql"] for q in queries.captured_queries]
    tables = " ".join(sqls)
    for table in ("core_objectpermission", "core_role", "auth_user_groups"):
        assert table not in tables, table
    # The token with its user, membership and organisation; the stamp; the page.
    assert len(sqls) == 3, sqls
    assert "core_membership" in sqls[0]
    assert "core_accessversion" in sqls[1]


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda p, u: p.users.remove(u), id="user removed from the grant"),
        pytest.param(lambda p, u: p.object_types.clear(), id="object type removed"),
        pytest.param(lambda p, u: ObjectPermission.objects.filter(pk=p.pk).delete(), id="deleted"),
        pytest.param(
            lambda p, u: (setattr(p, "enabled", False), p.save()),
            id="disabled",
        ),
        pytest.param(
            lambda p, u: (setattr(p, "actions", ["add"]), p.save()),
            id="view action withdrawn",
        ),
    ],
)
def test_a_revoked_grant_takes_effect_on_the_next_request(
    sg: Organisation, dossier: Dossier, revoke: Callable[[ObjectPermission, Any], Any]
) -> None:
    user = ensure_user(sg, "sg-direct", [])
    perm = direct_grant(user)
    c = token_client(user)
    assert ids(c) == [dossier.pk]
    assert ids(c) == [dossier.pk]  # now served from the cache
    revoke(perm, user)
    assert ids(c) == []


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda m, r: m.roles.remove(r), id="role removed from the membership"),
        pytest.param(lambda m, r: m.roles.clear(), id="roles cleared"),
        pytest.param(lambda m, r: r.permissions.clear(), id="grants taken off the role"),
        pytest.param(lambda m, r: Membership.objects.filter(pk=m.pk).delete(), id="membership"),
    ],
)
def test_a_revoked_membership_or_role_takes_effect_on_the_next_request(
    sg: Organisation, dossier: Dossier, revoke: Callable[[Membership, Role], Any]
) -> None:
    user = ensure_user(sg, "sg-member", ["viewer"])
    c = Client()
    c.force_login(user)  # the session path
    assert ids(c) == [dossier.pk]
    assert ids(c) == [dossier.pk]
    revoke(Membership.objects.get(user=user), Role.objects.get(slug="viewer"))
    assert ids(c) == []


def test_a_granted_role_takes_effect_on_the_next_request(
    sg: Organisation, dossier: Dossier
) -> None:
    user = ensure_user(sg, "sg-late", [])
    c = token_client(user)
    assert ids(c) == []
    assert ids(c) == []
    Membership.objects.get(user=user).roles.add(Role.objects.get(slug="viewer"))
    assert ids(c) == [dossier.pk]


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda g, u: u.groups.remove(g), id="user leaves the group"),
        pytest.param(lambda g, u: g.user_set.clear(), id="group emptied"),
        pytest.param(lambda g, u: g.delete(), id="group deleted"),
    ],
)
def test_a_group_change_takes_effect_on_the_next_request(
    sg: Organisation, dossier: Dossier, revoke: Callable[[Group, Any], Any]
) -> None:
    user = ensure_user(sg, "sg-grouped", [])
    group = Group.objects.create(name="dossier readers")
    perm = ObjectPermission.objects.create(name="via group", actions=["view"])
    perm.object_types.add(ContentType.objects.get_for_model(Dossier))
    perm.groups.add(group)
    user.groups.add(group)
    c = token_client(user)
    assert ids(c) == [dossier.pk]
    assert ids(c) == [dossier.pk]
    revoke(group, user)
    assert ids(c) == []


def test_a_move_to_another_organisation_takes_effect_on_the_next_request(
    sg: Organisation, dossier: Dossier
) -> None:
    user = ensure_user(sg, "sg-mover", ["viewer"])
    c = token_client(user)
    assert ids(c) == [dossier.pk]
    Membership.objects.filter(user=user).update(organisation=Organisation.objects.get(code="VN"))
    assert ids(c) == []  # the organisation is read with the user on every request, never cached
