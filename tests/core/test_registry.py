"""The module registry: every hook, as the test module (tests/sharedapp) uses it, and the
start-up validation that names the module and the field of a broken spec."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from typer.testing import CliRunner

from mufakat.core import registry
from mufakat.core.models import ObjectPermission, Organisation, Role
from mufakat.core.registry import Grant, Indicator, ModuleSetting, ModuleSpec, NavEntry, RoleSpec
from mufakat.core.sharing import services
from mufakat.core.sharing.testing import make_user
from tests.sharedapp.apps import MODULE
from tests.sharedapp.models import Dossier, Memo, Term

pytestmark = pytest.mark.django_db


@pytest.fixture
def orgs() -> dict[str, Organisation]:
    return {o.code: o for o in Organisation.objects.filter(code__in=["SG", "MY", "VN"])}


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_registry_lists_installed_modules_in_order() -> None:
    assert [m.label for m in registry.modules()] == ["cui", "sharedapp"]


def test_nav_entries_reach_the_shell(orgs: dict[str, Organisation]) -> None:
    page = client_for(make_user("sg-v", orgs["SG"], ["viewer"])).get(reverse("core:home"))
    html = page.content.decode()
    assert f'href="{reverse("sharedapp:list")}"' in html
    assert "Test dossiers" in html  # the entry's description on the home page


def test_map_layers_reach_the_common_map_and_follow_sharing(orgs: dict[str, Organisation]) -> None:
    sg = make_user("sg-f", orgs["SG"], ["focal_point"])
    vn = make_user("vn-a", orgs["VN"], ["analyst"])
    services.guarded_write(sg, Dossier(title="Sea trial", lat=1.2, lon=103.8), "add")
    page = client_for(vn).get(reverse("core:map")).content.decode()
    assert reverse("sharedapp:places") in page
    assert "Dossier places" in page
    mine = client_for(sg).get(reverse("sharedapp:places")).json()
    theirs = client_for(vn).get(reverse("sharedapp:places")).json()
    assert [f["properties"]["name"] for f in mine["features"]] == ["Sea trial"]
    assert theirs["features"] == []


def test_module_roles_and_grants_are_seeded_as_data(orgs: dict[str, Organisation]) -> None:
    clerk_role = Role.objects.get(slug="dossier_clerk")
    assert clerk_role.module == "sharedapp"
    grant = ObjectPermission.objects.get(name="sharedapp: dossier_clerk on sharedapp.dossier #1")
    assert set(grant.actions) == {"view", "add"}
    clerk = make_user("sg-clerk", orgs["SG"], ["dossier_clerk"])
    d = services.guarded_write(clerk, Dossier(title="filed"), "add")
    assert Dossier.objects.restrict(clerk, "view").filter(pk=d.pk).exists()
    assert not Dossier.objects.restrict(clerk, "change").filter(pk=d.pk).exists()
    # A module grants on its own models only: the clerk holds nothing on cui's incidents.
    from mufakat.cui.models import Incident

    assert not Incident.objects.restrict(clerk).exists()
    assert registry.role_actions("sharedapp.dossier")["dossier_clerk"] == {"view", "add"}
    assert registry.role_actions("cui.incident")["dossier_clerk"] == frozenset()


def test_reseeding_keeps_an_operators_edits() -> None:
    perm = ObjectPermission.objects.get(name="sharedapp: dossier_clerk on sharedapp.dossier #1")
    ObjectPermission.objects.filter(pk=perm.pk).update(actions=["view"])
    call_command("migrate", verbosity=0)  # post_migrate seeds again
    assert ObjectPermission.objects.get(pk=perm.pk).actions == ["view"]


def test_module_settings_have_defaults_and_follow_the_environment(
    orgs: dict[str, Organisation], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert registry.setting("MUFAKAT_SHAREDAPP_PAGE_SIZE") == "50"
    owner = make_user("sg-f", orgs["SG"], ["focal_point"])
    for i in range(3):
        services.guarded_write(owner, Dossier(title=f"d{i}"), "add")
    monkeypatch.setenv("MUFAKAT_SHAREDAPP_PAGE_SIZE", "2")
    page = client_for(owner).get(reverse("sharedapp:list")).content.decode()
    assert page.count("data-pk=") == 2
    with pytest.raises(KeyError):
        registry.setting("MUFAKAT_NOBODY_DECLARES_THIS")


def test_demo_loaders_run_from_the_registry() -> None:
    from mufakat.core.tenancy.demo import load_demo

    assert [m.label for m, _f in registry.demo_loaders()] == ["cui", "sharedapp"]
    Term.objects.all().delete()
    loader = {m.label: f for m, f in registry.demo_loaders()}["sharedapp"]
    loader(None)
    loader(None)  # idempotent
    assert list(Term.objects.values_list("name", flat=True)) == ["mufakat"]
    assert callable(load_demo)


def test_indicators_count_only_what_the_reader_may_see(orgs: dict[str, Organisation]) -> None:
    sg = make_user("sg-f", orgs["SG"], ["focal_point"])
    my = make_user("my-f", orgs["MY"], ["focal_point"])
    services.guarded_write(sg, Dossier(title="home only"), "add")
    shared = services.guarded_write(sg, Dossier(title="for ASEAN"), "add")
    services.set_sharing(sg, shared, distribution="asean", tlp="green")
    ind = next(i for m, i in registry.indicators() if i.slug == "sharedapp_dossiers")
    today = timezone.now().date()
    week = (today - timedelta(days=7), today)
    assert registry.compute_indicator(ind, sg, *week).value == 2
    assert registry.compute_indicator(ind, my, *week).value == 1
    assert registry.compute_indicator(ind, my, date(2000, 1, 1), date(2000, 12, 31)).records == 0
    # cui's indicators are computed from its own data the same way.
    cui = {i.slug for m, i in registry.indicators() if m.label == "cui"}
    assert {"cui_incidents_reported", "cui_incidents_shared"} <= cui


def test_search_providers_search_only_what_the_reader_may_see(
    orgs: dict[str, Organisation],
) -> None:
    sg = make_user("sg-f", orgs["SG"], ["focal_point"])
    vn = make_user("vn-a", orgs["VN"], ["analyst"])
    services.guarded_write(sg, Dossier(title="Kraken sighting"), "add")
    by_sg = {p.slug: hits for p, hits in registry.search(sg, "kraken")}
    by_vn = {p.slug: hits for p, hits in registry.search(vn, "kraken")}
    assert [h.title for h in by_sg["dossiers"]] == ["Kraken sighting"]
    assert by_vn["dossiers"] == []
    page = client_for(sg).get(reverse("core:search"), {"q": "kraken"}).content.decode()
    assert "Kraken sighting" in page
    assert 'data-provider="dossiers"' in page
    hidden = client_for(vn).get(reverse("core:search"), {"q": "kraken"}).content.decode()
    assert "Kraken sighting" not in hidden
    assert "Nothing you may see matches" in hidden


def test_cli_groups_are_mounted_from_the_registry() -> None:
    from mufakat import cli

    cli._register_module_commands()
    result = CliRunner().invoke(cli.app, ["sharedapp", "hello"])
    assert result.exit_code == 0, result.output
    assert "hello from the test module" in result.output


def test_api_routers_and_urls_are_mounted_at_their_prefixes(orgs: dict[str, Organisation]) -> None:
    # url_prefix "dossiers" is declared; the API prefix defaults to the label.
    assert reverse("sharedapp:list") == "/dossiers/"
    c = client_for(make_user("sg-v", orgs["SG"], ["viewer"]))
    assert c.get("/api/sharedapp/dossiers").status_code == 200
    schema = c.get("/api/openapi.json").json()
    assert "/api/sharedapp/dossiers" in schema["paths"]


def test_private_records_stay_in_their_organisation(orgs: dict[str, Organisation]) -> None:
    sg = make_user("sg-a", orgs["SG"], ["analyst"])
    sg_viewer = make_user("sg-v", orgs["SG"], ["viewer"])
    sg_nobody = make_user("sg-n", orgs["SG"], [])
    my = make_user("my-f", orgs["MY"], ["focal_point"])
    mine = Memo.objects.create(title="our notes", owner_org=orgs["SG"], created_by=sg)
    ref = Memo.objects.create(title="platform notes")  # no owner: reference row
    assert set(Memo.objects.restrict(sg)) == {mine, ref}
    assert set(Memo.objects.restrict(sg_viewer)) == {mine, ref}
    assert set(Memo.objects.restrict(sg_nobody)) == {ref}  # own rows need the view grant
    assert set(Memo.objects.restrict(my)) == {ref}
    assert set(Memo.objects.restrict(AnonymousUser())) == set()
    assert set(Memo.objects.restrict(sg, "change")) == {mine}  # reference rows are read-only
    assert set(Memo.objects.restrict(sg_viewer, "change")) == set()
    assert set(Memo.objects.restrict(my, "delete")) == set()
    # The Python form agrees with the query, row by row.
    for user in (sg, sg_viewer, sg_nobody, my, AnonymousUser()):
        for memo in (mine, ref):
            assert memo.visible_to(user) == Memo.objects.restrict(user).filter(pk=memo.pk).exists()


def test_reference_data_is_read_by_every_signed_in_user(orgs: dict[str, Organisation]) -> None:
    term = Term.objects.create(name="littoral")
    nobody = make_user("no-org", None)
    assert term in Term.objects.restrict(nobody)
    assert term in Term.objects.restrict(make_user("vn-v", orgs["VN"], ["viewer"]))
    assert not Term.objects.restrict(AnonymousUser()).exists()
    assert not Term.objects.restrict(make_user("sg-f", orgs["SG"], ["focal_point"]), "change")


# Validation: each broken spec stops start-up with the module and the field named.


def _broken(**changes: Any) -> ModuleSpec:
    return dataclasses.replace(MODULE, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"grants": (Grant("nobody", "sharedapp.Dossier", ("view",)),)}, "unknown role 'nobody'"),
        (
            {"grants": (Grant("viewer", "cui.Incident", ("view",)),)},
            "a module grants actions on its own models only",
        ),
        ({"grants": (Grant("viewer", "sharedapp.Dossier", ("fly",)),)}, "unknown actions ['fly']"),
        ({"roles": (RoleSpec("viewer", "again"),)}, "role 'viewer' is already declared"),
        ({"roles": (RoleSpec("Bad Slug", "x"),)}, "is not a lower-case slug"),
        ({"settings": (ModuleSetting("MUFAKAT_OTHER_X", "1", "x"),)}, "must start with"),
        ({"settings": (ModuleSetting("MUFAKAT_SHAREDAPP_ENV", "1", "x"),) * 2}, "declared twice"),
        ({"demo": "tests.sharedapp.demo.load_demo"}, "demo: 'tests.sharedapp.demo.load_demo'"),
        ({"cli": "no colon"}, "cli: 'no colon'"),
        ({"nav": ({"label": "x"},)}, "nav holds a dict, not a NavEntry"),
        ({"nav": [NavEntry("x", "sharedapp:list")]}, "nav must be a tuple"),
        ({"map_layers": ({"name": "x"},)}, "map_layers holds a dict, not a LayerSpec"),
        ({"map_layers": "no colon"}, "map_layers: 'no colon' is not 'package.module:attribute'"),
        ({"url_prefix": "cui"}, "URL prefix 'cui' is taken by cui"),
        (
            {"indicators": (Indicator("x", "x", 4, "n", "a.b:c"),)},  # type: ignore[arg-type]
            "area must be 1, 2 or 3",
        ),
    ],
)
def test_a_broken_spec_names_module_and_field(
    changes: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = _broken(**changes)
    real = registry.modules()
    monkeypatch.setattr(
        registry, "modules", lambda: tuple(broken if m.label == "sharedapp" else m for m in real)
    )
    with pytest.raises(ImproperlyConfigured) as err:
        registry.validate()
    assert str(err.value).startswith("module 'sharedapp': ")
    assert message in str(err.value)


def test_every_hook_is_used_by_the_test_module() -> None:
    """So each hook above is exercised: a new hook without a use here fails."""
    unused = [
        name
        for name in registry.field_names()
        if getattr(MODULE, name) in (None, (), "")
        and name not in {"cli_name", "api_prefix"}  # defaults exercised (label)
    ]
    assert unused == [], unused
    assert json.loads(json.dumps([str(e.label) for e in MODULE.nav])) == ["Dossiers"]
