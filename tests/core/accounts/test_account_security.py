"""Account security: hashing, throttling, second factor, sessions, CSRF, headers, deploy checks,
uploads."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mufakat.core.accounts.auth import issue_token
from mufakat.core.models import AuditEntry, Membership, Organisation
from mufakat.core.ops.uploads import check_upload
from mufakat.core.sharing.testing import make_user

PASSWORD = "quiet-harbour-lantern-2026"


@pytest.fixture
def sg() -> Organisation:
    return Organisation.objects.get(code="SG")


def with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    return user


def login(c: Client, username: str, password: str = PASSWORD) -> Any:
    return c.post(reverse("core:login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(sg: Organisation) -> None:
    user = with_password(make_user("sg-h", sg, ["viewer"]))
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_lockout_after_five_failures(sg: Organisation) -> None:
    with_password(make_user("sg-l", sg, ["viewer"]))
    c = Client()
    for _ in range(settings.MUFAKAT_LOGIN_MAX_FAILURES):
        assert login(c, "sg-l", "wrong-password").status_code == 200
    # Even the right password is refused while the lock holds, with a message that says why.
    resp = login(c, "sg-l")
    assert resp.status_code == 200
    assert "Too many failed attempts" in resp.content.decode()
    assert "_auth_user_id" not in c.session
    assert AuditEntry.objects.filter(action="lockout", object_repr="sg-l").exists()


@pytest.mark.django_db
def test_second_factor_is_forced_for_focal_points(sg: Organisation) -> None:
    user = with_password(make_user("sg-fp", sg, ["viewer"]))
    m = Membership.objects.get(user=user)
    m.roles.add(*m.roles.model.objects.filter(slug="focal_point"))
    c = Client()
    assert login(c, "sg-fp").status_code == 302
    resp = c.get(reverse("core:home"))
    assert resp.status_code == 302
    assert resp["Location"] == reverse("core:twofactor_setup")
    c.get(reverse("core:twofactor_setup"))
    m.refresh_from_db()
    code = pyotp.TOTP(m.totp_secret).now()
    resp = c.post(reverse("core:twofactor_setup"), {"code": code})
    assert resp.status_code == 302
    assert c.get(reverse("core:home")).status_code == 200
    assert AuditEntry.objects.filter(action="two_factor").exists()


@pytest.mark.django_db
def test_login_with_code_and_replay_refused(sg: Organisation) -> None:
    user = with_password(make_user("sg-2f", sg, ["focal_point"]))
    m = Membership.objects.get(user=user)
    c = Client()
    resp = login(c, "sg-2f")
    assert resp["Location"] == reverse("core:login_totp")
    assert c.get(reverse("core:home")).status_code == 302  # not logged in yet
    code = pyotp.TOTP(m.totp_secret).now()
    assert c.post(reverse("core:login_totp"), {"code": code}).status_code == 302
    assert c.get(reverse("core:home")).status_code == 200
    again = Client()
    login(again, "sg-2f")
    resp = again.post(reverse("core:login_totp"), {"code": code})
    assert resp.status_code == 200
    assert "That code is not valid" in resp.content.decode()
    assert "_auth_user_id" not in again.session


def test_session_expiry_settings() -> None:
    assert settings.SESSION_COOKIE_AGE == settings.CONFIG.session_seconds == 8 * 3600
    # Idle expiry: the session is re-saved (deadline pushed forward) at most every few minutes.
    from mufakat.core.ops.middleware import SESSION_REFRESH_SECONDS

    assert SESSION_REFRESH_SECONDS < settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.django_db
def test_api_session_posts_need_csrf_and_tokens_do_not(sg: Organisation) -> None:
    user = make_user("sg-api", sg, ["analyst"])
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    resp = c.post("/api/sharedapp/dossiers", {"title": "x"}, content_type="application/json")
    assert resp.status_code == 403
    _tok, raw = issue_token(user, "ci")
    resp = Client(enforce_csrf_checks=True).post(
        "/api/sharedapp/dossiers",
        {"title": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert resp.status_code == 201


@pytest.mark.django_db
def test_security_headers_on_pages() -> None:
    resp = Client().get(reverse("core:login"))
    csp = resp["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Referrer-Policy"] == "same-origin"
    assert resp["Cross-Origin-Opener-Policy"] == "same-origin"
    assert resp["X-Request-ID"]


def test_deploy_check_passes_in_production(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mufakat.settings",
        "MUFAKAT_ENV": "production",
        "MUFAKAT_SECRET_KEY": secrets.token_urlsafe(64),
        "MUFAKAT_SECURE_COOKIES": "1",
        "MUFAKAT_DATA_DIR": str(tmp_path),
        "MUFAKAT_ALLOWED_HOSTS": "mufakat.example.org",
        "MUFAKAT_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }
    env.pop("DATABASE_URL", None)
    # Browser-test conftests set this for Playwright in the pytest process; a deployment never has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    cmd = [
        sys.executable,
        "-m",
        "mufakat.cli",
        "manage",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    # A placeholder secret is refused outright.
    env["MUFAKAT_SECRET_KEY"] = "changeme"
    bad = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert bad.returncode != 0
    assert "MUFAKAT_SECRET_KEY" in bad.stderr


@pytest.mark.parametrize(
    ("name", "content", "allowed", "limit", "message"),
    [
        ("big.geojson", b"{" + b" " * 2048 + b"}", {".geojson"}, 1024, "the limit is"),
        ("tool.exe", b"MZ\x90\x00", {".geojson", ".pdf"}, None, "are not accepted here"),
        ("report.pdf", b"<html>not a pdf</html>", {".pdf"}, None, "does not look like a .pdf"),
        ("photo.png", b"GIF89a....", {".png"}, None, "does not look like a .png"),
        ("data.csv", b"a,b\x00c", {".csv"}, None, "is not a text file"),
        ("data.csv", b"\xff\xfe\xfa bad", {".csv"}, None, "is not UTF-8 text"),
        ("empty.kml", b"", {".kml"}, None, "is empty"),
    ],
)
def test_upload_checks(
    name: str, content: bytes, allowed: set[str], limit: int | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        check_upload(SimpleUploadedFile(name, content), allowed=allowed, max_bytes=limit)


def test_upload_accepts_good_files() -> None:
    assert check_upload(SimpleUploadedFile("a.PDF", b"%PDF-1.7\n..."), allowed={".pdf"}) == ".pdf"
    assert (
        check_upload(
            SimpleUploadedFile("a.geojson", b'{"name": "Pulau Ubin"}'), allowed={".geojson"}
        )
        == ".geojson"
    )
