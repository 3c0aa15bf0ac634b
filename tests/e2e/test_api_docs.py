"""/api/docs works on a site with no internet: Swagger UI comes from local static files and
obeys the CSP."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_operations_with_the_network_blocked(
    page: Page, live_server: Any
) -> None:
    blocked: list[str] = []
    problems: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).hostname in {"localhost", "127.0.0.1"}:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    def console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            problems.append(msg.text)

    page.route("**/*", offline)
    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Mufakat API")
    ops = page.locator(".opblock-summary-path")
    expect(ops.first).to_be_visible()
    assert ops.count() > 20
    expect(
        page.locator(".opblock-summary-path", has_text="/api/cui/incidents").first
    ).to_be_visible()
    # Open one operation: its parameters are rendered from the local schema.
    page.locator(".opblock-summary", has_text="/api/cui/impact").first.click()
    expect(page.locator(".parameters").first).to_contain_text("radius_km")
    assert blocked == []
    assert problems == []
