"""The shell in a real browser: log in, the offline map with the member states, the language."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mufakat.core.models import Organisation
from mufakat.core.tenancy.demo import DEMO_PASSWORD, ensure_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set MUFAKAT_SCREENSHOTS=folder to keep a picture of each page for a human to look at.
SHOTS = os.environ.get("MUFAKAT_SCREENSHOTS")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def log_in(page: Page, live_server: Any, username: str = "vn-analyst") -> None:
    ensure_user(Organisation.objects.get(code="VN"), username, ["analyst", "reporter"])
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    shot(page, "login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Welcome, {username}")


def test_log_in_and_see_home(page: Page, live_server: Any) -> None:
    log_in(page, live_server)
    expect(page.locator(".topbar .who")).to_contain_text("VN")
    expect(page.get_by_role("link", name="Common map")).to_be_visible()
    shot(page, "home")


def test_wrong_password_is_refused_politely(page: Page, live_server: Any) -> None:
    ensure_user(Organisation.objects.get(code="VN"), "vn-viewer", ["viewer"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("vn-viewer")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    shot(page, "login-error")


def test_map_draws_the_eleven_member_states(page: Page, live_server: Any) -> None:
    log_in(page, live_server)
    page.get_by_role("link", name="Map", exact=True).click()
    container = page.locator("#map")
    expect(container).to_have_class(
        "map leaflet-container leaflet-touch leaflet-fade-anim leaflet-grab leaflet-touch-drag leaflet-touch-zoom basemap-ready"
    )
    expect(container).to_have_attribute("data-basemap-features", "11")
    expect(page.locator("#map canvas").first).to_be_visible()
    shot(page, "map")


def test_switching_language_translates_the_shell(page: Page, live_server: Any) -> None:
    log_in(page, live_server)
    page.locator("#lang-select").select_option("vi")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    expect(page.get_by_role("link", name="Bản đồ", exact=True)).to_be_visible()
    shot(page, "home-vi")
    page.locator("#lang-select").select_option("id")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    expect(page.get_by_role("link", name="Peta", exact=True)).to_be_visible()
    shot(page, "home-id")


def test_create_a_sharing_group_from_the_page(page: Page, live_server: Any) -> None:
    log_in(page, live_server)
    page.get_by_role("link", name="Sharing groups").click()
    page.get_by_label("Name").fill("Mekong flood liaison")
    page.get_by_label("Description").fill("Riparian states of the lower Mekong.")
    for name in ("Cambodia", "Laos", "Thailand"):
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text("Sharing group created.")
    row = page.locator("tr", has_text="Mekong flood liaison")
    expect(row).to_contain_text("VN")
    for code in ("KH", "LA", "TH"):
        expect(row.locator(".org-chip", has_text=code)).to_be_visible()
    shot(page, "sharing-groups")
