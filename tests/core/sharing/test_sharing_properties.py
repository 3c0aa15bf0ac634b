"""Property tests: for random organisations, groups, users, roles and records, every read path
returns exactly the set the written rules allow (no leak, no false denial).

The expected set comes from mufakat.core.sharing.testing.may_view, a plain-Python transcription of the
rules table in docs/security.md that shares no code with the ORM predicate it checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mufakat.core.models import Organisation, SharingGroup
from mufakat.core.sharing.testing import (
    DISTRIBUTIONS,
    TLPS,
    ActorFacts,
    RecordFacts,
    make_user,
    may_view,
    role_actions,
)
from tests.sharedapp.models import Dossier
from tests.sharedapp.queries import export_csv, search

# A mix of member states and partners, so every distribution level has someone on each side.
CODES = ["SG", "MY", "TH", "VN", "AU", "JP", "US"]


@dataclass(frozen=True)
class UserSpec:
    org: int | None  # index into the world's organisations; None = no membership
    roles: frozenset[str]
    anonymous: bool = False


@dataclass(frozen=True)
class RecordSpec:
    owner: int
    distribution: str
    tlp: str
    named: frozenset[int]
    group: int | None
    ai_generated: bool
    ai_approved: bool


@st.composite
def worlds(draw: Any) -> tuple[list[str], list[frozenset[int]], list[UserSpec], list[RecordSpec]]:
    codes = draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=5, unique=True))
    idx = st.integers(0, len(codes) - 1)
    groups = draw(st.lists(st.frozensets(idx, max_size=len(codes)), max_size=3))
    users = draw(
        st.lists(
            st.one_of(
                st.builds(
                    UserSpec,
                    org=st.none() | idx,
                    roles=st.frozensets(st.sampled_from(sorted(role_actions(Dossier)))),
                ),
                st.just(UserSpec(org=None, roles=frozenset(), anonymous=True)),
            ),
            min_size=1,
            max_size=4,
        )
    )
    group_idx = st.none() | st.integers(0, len(groups) - 1) if groups else st.none()
    records = draw(
        st.lists(
            st.builds(
                RecordSpec,
                owner=idx,
                distribution=st.sampled_from(DISTRIBUTIONS),
                tlp=st.sampled_from(TLPS),
                named=st.frozensets(idx, max_size=len(codes)),
                group=group_idx,
                ai_generated=st.booleans(),
                ai_approved=st.booleans(),
            ),
            max_size=8,
        )
    )
    return codes, groups, users, records


class RollbackWorldError(Exception):
    """Raised to undo one generated world."""


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds())
def test_every_read_path_returns_exactly_what_the_rules_allow(world: Any) -> None:
    codes, group_specs, user_specs, record_specs = world
    orgs = {o.code: o for o in Organisation.objects.filter(code__in=codes)}
    org_list = [orgs[c] for c in codes]
    kinds = [o.kind for o in org_list]
    try:
        with transaction.atomic():
            groups = []
            for i, members in enumerate(group_specs):
                g = SharingGroup.objects.create(name=f"g{i}", owner_org=org_list[0])
                g.members.set([org_list[m] for m in members])
                groups.append(g)
            stored: list[tuple[int, RecordFacts]] = []
            for r in record_specs:
                d = Dossier.objects.create(
                    title="harbour",
                    owner_org=org_list[r.owner],
                    distribution=r.distribution,
                    tlp=r.tlp,
                    sharing_group=groups[r.group] if r.group is not None else None,
                    ai_generated=r.ai_generated,
                    ai_approved_at=timezone.now() if r.ai_approved else None,
                )
                d.shared_with.set([org_list[n] for n in r.named])
                facts = RecordFacts(
                    owner=codes[r.owner],
                    distribution=r.distribution,
                    tlp=r.tlp,
                    named=frozenset(codes[n] for n in r.named),
                    group=frozenset(codes[m] for m in group_specs[r.group])
                    if r.group is not None
                    else frozenset(),
                    ai_generated=r.ai_generated,
                    ai_approved=r.ai_approved,
                )
                stored.append((d.pk, facts))
            for n, u in enumerate(user_specs):
                if u.anonymous:
                    user: Any = AnonymousUser()
                    actor = ActorFacts(authenticated=False)
                else:
                    org = org_list[u.org] if u.org is not None else None
                    user = make_user(f"p{n}", org, u.roles)
                    actor = ActorFacts(
                        authenticated=True,
                        org=codes[u.org] if u.org is not None else None,
                        kind=kinds[u.org] if u.org is not None else None,
                        roles=u.roles if u.org is not None else frozenset(),
                        grants=role_actions(Dossier),
                    )
                _check_user(user, actor, stored)
            raise RollbackWorldError
    except RollbackWorldError:
        pass


def _check_user(user: Any, actor: ActorFacts, stored: list[tuple[int, RecordFacts]]) -> None:
    expected = {pk for pk, facts in stored if may_view(actor, facts)}
    exportable = {pk for pk, facts in stored if may_view(actor, facts, "export")}
    assert set(Dossier.objects.restrict(user, "view").values_list("pk", flat=True)) == expected
    client = Client()
    if actor.authenticated:
        client.force_login(user)
    page = client.get(reverse("sharedapp:list"))
    assert page.status_code == 200
    ui = {int(x) for x in re.findall(r'data-pk="(\d+)"', page.content.decode())}
    assert ui == expected
    api = client.get("/api/sharedapp/dossiers")
    assert api.status_code == 200
    assert {item["id"] for item in api.json()} == expected
    assert set(search(user, "harbour")) == expected
    assert {
        item["id"] for item in client.get("/api/sharedapp/dossiers?q=harbour").json()
    } == expected
    if actor.authenticated:
        rows = export_csv(user).splitlines()[1:]
        assert {int(line.split(",", 1)[0]) for line in rows} == exportable
