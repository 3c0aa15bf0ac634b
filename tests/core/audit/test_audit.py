"""Audit: every write, share, export and log-in is chained with who/what/when/request id and
snapshots; `mufakat audit verify` finds any tampering and names the first broken entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from typer.testing import CliRunner

from mufakat.cli import app
from mufakat.core.audit.log import Anchor
from mufakat.core.models import AuditEntry, AuditHead, Organisation
from mufakat.core.ops import context
from mufakat.core.sharing import services
from mufakat.core.sharing.testing import make_user
from tests.sharedapp.models import Dossier
from tests.sharedapp.queries import export_csv

pytestmark = pytest.mark.django_db


def verify_cli() -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify"])
    return result.exit_code, result.output


@pytest.fixture
def sg() -> Organisation:
    return Organisation.objects.get(code="SG")


@pytest.fixture
def focal(sg: Organisation) -> Any:
    return make_user("sg-focal-a", sg, ["focal_point"])


def last(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-seq").first()  # type: ignore[return-value]


def test_create_update_delete_share_export_are_recorded(focal: Any) -> None:
    with context.acting(focal, request_id="req-audit-0001"):
        d = services.guarded_write(focal, Dossier(title="Pier 3", body="draft"), "add")
        created = last("create")
        assert created.object_type == "sharedapp.dossier"
        assert created.object_id == str(d.pk)
        assert created.actor == focal
        assert created.request_id == "req-audit-0001"
        assert created.after is not None
        assert created.after["title"] == "Pier 3"
        assert created.org is not None
        assert created.org.code == "SG"

        services.guarded_write(focal, d, "change", lambda o: setattr(o, "body", "final"))
        updated = last("update")
        assert updated.before is not None
        assert updated.before["body"] == "draft"
        assert updated.after is not None
        assert updated.after["body"] == "final"

        my = Organisation.objects.get(code="MY")
        services.set_sharing(focal, d, distribution="named", tlp="amber", shared_with=[my])
        shared = last("share")
        assert shared.request_id == "req-audit-0001"
        assert any(
            e.before and e.before.get("distribution") == "org"
            for e in AuditEntry.objects.filter(action="share", object_id=str(d.pk))
        )

        export_csv(focal)
        exported = last("export")
        assert exported.object_type == "sharedapp.dossier"
        assert str(d.pk) in exported.message.split(",")

        pk = d.pk
        d.delete()
        deleted = last("delete")
        assert deleted.object_id == str(pk)
        assert deleted.before is not None
        assert deleted.before["body"] == "final"
    code, out = verify_cli()
    assert code == 0, out
    assert "Audit chain intact" in out


def test_login_is_recorded_with_the_request_id(sg: Organisation) -> None:
    user = make_user("sg-viewer-a", sg, ["viewer"])
    user.set_password("a-long-test-password-1")
    user.save()
    resp = Client().post(
        reverse("core:login"),
        {"username": "sg-viewer-a", "password": "a-long-test-password-1"},
        headers={"X-Request-ID": "login-req-000042"},
    )
    assert resp.status_code == 302
    entry = last("login")
    assert entry.actor == user
    assert entry.request_id == "login-req-000042" == resp["X-Request-ID"]
    Client().post(reverse("core:login"), {"username": "sg-viewer-a", "password": "wrong-one"})
    assert last("login_failed").object_repr == "sg-viewer-a"


def _chain(focal: Any, n: int = 6) -> list[AuditEntry]:
    for i in range(n):
        services.guarded_write(focal, Dossier(title=f"rec {i}"), "add")
    entries = list(AuditEntry.objects.order_by("seq"))
    assert verify_cli()[0] == 0
    return entries


TAMPER: dict[str, Any] = {
    "time": "2001-01-01T00:00:00+00:00",
    "actor_name": "someone-else",
    "request_id": "forged-request",
    "action": "delete",
    "object_type": "core.other",
    "object_id": "999",
    "object_repr": "rewritten",
    "before": {"title": "forged"},
    "after": {"title": "forged"},
    "message": "nothing happened",
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


@pytest.mark.parametrize("field", [*TAMPER, "seq", "actor", "org"])
def test_tampering_with_any_field_is_named(focal: Any, field: str) -> None:
    entries = _chain(focal)
    victim = entries[len(entries) // 2]
    if field == "seq":
        value: Any = victim.seq + 10_000
    elif field == "actor":
        value = make_user("intruder", None).pk
        field = "actor_id"
    elif field == "org":
        value = Organisation.objects.get(code="MY").pk
        field = "org_id"
    else:
        value = TAMPER[field]
    # Tampering happens behind the application's back, straight in the table.
    AuditEntry.objects.filter(pk=victim.pk).update(**{field: value})
    code, out = verify_cli()
    assert code == 1
    assert f"#{victim.seq}" in out


def test_deleting_a_row_is_named(focal: Any) -> None:
    entries = _chain(focal)
    victim = entries[2]
    AuditEntry.objects.filter(pk=victim.pk).delete()
    code, out = verify_cli()
    assert code == 1
    assert f"#{victim.seq} is missing" in out


def test_deleting_the_last_row_is_named(focal: Any) -> None:
    entries = _chain(focal)
    AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    code, out = verify_cli()
    assert code == 1
    assert f"#{entries[-1].seq}" in out


def test_rewriting_the_last_row_with_a_fresh_hash_is_named(focal: Any) -> None:
    entries = _chain(focal)
    tip = entries[-1]
    tip.message = "rewritten"
    tip.hash = tip.compute_hash()
    AuditEntry.objects.filter(pk=tip.pk).update(message=tip.message, hash=tip.hash)
    code, out = verify_cli()
    assert code == 1
    assert f"#{tip.seq}" in out
    assert AuditHead.objects.get().last_seq == tip.seq


def _rewrite_whole_chain(from_seq: int) -> None:
    """What an operator with write access could do: edit an entry, then recompute every hash
    after it and the tip, so the chain alone looks intact."""
    prev = AuditEntry.objects.get(seq=from_seq - 1).hash if from_seq > 1 else "0" * 64
    for e in AuditEntry.objects.filter(seq__gte=from_seq).order_by("seq"):
        if e.seq == from_seq:
            e.message = "quietly rewritten"
        e.prev_hash = prev
        e.hash = e.compute_hash()
        AuditEntry.objects.filter(pk=e.pk).update(
            message=e.message, prev_hash=e.prev_hash, hash=e.hash
        )
        prev = e.hash
    AuditHead.objects.update(last_hash=prev)


def test_an_anchor_kept_elsewhere_exposes_a_recomputed_chain(focal: Any, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.txt"
    _chain(focal, 4)
    first = CliRunner().invoke(app, ["audit", "anchor", "--append", str(anchors)])
    assert first.exit_code == 0
    _chain(focal, 3)
    assert CliRunner().invoke(app, ["audit", "anchor", "--append", str(anchors)]).exit_code == 0
    lines = anchors.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0] == first.output.strip()
    ok = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(anchors)])
    assert ok.exit_code == 0, ok.output
    assert "matching 2 anchors" in ok.output

    victim = Anchor.parse(lines[0]).seq - 1  # an entry before the first anchor
    _rewrite_whole_chain(victim)
    assert verify_cli()[0] == 0  # the chain alone cannot tell
    caught = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(anchors)])
    assert caught.exit_code == 1
    assert f"#{Anchor.parse(lines[0]).seq} no longer matches its anchor" in caught.output


def test_anchors_name_removed_entries_and_bad_files(focal: Any, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.txt"
    _chain(focal, 3)
    CliRunner().invoke(app, ["audit", "anchor", "--append", str(anchors)])
    tip = Anchor.parse(anchors.read_text().strip())
    # Cut the newest entry and move the tip back: the chain alone looks whole.
    AuditEntry.objects.filter(seq=tip.seq).delete()
    AuditHead.objects.update(
        last_seq=tip.seq - 1, last_hash=AuditEntry.objects.get(seq=tip.seq - 1).hash
    )
    assert verify_cli()[0] == 0
    gone = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(anchors)])
    assert gone.exit_code == 1
    assert f"entry #{tip.seq}, anchored at" in gone.output

    junk = tmp_path / "junk.txt"
    junk.write_text("mufakat-audit-anchor v1 seq=3 hash=nothex time=now\n")
    bad = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(junk)])
    assert bad.exit_code == 2
    assert "64 hex digits" in bad.output
    missing = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "Cannot read anchors" in missing.output


@pytest.fixture
def admins(sg: Organisation) -> tuple[Any, Any]:
    return (
        make_user("sg-admin-a", sg, ["org_admin"]),
        make_user("my-admin-a", Organisation.objects.get(code="MY"), ["org_admin"]),
    )


def test_audit_ui_filters_and_stays_inside_the_organisation(admins: tuple[Any, Any]) -> None:
    sg_admin, my_admin = admins
    sg_doc = services.guarded_write(sg_admin, Dossier(title="SG harbour plan"), "add")
    my_doc = services.guarded_write(my_admin, Dossier(title="MY harbour plan"), "add")
    services.set_sharing(sg_admin, sg_doc, distribution="asean", tlp="green")
    c = Client()
    c.force_login(sg_admin)
    full = c.get(reverse("core:audit"))
    assert full.status_code == 200
    html = full.content.decode()
    assert "SG harbour plan" in html
    assert "MY harbour plan" not in html
    partial = c.get(reverse("core:audit"), {"action": "share"}, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in body
    assert 'id="audit-table"' in body
    assert "SG harbour plan" in body
    assert "Create" not in body
    assert c.get(reverse("core:audit_entry", args=[last("create").seq])).status_code == 404
    mine = AuditEntry.objects.filter(
        object_type="sharedapp.dossier", object_id=str(sg_doc.pk), action="create"
    ).get()
    assert c.get(reverse("core:audit_entry", args=[mine.seq])).status_code == 200
    assert my_doc.pk
    api = c.get("/api/core/audit", {"action": "create"}).json()["items"]
    assert {e["object_repr"] for e in api} >= {"SG harbour plan"}
    assert "MY harbour plan" not in {e["object_repr"] for e in api}


def test_audit_ui_is_hidden_from_non_admins(sg: Organisation) -> None:
    c = Client()
    c.force_login(make_user("sg-analyst-a", sg, ["analyst"]))
    assert c.get(reverse("core:audit")).status_code == 404
