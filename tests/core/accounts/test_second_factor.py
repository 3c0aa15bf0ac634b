"""The second factor holds: guessing codes locks out, the unenrolled hold covers every way in
(pages, API, tokens, admin), the secret is shown once, and a code logs in once even when
sessions race (SQLite here; the same test runs on PostgreSQL in the CI pass)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from mufakat.core.accounts import twofactor
from mufakat.core.accounts.auth import TokenRefused, issue_token
from mufakat.core.models import AuditEntry, LoginFailure, Membership, Organisation, Role
from mufakat.core.sharing.testing import make_user

PASSWORD = "quiet-harbour-lantern-2026"


@pytest.fixture
def sg() -> Organisation:
    return Organisation.objects.get(code="SG")


def with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    return user


def password_step(c: Client, username: str, ip: str = "10.0.0.1") -> Any:
    return c.post(
        reverse("core:login"), {"username": username, "password": PASSWORD}, REMOTE_ADDR=ip
    )


def code_step(c: Client, code: str, ip: str = "10.0.0.1") -> Any:
    return c.post(reverse("core:login_totp"), {"code": code}, REMOTE_ADDR=ip)


def wrong_code(m: Membership) -> str:
    now = time.time()
    right = {pyotp.TOTP(m.totp_secret).at(now + o) for o in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


@pytest.mark.django_db
def test_guessing_codes_locks_the_account_and_a_right_password_does_not_reset_it(
    sg: Organisation,
) -> None:
    user = with_password(make_user("sg-guess", sg, ["focal_point"]))
    m = Membership.objects.get(user=user)
    bad = wrong_code(m)
    c = Client()
    # Today's attack: password, four wrong codes, password again, four more... never locked.
    for _ in range(settings.MUFAKAT_LOGIN_MAX_FAILURES - 1):
        assert password_step(c, "sg-guess")["Location"] == reverse("core:login_totp")
        code_step(c, bad)
    assert password_step(c, "sg-guess")["Location"] == reverse("core:login_totp")
    resp = code_step(c, bad)
    assert "Too many failed attempts" in resp.content.decode()
    # Locked now: the right password is refused, and so is the right code.
    resp = password_step(c, "sg-guess")
    assert resp.status_code == 200
    assert "Too many failed attempts" in resp.content.decode()
    assert "_auth_user_id" not in c.session
    assert LoginFailure.objects.filter(username="sg-guess", second_factor=True).count() == 5
    assert (
        AuditEntry.objects.filter(action="login_failed", object_repr="sg-guess")
        .filter(message="wrong second-factor code")
        .count()
        == 5
    )
    assert AuditEntry.objects.filter(action="lockout", object_repr="sg-guess").count() == 1


@pytest.mark.django_db
def test_guessing_codes_from_one_address_locks_that_address(sg: Organisation) -> None:
    limit = settings.MUFAKAT_LOGIN_MAX_FAILURES
    users = [with_password(make_user(f"sg-spray{i}", sg, ["focal_point"])) for i in range(5)]
    c = Client()
    for i in range(limit * 4):
        u = users[i % len(users)]
        password_step(c, u.username, ip="10.9.9.9")
        code_step(c, wrong_code(u.membership), ip="10.9.9.9")
    fresh = with_password(make_user("sg-spray-fresh", sg, ["focal_point"]))
    resp = password_step(Client(), fresh.username, ip="10.9.9.9")
    assert "Too many failed attempts" in resp.content.decode()
    # The same account from another address is not locked by that address.
    ok = password_step(Client(), fresh.username, ip="10.1.1.1")
    assert ok["Location"] == reverse("core:login_totp")


def _focal_without_factor(sg: Organisation, name: str) -> Any:
    user = with_password(make_user(name, sg, ["viewer"]))
    user.membership.roles.add(Role.objects.get(slug="focal_point"))
    return user


@pytest.mark.django_db
def test_the_unenrolled_hold_covers_pages_api_tokens_and_admin(sg: Organisation) -> None:
    user = _focal_without_factor(sg, "sg-new-fp")
    user.is_staff = True
    user.save()
    c = Client()
    assert password_step(c, "sg-new-fp").status_code == 302
    setup = reverse("core:twofactor_setup")
    for path in ("/", reverse("core:tokens"), "/admin/", "/cui/incidents/"):
        resp = c.get(path)
        assert resp.status_code == 302, path
        assert resp["Location"] == setup, path
    api = c.get("/api/core/me")
    assert api.status_code == 403
    assert api.json()["enrol"] == setup
    created = c.post(
        "/api/sharedapp/dossiers", {"title": "before enrolment"}, content_type="application/json"
    )
    assert created.status_code == 403
    assert c.get(setup).status_code == 200
    # No token for them, and one minted earlier (before the role required 2FA) stops working.
    with pytest.raises(TokenRefused):
        issue_token(user, "early")
    user.membership.roles.remove(Role.objects.get(slug="focal_point"))
    _tok, raw = issue_token(user, "early")
    user.membership.roles.add(Role.objects.get(slug="focal_point"))
    token_call = Client().get("/api/core/me", headers={"Authorization": f"Bearer {raw}"})
    assert token_call.status_code == 401
    # Log-out still works.
    assert c.post(reverse("core:logout")).status_code == 302


@pytest.mark.django_db
def test_admin_login_goes_through_the_platform_login(sg: Organisation) -> None:
    resp = Client().get("/admin/login/?next=/admin/")
    assert resp.status_code == 302
    assert resp["Location"] == reverse("core:login") + "?next=/admin/"
    # A superuser's password alone does not reach the admin: the second factor is asked first.
    admin = with_password(make_user("sg-root", sg, ["org_admin"]))
    admin.is_staff = admin.is_superuser = True
    admin.save()
    c = Client()
    posted = c.post(
        "/admin/login/?next=/admin/", {"username": "sg-root", "password": PASSWORD}, follow=False
    )
    assert posted.status_code == 302  # redirected, not logged in
    assert "_auth_user_id" not in c.session
    assert password_step(c, "sg-root")["Location"] == reverse("core:login_totp")
    assert c.get("/admin/").status_code == 302
    code_step(c, pyotp.TOTP(admin.membership.totp_secret).now())
    assert c.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_secret_is_shown_once_and_replacing_it_needs_password_and_code(
    sg: Organisation,
) -> None:
    user = with_password(make_user("sg-once", sg, ["focal_point"]))
    m = Membership.objects.get(user=user)
    old_secret = m.totp_secret
    c = Client()
    c.force_login(user)
    page = c.get(reverse("core:twofactor_setup")).content.decode()
    assert old_secret not in page
    assert 'name="password"' in page
    # A stolen session without the password gets nothing.
    refused = c.post(
        reverse("core:twofactor_setup"),
        {"password": "not-the-password", "code": pyotp.TOTP(old_secret).now()},
    )
    assert "The password or the code is not right" in refused.content.decode()
    m.refresh_from_db()
    assert m.totp_secret == old_secret
    # Password and a current code: a new secret is shown, the old one holds until confirmed.
    shown = c.post(
        reverse("core:twofactor_setup"),
        {"password": PASSWORD, "code": pyotp.TOTP(old_secret).now()},
    ).content.decode()
    m.refresh_from_db()
    assert m.totp_secret == old_secret
    assert m.totp_confirmed
    new_secret = c.session["mufakat_reenrol_secret"]
    assert new_secret in shown
    assert new_secret != old_secret
    resp = c.post(
        reverse("core:twofactor_setup"),
        {"confirm": "1", "code": pyotp.TOTP(new_secret).now()},
    )
    assert resp.status_code == 302
    m.refresh_from_db()
    assert m.totp_secret == new_secret
    assert m.totp_confirmed
    assert new_secret not in c.get(reverse("core:twofactor_setup")).content.decode()
    assert AuditEntry.objects.filter(
        action="two_factor", message="two-factor device replaced"
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_one_code_logs_in_once_when_sessions_race() -> None:
    sg = Organisation.objects.get(code="SG")
    user = make_user("sg-race", sg, ["focal_point"])
    m = Membership.objects.get(user=user)
    code = pyotp.TOTP(m.totp_secret).now()
    n = 6
    barrier = threading.Barrier(n)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            # Each thread reads the membership as its own session would, before anyone writes.
            mine = Membership.objects.get(pk=m.pk)
            barrier.wait()
            ok = twofactor.check_code(mine, code)
            with lock:
                results.append(ok)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == n
    assert results.count(True) == 1
    m.refresh_from_db()
    assert not twofactor.check_code(m, code)  # and spent for anyone after
