"""Audit written one way (one entry per logical change, children with their parent), and the
smaller findings of the security review: sharing fields that do not apply are cleared and a
group's name reaches its members only, viewers create no groups, signed-in pages are not
cached, a busy database answers 503."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

from mufakat.core.audit.log import verify
from mufakat.core.choices import TLP, Distribution
from mufakat.core.models import AIProvenance, AuditEntry, Organisation
from mufakat.core.ops import context
from mufakat.core.ops.errors import server_error
from mufakat.core.sharing import services
from mufakat.core.sharing.testing import make_user
from mufakat.cui import services as cui_services
from mufakat.cui.models import IncidentUpdate
from tests.sharedapp.models import Dossier

pytestmark = pytest.mark.django_db


@pytest.fixture
def orgs() -> dict[str, Organisation]:
    return {o.code: o for o in Organisation.objects.filter(code__in=["SG", "MY", "VN", "ID"])}


@pytest.fixture
def sg_focal(orgs: dict[str, Organisation]) -> Any:
    return make_user("sg-oneway", orgs["SG"], ["focal_point"])


def entries(rid: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(request_id=rid).order_by("seq"))


def test_set_sharing_writes_one_entry_with_before_and_after(
    sg_focal: Any, orgs: dict[str, Organisation]
) -> None:
    d = services.guarded_write(sg_focal, Dossier(title="Berth plan"), "add")
    with context.acting(sg_focal, request_id="share-once-0001"):
        services.set_sharing(
            sg_focal, d, distribution=Distribution.NAMED, tlp=TLP.AMBER, shared_with=[orgs["MY"]]
        )
    [e] = entries("share-once-0001")  # the save signal, the m2m signal and the call wrote three
    assert e.action == "share"
    assert e.before is not None
    assert e.after is not None
    assert e.before["distribution"] == "org"
    assert e.before["shared_with"] == []
    assert e.after["distribution"] == "named"
    assert e.after["shared_with"] == [orgs["MY"].pk]
    assert verify().ok


def test_report_and_status_change_are_one_entry_each(sg_focal: Any) -> None:
    with context.acting(sg_focal, request_id="report-once-01"):
        inc = cui_services.report_incident(
            sg_focal, cui_services.IncidentInput(title="Fault", lat=1.2, lon=104.0), alert=False
        )
    [created] = entries("report-once-01")
    assert (created.action, created.object_type) == ("create", "cui.incident")
    assert created.after is not None
    assert "affected_assets" in created.after
    with context.acting(sg_focal, request_id="status-once-01"):
        cui_services.change_status(sg_focal, inc, "confirmed", "seen by divers")
    [changed] = entries("status-once-01")
    assert changed.before is not None
    assert changed.after is not None
    assert (changed.before["status"], changed.after["status"]) == ("reported", "confirmed")
    assert "with note" in changed.message


def test_notes_attachments_and_provenance_are_audited_with_their_parent(
    sg_focal: Any, orgs: dict[str, Organisation]
) -> None:
    inc = cui_services.report_incident(
        sg_focal, cui_services.IncidentInput(title="Fault", lat=1.2, lon=104.0), alert=False
    )
    with context.acting(sg_focal, request_id="note-once-0001"):
        note = cui_services.add_update(sg_focal, inc, "cable ship sailed")
    [e] = entries("note-once-0001")
    assert (e.action, e.object_type, e.object_id) == ("create", "cui.incidentupdate", str(note.pk))
    assert e.org == orgs["SG"]
    assert e.after is not None
    assert e.after["text"] == "cable ship sailed"
    # Outside any service (an admin edit), the signal still audits the child, with its parent's org.
    note.text = "corrected"
    note.save()
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    assert (last.action, last.object_type, last.org) == ("update", "cui.incidentupdate", orgs["SG"])
    IncidentUpdate.objects.filter(pk=note.pk).delete()
    assert AuditEntry.objects.filter(action="delete", object_id=str(note.pk)).exists()
    d = services.guarded_write(sg_focal, Dossier(title="Summary", ai_generated=True), "add")
    with context.acting(sg_focal, request_id="prov-once-0001"):
        prov = services.record_provenance(
            d, generator="llm", template_version="v1", inputs={"q": "x"}, requested_by=sg_focal
        )
    [p] = entries("prov-once-0001")  # recorded on the artefact, with its organisation
    assert (p.action, p.object_type, p.object_id) == ("generate", "sharedapp.dossier", str(d.pk))
    assert p.after is not None
    assert p.after["provenance"] == prov.pk
    assert p.org == orgs["SG"]
    assert AIProvenance.objects.count() == 1
    assert verify().ok


def test_a_group_name_is_cleared_when_it_does_not_apply_and_shown_to_members_only(
    sg_focal: Any, orgs: dict[str, Organisation]
) -> None:
    group = services.create_sharing_group(
        sg_focal, name="Quiet littoral watch", members=[orgs["MY"]]
    )
    inc = cui_services.report_incident(
        sg_focal,
        cui_services.IncidentInput(
            title="Fault",
            lat=1.2,
            lon=104.0,
            distribution=Distribution.GROUP,
            tlp=TLP.AMBER,
            sharing_group=group,
        ),
        alert=False,
    )
    services.set_sharing(
        sg_focal,
        inc,
        distribution=Distribution.ASEAN,
        tlp=TLP.GREEN,
        shared_with=[orgs["ID"]],
        sharing_group=group,
    )
    inc.refresh_from_db()
    assert inc.sharing_group_id is None
    assert not inc.shared_with.exists()
    vn = Client()
    vn.force_login(make_user("vn-oneway", orgs["VN"], ["viewer"]))
    page = vn.get(reverse("cui:incident", args=[inc.pk]))
    assert page.status_code == 200
    assert "Quiet littoral watch" not in page.content.decode()
    # A stale group on a row written around the service is still not printed to outsiders.
    type(inc).objects.filter(pk=inc.pk).update(sharing_group=group)
    assert (
        "Quiet littoral watch"
        not in vn.get(reverse("cui:incident", args=[inc.pk])).content.decode()
    )
    services.set_sharing(
        sg_focal, inc, distribution=Distribution.GROUP, tlp=TLP.AMBER, sharing_group=group
    )
    my = Client()
    my.force_login(make_user("my-oneway", orgs["MY"], ["viewer"]))
    assert "Quiet littoral watch" in my.get(reverse("cui:incident", args=[inc.pk])).content.decode()


def test_viewers_create_no_sharing_groups(orgs: dict[str, Organisation]) -> None:
    viewer = make_user("sg-view-g", orgs["SG"], ["viewer"])
    c = Client()
    c.force_login(viewer)
    page = c.get(reverse("core:sharing_groups")).content.decode()
    assert 'name="name"' not in page
    assert c.post(reverse("core:sharing_groups"), {"name": "Mine"}).status_code == 403
    api = c.post(
        "/api/core/sharing-groups",
        {"name": "Mine", "member_codes": []},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert not services.SharingGroup.objects.filter(name="Mine").exists()


def test_record_pages_exports_and_api_are_not_cached(sg_focal: Any) -> None:
    inc = cui_services.report_incident(
        sg_focal, cui_services.IncidentInput(title="Fault", lat=1.2, lon=104.0), alert=False
    )
    c = Client()
    c.force_login(sg_focal)
    for url in (
        reverse("cui:incident", args=[inc.pk]),
        reverse("cui:incident_export", args=[inc.pk, "stix"]),
        f"/api/cui/incidents/{inc.pk}",
        reverse("core:home"),
    ):
        assert c.get(url)["Cache-Control"] == "private, no-store", url
    # The revalidated map layers keep their own policy.
    assert "no-cache" in c.get(reverse("cui:cables_geojson"))["Cache-Control"]


def test_a_busy_database_answers_503_with_retry_after() -> None:
    rf = RequestFactory()
    for path in ("/api/cui/incidents", "/accounts/login/"):
        request = rf.get(path)
        try:
            raise OperationalError("database is locked")
        except OperationalError:
            resp = server_error(request)
        assert resp.status_code == 503
        assert resp["Retry-After"] == "5"
    try:
        raise OperationalError("no such table: x")
    except OperationalError:
        assert server_error(rf.get("/")).status_code == 500
