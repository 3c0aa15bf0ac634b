"""The AI approval queue in a real browser: the nav entry, approve, reject with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect
from tests.e2e.test_shell import shot
from tests.sharedapp.models import Dossier

from mufakat.core.ai.provenance import Call, attach
from mufakat.core.models import AIProvenance, Organisation
from mufakat.core.sharing import services
from mufakat.core.sharing.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ai_dossier(author: Any, title: str) -> Dossier:
    row = Call("llm:smollm2-135m", "smollm2-135m", "dossier/1", {}, author, "e" * 64).save(
        outcome="ok", schema_mode="json_object", schema_enforced=True
    )
    d = services.guarded_write(author, Dossier(title=title, ai_generated=True), "add")
    attach(d, row, requested_by=author)
    return d


def test_focal_point_approves_and_rejects_in_the_queue(page: Page, live_server: Any) -> None:
    sg = Organisation.objects.get(code="SG")
    analyst = make_user("sg-writer", sg, ["analyst"])
    keep = ai_dossier(analyst, "Port status summary")
    drop = ai_dossier(analyst, "Invented convoy")
    focal = make_user("sg-approver", sg, ["focal_point"])
    c = Client()
    c.force_login(focal)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": c.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="AI approvals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AI output awaiting approval")
    shot(page, "ai-queue")
    row_drop = page.locator(f'tr[data-pk="{drop.pk}"]')
    expect(row_drop).to_contain_text("dossier/1")
    row_drop.get_by_label("Reason").fill("Convoy never existed")
    row_drop.get_by_role("button", name="Reject").click()
    expect(page.locator(f'tr.ai-outcome[data-pk="{drop.pk}"]')).to_contain_text(
        "Rejected: Invented convoy."
    )
    page.locator(f'tr[data-pk="{keep.pk}"]').get_by_role(
        "button", name="Approve for sharing"
    ).click()
    expect(page.locator(f'tr.ai-outcome[data-pk="{keep.pk}"]')).to_contain_text(
        "Approved for sharing: Port status summary."
    )
    shot(page, "ai-queue-decided")
    keep.refresh_from_db()
    assert keep.ai_approved_by == focal
    assert AIProvenance.objects.get(object_id=str(drop.pk)).rejection_reason == (
        "Convoy never existed"
    )
    page.reload()
    expect(page.locator("#ai-queue-empty")).to_be_visible()
