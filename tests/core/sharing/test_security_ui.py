"""The generic security pages: share panel, AI label and approval, organisation members."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from mufakat.core.models import AuditEntry, Membership, ObjectPermission, Organisation, Role
from mufakat.core.sharing import services
from mufakat.core.sharing.testing import make_user
from tests.sharedapp.models import Dossier

pytestmark = pytest.mark.django_db


@pytest.fixture
def orgs() -> dict[str, Organisation]:
    return {o.code: o for o in Organisation.objects.filter(code__in=["SG", "MY", "TH"])}


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def share_url(d: Dossier) -> str:
    return reverse("core:share", args=["sharedapp", "dossier", d.pk])


def test_focal_point_shares_through_the_htmx_panel(orgs: dict[str, Organisation]) -> None:
    focal = make_user("sg-f", orgs["SG"], ["focal_point"])
    d = services.guarded_write(focal, Dossier(title="Anchorage"), "add")
    c = client_for(focal)
    detail = c.get(reverse("sharedapp:detail", args=[d.pk])).content.decode()
    assert share_url(d) in detail
    assert "Save sharing" in detail
    resp = c.post(
        share_url(d),
        {"distribution": "named", "tlp": "amber_strict", "shared_with": [orgs["MY"].pk]},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    assert "<html" not in resp.content.decode()
    d.refresh_from_db()
    assert (d.distribution, d.tlp) == ("named", "amber_strict")
    assert list(d.shared_with.values_list("code", flat=True)) == ["MY"]
    assert AuditEntry.objects.filter(action="share", object_id=str(d.pk)).exists()


def test_marking_caps_distribution_with_a_clear_message(orgs: dict[str, Organisation]) -> None:
    focal = make_user("sg-f", orgs["SG"], ["focal_point"])
    d = services.guarded_write(focal, Dossier(title="Anchorage"), "add")
    resp = client_for(focal).post(share_url(d), {"distribution": "asean", "tlp": "red"})
    assert resp.status_code == 422
    assert "TLP:RED allows at most" in resp.content.decode()
    d.refresh_from_db()
    assert d.distribution == "org"


def test_share_is_404_for_analysts_and_other_states(orgs: dict[str, Organisation]) -> None:
    focal = make_user("sg-f", orgs["SG"], ["focal_point"])
    d = services.guarded_write(focal, Dossier(title="Anchorage"), "add")
    services.set_sharing(focal, d, distribution="asean", tlp="green")
    analyst = make_user("sg-a", orgs["SG"], ["analyst"])
    other_focal = make_user("my-f", orgs["MY"], ["focal_point"])
    for user in (analyst, other_focal):
        c = client_for(user)
        assert c.get(share_url(d)).status_code == 404
        assert c.post(share_url(d), {"distribution": "public", "tlp": "clear"}).status_code == 404
        # They still see the record, read-only, without the form.
        page = c.get(reverse("sharedapp:detail", args=[d.pk])).content.decode()
        assert "TLP:GREEN" in page
        assert "Save sharing" not in page
    d.refresh_from_db()
    assert d.distribution == "asean"
    assert client_for(focal).get(reverse("core:share", args=["core", "role", 1])).status_code == 404


def test_analyst_cannot_release_by_editing(orgs: dict[str, Organisation]) -> None:
    analyst = make_user("sg-a", orgs["SG"], ["analyst"])
    d = services.guarded_write(analyst, Dossier(title="Anchorage"), "add")
    with pytest.raises(services.OutOfScope):
        services.guarded_write(analyst, d, "change", lambda o: setattr(o, "distribution", "asean"))
    d.refresh_from_db()
    assert d.distribution == "org"


def test_creator_picks_first_audience_but_ai_output_starts_home(
    orgs: dict[str, Organisation],
) -> None:
    analyst = make_user("sg-a", orgs["SG"], ["analyst"])
    filed = services.guarded_write(
        analyst, Dossier(title="Filed", distribution="asean", tlp="green"), "add"
    )
    assert filed.distribution == "asean"
    with pytest.raises(services.OutOfScope):
        services.guarded_write(
            analyst,
            Dossier(title="Draft", distribution="asean", tlp="green", ai_generated=True),
            "add",
        )
    assert not Dossier.objects.filter(title="Draft").exists()


def test_write_that_leaves_scope_rolls_back(orgs: dict[str, Organisation]) -> None:
    reporter = make_user("sg-r", orgs["SG"], ["reporter"])
    d = services.guarded_write(reporter, Dossier(title="Mine"), "add")
    with pytest.raises(services.OutOfScope):
        services.guarded_write(reporter, d, "change", lambda o: setattr(o, "owner_org", orgs["MY"]))
    with pytest.raises(services.OutOfScope):
        services.guarded_write(reporter, Dossier(title="Theirs", owner_org=orgs["MY"]), "add")
    d.refresh_from_db()
    assert d.owner_org == orgs["SG"]
    assert not Dossier.objects.filter(title="Theirs").exists()


def test_ai_label_and_approval_over_htmx(orgs: dict[str, Organisation]) -> None:
    focal = make_user("sg-f", orgs["SG"], ["focal_point"])
    analyst = make_user("sg-a", orgs["SG"], ["analyst"])
    d = services.guarded_write(analyst, Dossier(title="Summary", ai_generated=True), "add")
    services.record_provenance(
        d,
        generator="extractive-summariser",
        template_version="2026.1",
        inputs={"ids": [1]},
        requested_by=analyst,
    )
    url = reverse("core:approve_ai", args=["sharedapp", "dossier", d.pk])
    page = client_for(analyst).get(reverse("sharedapp:detail", args=[d.pk])).content.decode()
    assert "AI-generated — awaiting approval" in page
    assert "extractive-summariser" in page
    assert url not in page
    assert client_for(analyst).post(url).status_code == 404
    assert client_for(make_user("my-f", orgs["MY"], ["focal_point"])).post(url).status_code == 404
    focal_page = client_for(focal).get(reverse("sharedapp:detail", args=[d.pk])).content.decode()
    assert url in focal_page
    resp = client_for(focal).post(url, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert "approved by sg-f" in resp.content.decode()
    d.refresh_from_db()
    assert d.ai_approved_by == focal
    assert AuditEntry.objects.filter(action="approve", object_id=str(d.pk), actor=focal).exists()
    plain = make_user("sg-f2", orgs["SG"], ["focal_point"])
    d2 = services.guarded_write(plain, Dossier(title="Human"), "add")
    resp = client_for(plain).post(
        reverse("core:approve_ai", args=["sharedapp", "dossier", d2.pk]),
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 422
    assert "nothing to approve" in resp.content.decode()


def test_org_admin_manages_own_members_only(orgs: dict[str, Organisation]) -> None:
    admin = make_user("sg-adm", orgs["SG"], ["org_admin"])
    viewer = make_user("sg-v", orgs["SG"], ["viewer"])
    foreign = make_user("my-v", orgs["MY"], ["viewer"])
    c = client_for(admin)
    page = c.get(reverse("core:org_members")).content.decode()
    assert 'data-member="sg-v"' in page
    assert 'data-member="my-v"' not in page
    assert "sharedapp: viewer on sharedapp.dossier #1" in page
    assert "sharedapp.dossier" in page
    analyst_role = Role.objects.get(slug="analyst")
    m = Membership.objects.get(user=viewer)
    resp = c.post(
        reverse("core:org_member_roles", args=[m.pk]), {f"m{m.pk}-roles": [analyst_role.pk]}
    )
    assert resp.status_code == 302
    assert m.roles.get().slug == "analyst"
    fm = Membership.objects.get(user=foreign)
    assert (
        c.post(
            reverse("core:org_member_roles", args=[fm.pk]), {f"m{fm.pk}-roles": [analyst_role.pk]}
        ).status_code
        == 404
    )
    assert fm.roles.get().slug == "viewer"
    platform = Role.objects.get(slug="platform_admin")
    c.post(reverse("core:org_member_roles", args=[m.pk]), {f"m{m.pk}-roles": [platform.pk]})
    assert not m.roles.filter(slug="platform_admin").exists()

    def create(password: str) -> Any:
        form = {"username": "sg-new", "email": "n@sg.invalid", "roles": [analyst_role.pk]}
        return c.post(reverse("core:org_members"), {**form, "password": password})

    assert create("short").status_code == 422
    assert not get_user_model().objects.filter(username="sg-new").exists()
    resp = create("harbour-lantern-93-kite")
    assert resp.status_code == 302
    new = Membership.objects.get(user__username="sg-new")
    assert new.organisation == orgs["SG"]
    assert new.role_slugs() == {"analyst"}
    assert AuditEntry.objects.filter(object_type="auth.user", action="create", actor=admin).exists()
    assert client_for(viewer).get(reverse("core:org_members")).status_code == 404


def test_grants_are_data_in_the_django_admin(orgs: dict[str, Organisation]) -> None:
    su = get_user_model().objects.create_superuser("root-op", "r@x.invalid", "x")
    Membership.objects.create(
        user=su, organisation=orgs["SG"], totp_secret="A" * 32, totp_confirmed=True
    )
    c = client_for(su)
    perm = ObjectPermission.objects.get(name="sharedapp: viewer on sharedapp.dossier #1")
    assert c.get(reverse("admin:core_objectpermission_change", args=[perm.pk])).status_code == 200
    # Disabling a grant takes the right away immediately: grants are data, not code.
    viewer = make_user("sg-v", orgs["SG"], ["viewer"])
    owner = make_user("sg-f", orgs["SG"], ["focal_point"])
    d = services.guarded_write(owner, Dossier(title="x"), "add")
    assert Dossier.objects.restrict(viewer).filter(pk=d.pk).exists()
    ObjectPermission.objects.filter(pk=perm.pk).update(enabled=False)
    fresh = get_user_model().objects.get(pk=viewer.pk)
    assert not Dossier.objects.restrict(fresh).filter(pk=d.pk).exists()
