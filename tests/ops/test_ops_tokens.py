"""`mufakat token create / list / revoke`: tokens issued from the shell work on the API at once,
stop working when revoked, and bad input is refused with a message, not a traceback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from mufakat.cli import app
from mufakat.core.models import ApiToken, AuditEntry, Organisation
from mufakat.core.tenancy.demo import ensure_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst() -> Any:
    return ensure_user(Organisation.objects.get(code="SG"), "t-sg-tok", ["analyst"])


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def api_status(raw: str) -> int:
    return (
        Client().get("/api/cui/incidents", headers={"authorization": f"Bearer {raw}"}).status_code
    )


def test_create_list_revoke(analyst: Any) -> None:
    res = run("token", "create", "t-sg-tok", "--name", "OpenCTI sync", "--expires", "30d")
    assert res.exit_code == 0, res.output
    raw = res.stdout.strip().splitlines()[-1]
    assert raw.startswith("mfk_")
    token = ApiToken.objects.get(user=analyst)
    assert token.name == "OpenCTI sync"
    assert token.expires is not None
    assert abs(token.expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert raw not in {token.digest, token.prefix}  # only the hash is stored
    assert api_status(raw) == 200

    listed = run("token", "list", "t-sg-tok")
    assert listed.exit_code == 0, listed.output
    assert "OpenCTI sync" in listed.stdout
    assert token.prefix in listed.stdout
    assert raw not in listed.stdout

    revoked = run("token", "revoke", token.prefix, "--user", "t-sg-tok")
    assert revoked.exit_code == 0, revoked.output
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert api_status(raw) == 401
    assert list(
        AuditEntry.objects.filter(object_type="core.apitoken", object_id=str(token.pk))
        .order_by("pk")
        .values_list("message", flat=True)
    ) == ["issued", "revoked"]


def test_expiry_as_a_date(analyst: Any) -> None:
    day = (timezone.localdate() + timedelta(days=100)).isoformat()
    res = run("token", "create", "t-sg-tok", "--name", "until a date", "--expires", day)
    assert res.exit_code == 0, res.output
    token = ApiToken.objects.get(user=analyst)
    assert token.expires is not None
    assert timezone.localtime(token.expires).date().isoformat() == day


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--expires", "400d"], "at most 365 days"),
        (["--name", "x", "--expires", "2001-01-01"], "not in the future"),
        (["--name", "x", "--expires", "soon"], "give days (90d) or a date"),
        (["--name", "  ", "--expires", "10d"], "give the token a name"),
    ],
)
def test_bad_input_is_refused(analyst: Any, args: list[str], message: str) -> None:
    res = run("token", "create", "t-sg-tok", *args)
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())
    assert not ApiToken.objects.exists()


def test_unknown_user_and_token(analyst: Any) -> None:
    res = run("token", "create", "nobody", "--name", "x")
    assert res.exit_code == 2
    assert "No user 'nobody'" in res.output
    assert run("token", "list", "nobody").exit_code == 2
    gone = run("token", "revoke", "999999")
    assert gone.exit_code == 2
    assert "No token '999999'" in gone.output
    # Revoking with --user never touches another user's token.
    run("token", "create", "t-sg-tok", "--name", "mine")
    other = ensure_user(Organisation.objects.get(code="VN"), "t-vn-tok", ["analyst"])
    pk = str(ApiToken.objects.get(user=analyst).pk)
    assert run("token", "revoke", pk, "--user", other.username).exit_code == 2
    assert ApiToken.objects.filter(pk=pk).exists()
