"""Template tags modules put on their record pages: the AI label and the sharing panel."""

from __future__ import annotations

from typing import Any

from django import template

from mufakat.core.models import SharedRecord

register = template.Library()


@register.inclusion_tag("core/_ai_label.html", takes_context=True)
def ai_label(context: dict[str, Any], obj: SharedRecord) -> dict[str, Any]:
    """'AI-generated — awaiting approval' or 'approved by …', with provenance; empty otherwise."""
    from mufakat.core.sharing.views import ai_label_context

    return {**ai_label_context(context["request"], obj), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("core/_sharing.html", takes_context=True)
def sharing_panel(context: dict[str, Any], obj: SharedRecord) -> dict[str, Any]:
    """Current distribution and marking; the change form when the user holds the share right."""
    from mufakat.core.sharing.views import sharing_context

    return {**sharing_context(context["request"], obj), "csrf_token": context.get("csrf_token")}


@register.simple_tag(takes_context=True)
def sharing_group_name(context: dict[str, Any], obj: SharedRecord) -> str:
    from mufakat.core.sharing.queries import group_name_for

    return group_name_for(obj, context["request"].user)
