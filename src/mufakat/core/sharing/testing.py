# ruff: noqa: S101  (a test helper: its asserts are the checks)
"""Reusable security tests for shared record types, and the written sharing rules as plain Python.

A module proves its records obey the platform rule by subclassing `SharedRecordContract` in its
tests and filling in the hooks (see docs/security.md, "Testing a new record type"):

    class TestReportAccess(SharedRecordContract):
        model = Report
        def record_fields(self): return {"title": "t"}
        def detail_url(self, obj): return reverse("reports:detail", args=[obj.pk])
        def list_url(self): return reverse("reports:list")
        def api_detail_url(self, obj): return f"/api/reports/reports/{obj.pk}"
        def api_list_url(self): return "/api/reports/reports"

The contract then checks every path (UI detail and list, API detail and list, restrict(), and the
optional export and search hooks) for anonymous callers, users without organisation or role, the
owner state, other member states, partners, named organisations, sharing-group members, every
distribution level crossed with every TLP marking, and AI output before and after approval.

`may_view` is written from the rules table in docs/security.md and shares no code with
querysets.sharing_q, so it can catch a mistake there.
"""

from __future__ import annotations

import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client

from mufakat.core import registry
from mufakat.core.models import Membership, Organisation, SharedRecord, SharingGroup
from mufakat.core.sharing.queries import visible
from mufakat.core.tenancy.factory import ensure_user

DISTRIBUTIONS = ("org", "named", "group", "asean", "asean_plus", "public")
TLPS = ("clear", "green", "amber", "amber_strict", "red")


# The oracle reads the modules' declarations (core.registry), the same source the grants in the
# database are seeded from: restrict() is checked against what the module says, not against a
# second hand-written copy of it.
def red_roles() -> frozenset[str]:
    """Roles that carry the individual-recipient clearance TLP:RED asks for."""
    return frozenset(slug for slug, r in registry.roles().items() if r.tlp_red)


def role_actions(model: type[Any] | str) -> dict[str, frozenset[str]]:
    """Each role's declared actions on `model` (docs/security.md, "Who can do what")."""
    label = model if isinstance(model, str) else model._meta.label_lower
    return registry.role_actions(label)


@dataclass(frozen=True)
class ActorFacts:
    """What the rules need to know about a reader, for one record type."""

    authenticated: bool
    org: str | None = None
    kind: str | None = None
    roles: frozenset[str] = frozenset()
    grants: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def holds(self, action: str) -> bool:
        return any(action in self.grants.get(r, frozenset()) for r in self.roles)


@dataclass(frozen=True)
class RecordFacts:
    """What the rules need to know about a record."""

    owner: str
    distribution: str
    tlp: str
    named: frozenset[str] = frozenset()
    group: frozenset[str] = frozenset()
    ai_generated: bool = False
    ai_approved: bool = False


def may_view(actor: ActorFacts, rec: RecordFacts, action: str = "view") -> bool:
    """The written rule: the owner state sees its own records; anyone else needs the distribution
    to reach them AND the marking to allow them AND, for AI output, a person's approval."""
    released = not rec.ai_generated or rec.ai_approved
    if not actor.authenticated:
        return action == "view" and rec.distribution == "public" and rec.tlp == "clear" and released
    if actor.org is None or not actor.holds(action):
        return False
    if actor.org == rec.owner:
        return True
    if not released:
        return False
    named = actor.org in rec.named
    in_group = actor.org in rec.group
    reach = {
        "org": False,
        "named": named,
        "group": in_group,
        "asean": actor.kind == "member",
        "asean_plus": actor.kind in {"member", "partner", "secretariat"},
        "public": True,
    }[rec.distribution]
    allowed_by_marking = {
        "clear": True,
        "green": True,
        "amber": named or in_group,
        "amber_strict": named,
        "red": named and bool(actor.roles & red_roles()),
    }[rec.tlp]
    return reach and allowed_by_marking


def may_act(actor: ActorFacts, rec: RecordFacts, action: str) -> bool:
    """Every action other than view and export stays inside the owner state."""
    if action in {"view", "export"}:
        return may_view(actor, rec, action)
    return actor.authenticated and actor.org == rec.owner and actor.holds(action)


def make_user(username: str, org: Organisation | None, roles: Iterable[str] = ()) -> Any:
    """A user in `org` with `roles`; holders of two-factor roles get a confirmed second factor."""
    return ensure_user(username, org, roles, email=f"{username}@test.invalid")


def actor_facts(user: Any, model: type[Any] | str) -> ActorFacts:
    if not getattr(user, "is_authenticated", False):
        return ActorFacts(authenticated=False)
    m = Membership.objects.filter(user=user).select_related("organisation").first()
    if m is None:
        return ActorFacts(authenticated=True)
    return ActorFacts(
        authenticated=True,
        org=m.organisation.code,
        kind=m.organisation.kind,
        roles=frozenset(m.roles.values_list("slug", flat=True)),
        grants=role_actions(model),
    )


def record_facts(obj: SharedRecord) -> RecordFacts:
    group = obj.sharing_group
    return RecordFacts(
        owner=obj.owner_org.code,
        distribution=obj.distribution,
        tlp=obj.tlp,
        named=frozenset(obj.shared_with.values_list("code", flat=True)),
        group=frozenset(group.members.values_list("code", flat=True)) if group else frozenset(),
        ai_generated=obj.ai_generated,
        ai_approved=obj.ai_approved_at is not None,
    )


# The cast of the contract: who reads, from where, with which roles.
ACTORS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "anonymous": (None, ()),
    "no_organisation": (None, ("viewer",)),
    "owner_no_role": ("SG", ()),
    "owner_viewer": ("SG", ("viewer",)),
    "owner_focal": ("SG", ("focal_point",)),
    "named_viewer": ("MY", ("viewer",)),
    "named_focal": ("MY", ("focal_point",)),
    "group_analyst": ("TH", ("analyst",)),
    "other_member": ("VN", ("analyst",)),
    "named_partner": ("AU", ("viewer",)),
    "partner": ("JP", ("analyst",)),
}
NAMED = ("MY", "AU")
GROUP = ("SG", "TH")


@dataclass
class World:
    orgs: dict[str, Organisation]
    group: SharingGroup
    users: dict[str, Any] = field(default_factory=dict)


_PK = re.compile(r'data-pk="(\d+)"')


class SharedRecordContract(ABC):
    """Subclass in a module's tests; set `model` and the URL hooks. See the module docstring."""

    model: ClassVar[type[SharedRecord]]
    # Whether anonymous callers reach the pages/endpoints at all (else they must get 302/401).
    anonymous_ui: ClassVar[bool] = True
    anonymous_api: ClassVar[bool] = True

    # Hooks -----------------------------------------------------------------------------------

    def record_fields(self) -> dict[str, Any]:
        """Values for the model's own required fields."""
        return {}

    def make_record(self, owner: Organisation, creator: Any, **sharing: Any) -> SharedRecord:
        """Store a record with the given sharing fields (not validated: invalid distribution and
        marking pairs are stored too, to prove the marking still caps what the distribution says)."""
        named = sharing.pop("shared_with", ())
        obj = self.model._default_manager.create(
            owner_org=owner, created_by=creator, **self.record_fields(), **sharing
        )
        obj.shared_with.set(named)
        return obj

    @abstractmethod
    def detail_url(self, obj: SharedRecord) -> str:
        """URL of the record's page."""

    @abstractmethod
    def list_url(self) -> str:
        """URL of the record type's list page."""

    @abstractmethod
    def api_detail_url(self, obj: SharedRecord) -> str:
        """API URL of one record."""

    @abstractmethod
    def api_list_url(self) -> str:
        """API URL of the record type's list."""

    def export_ids(self, user: Any) -> set[int] | None:
        """Ids of the records an export by `user` contains; None if the module has no export."""
        return None

    def search_ids(self, user: Any) -> set[int] | None:
        """Ids a search by `user` for everything returns; None if the module has no search."""
        return None

    def ids_in_page(self, html: str) -> set[int]:
        """Record ids on a list page; by convention each row carries data-pk="<id>"."""
        return {int(x) for x in _PK.findall(html)}

    def ids_in_json(self, data: Any) -> set[int]:
        items = data.get("items", data) if isinstance(data, dict) else data
        return {int(item["id"]) for item in items}

    # Fixtures --------------------------------------------------------------------------------

    @pytest.fixture
    def world(self, db: None) -> World:
        orgs = {
            o.code: o
            for o in Organisation.objects.filter(code__in=["SG", "MY", "TH", "VN", "AU", "JP"])
        }
        group = SharingGroup.objects.create(name="contract group", owner_org=orgs["SG"])
        group.members.set([orgs[c] for c in GROUP])
        w = World(orgs=orgs, group=group)
        for name, (code, roles) in ACTORS.items():
            if name == "anonymous":
                w.users[name] = AnonymousUser()
            else:
                w.users[name] = make_user(f"c-{name}", orgs[code] if code else None, roles)
        return w

    def matrix(self, w: World) -> list[SharedRecord]:
        """One record per distribution x marking, plus AI output and another state's own record."""
        owner, creator = w.orgs["SG"], w.users["owner_focal"]
        named = [w.orgs[c] for c in NAMED]
        records = [
            self.make_record(
                owner, creator, distribution=d, tlp=t, shared_with=named, sharing_group=w.group
            )
            for d, t in itertools.product(DISTRIBUTIONS, TLPS)
        ]
        for d, t in (("asean", "green"), ("named", "amber"), ("public", "clear")):
            records.append(
                self.make_record(
                    owner, creator, distribution=d, tlp=t, shared_with=named, ai_generated=True
                )
            )
        records.append(
            self.make_record(w.orgs["MY"], w.users["named_focal"], distribution="org", tlp="amber")
        )
        return records

    # The contract ----------------------------------------------------------------------------

    def _client(self, user: Any) -> Client:
        c = Client()
        if getattr(user, "is_authenticated", False):
            c.force_login(user)
        return c

    @pytest.mark.parametrize("actor", list(ACTORS))
    def test_every_path_follows_the_rules(self, world: World, actor: str) -> None:
        records = self.matrix(world)
        user = world.users[actor]
        facts = actor_facts(user, self.model)
        expected = {r.pk for r in records if may_view(facts, record_facts(r))}
        anonymous = not facts.authenticated
        assert set(visible(self.model, user).values_list("pk", flat=True)) == expected
        client = self._client(user)

        page = client.get(self.list_url())
        if anonymous and not self.anonymous_ui:
            assert page.status_code == 302
        else:
            assert page.status_code == 200
            assert self.ids_in_page(page.content.decode()) == expected
        listing = client.get(self.api_list_url())
        if anonymous and not self.anonymous_api:
            assert listing.status_code == 401
        else:
            assert listing.status_code == 200
            assert self.ids_in_json(listing.json()) == expected

        for r in records:
            ui = client.get(self.detail_url(r))
            api = client.get(self.api_detail_url(r))
            label = f"{actor} {r.distribution}/{r.tlp} ai={r.ai_generated} owner={r.owner_org.code}"
            if anonymous and not self.anonymous_ui:
                assert ui.status_code == 302, label
            else:
                assert ui.status_code == (200 if r.pk in expected else 404), label
            if anonymous and not self.anonymous_api:
                assert api.status_code == 401, label
            else:
                assert api.status_code == (200 if r.pk in expected else 404), label

        exported = self.export_ids(user)
        if exported is not None:
            assert exported == {r.pk for r in records if may_view(facts, record_facts(r), "export")}
        found = self.search_ids(user)
        if found is not None:
            assert found == expected

    def test_forbidden_looks_like_missing(self, world: World) -> None:
        secret = self.make_record(
            world.orgs["SG"], world.users["owner_focal"], distribution="org", tlp="red"
        )
        missing_pk = (
            self.model._default_manager.order_by("-pk").values_list("pk", flat=True)[0] + 1000
        )
        ghost = self.model(pk=missing_pk)  # type: ignore[misc,unused-ignore]
        client = self._client(world.users["other_member"])
        for url_of in (self.detail_url, self.api_detail_url):
            forbidden = client.get(url_of(secret))
            missing = client.get(url_of(ghost))
            assert forbidden.status_code == missing.status_code == 404
            # Only the address differs; nothing in the body tells a hidden record from no record.
            assert forbidden.content.decode().replace(url_of(secret), "URL") == (
                missing.content.decode().replace(url_of(ghost), "URL")
            )

    def test_ai_output_stays_home_until_approved(self, world: World) -> None:
        from mufakat.core.sharing import services

        rec = self.make_record(
            world.orgs["SG"],
            world.users["owner_focal"],
            distribution="asean_plus",
            tlp="green",
            ai_generated=True,
        )
        services.record_provenance(
            rec,
            generator="test-generator",
            template_version="v1",
            inputs={"q": "x"},
            requested_by=world.users["owner_viewer"],
        )
        outsider = self._client(world.users["partner"])
        owner = self._client(world.users["owner_viewer"])
        assert outsider.get(self.detail_url(rec)).status_code == 404
        assert outsider.get(self.api_detail_url(rec)).status_code == 404
        page = owner.get(self.detail_url(rec))
        assert "AI-generated — awaiting approval" in page.content.decode()
        # A viewer may not approve; the focal point may.
        with pytest.raises(PermissionDenied):
            services.approve_ai_output(world.users["owner_viewer"], rec)
        services.approve_ai_output(world.users["owner_focal"], rec)
        assert outsider.get(self.detail_url(rec)).status_code == 200
        assert outsider.get(self.api_detail_url(rec)).status_code == 200
        shown = owner.get(self.detail_url(rec)).content.decode()
        assert "approved by c-owner_focal" in shown
        assert "test-generator" in shown

    @pytest.mark.parametrize("action", ["change", "delete", "share", "approve", "export"])
    def test_other_actions_follow_the_rules(self, world: World, action: str) -> None:
        records = self.matrix(world)
        for name, user in world.users.items():
            facts = actor_facts(user, self.model)
            got = set(visible(self.model, user, action).values_list("pk", flat=True))
            want = {r.pk for r in records if may_act(facts, record_facts(r), action)}
            assert got == want, f"{name} {action}"

    def test_rules_table_cells(self, world: World) -> None:
        """Hand-checked cells of the rules table, so the oracle itself is held to the docs."""
        u = world.users
        sg, my = world.orgs["SG"], world.orgs["MY"]
        named = [my, world.orgs["AU"]]

        def sees(user: Any, **sharing: Any) -> bool:
            r = self.make_record(
                sg, u["owner_focal"], shared_with=named, sharing_group=world.group, **sharing
            )
            return bool(visible(self.model, user).filter(pk=r.pk).exists())

        assert sees(u["named_focal"], distribution="named", tlp="red")
        assert not sees(u["named_viewer"], distribution="named", tlp="red")
        assert not sees(u["named_partner"], distribution="named", tlp="red")
        assert sees(u["named_partner"], distribution="named", tlp="amber_strict")
        assert not sees(u["group_analyst"], distribution="group", tlp="amber_strict")
        assert sees(u["group_analyst"], distribution="group", tlp="amber")
        assert not sees(u["other_member"], distribution="group", tlp="amber")
        assert sees(u["other_member"], distribution="asean", tlp="green")
        assert not sees(u["partner"], distribution="asean", tlp="green")
        assert sees(u["partner"], distribution="asean_plus", tlp="green")
        assert not sees(u["partner"], distribution="asean_plus", tlp="amber")
        assert sees(u["anonymous"], distribution="public", tlp="clear")
        assert not sees(u["anonymous"], distribution="public", tlp="green")
        assert not sees(u["owner_no_role"], distribution="public", tlp="clear")
        assert not sees(u["no_organisation"], distribution="public", tlp="clear")
        assert sees(u["owner_viewer"], distribution="org", tlp="red")
        assert not sees(u["named_focal"], distribution="org", tlp="clear")
