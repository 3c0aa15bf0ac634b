"""The platform's own roles. Modules declare theirs in their ModuleSpec (core.registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mufakat.core.choices import RoleSlug
from mufakat.core.spec import Grant, RoleSpec

PLATFORM_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(RoleSlug.VIEWER, _("Viewer"), "Reads what is shared with the organisation."),
    RoleSpec(RoleSlug.REPORTER, _("Reporter"), "Files reports and edits their own."),
    RoleSpec(
        RoleSlug.ANALYST, _("Analyst"), "Files, edits and exports the organisation's records."
    ),
    RoleSpec(
        RoleSlug.FOCAL_POINT,
        _("Focal point"),
        "Releases records to other states, approves AI outputs, receives alerts.",
        two_factor=True,
        tlp_red=True,
    ),
    RoleSpec(
        RoleSlug.ORG_ADMIN,
        _("Organisation admin"),
        "Manages the organisation's users, groups and webhooks.",
        two_factor=True,
        tlp_red=True,
    ),
    RoleSpec(
        RoleSlug.PLATFORM_ADMIN,
        _("Platform admin"),
        "Operates the platform: reference data and the audit log.",
        two_factor=True,
        org_assignable=False,
    ),
)

# The usual grants of the platform roles on a module's shared record type, for modules whose
# records follow the common pattern (cui's incidents, the test module's dossiers). A module
# spells out its own grants; this only saves it from repeating the common table.
ALL_ACTIONS = ("view", "add", "change", "delete", "share", "export", "approve")
STANDARD_RECORD_GRANTS: tuple[tuple[str, tuple[str, ...], dict[str, str] | None], ...] = (
    (RoleSlug.VIEWER, ("view",), None),
    (RoleSlug.REPORTER, ("view", "add"), None),
    (RoleSlug.REPORTER, ("change",), {"created_by": "$user"}),
    (RoleSlug.ANALYST, ("view", "add", "change", "export"), None),
    (RoleSlug.FOCAL_POINT, ALL_ACTIONS, None),
    (RoleSlug.ORG_ADMIN, ALL_ACTIONS, None),
    (RoleSlug.PLATFORM_ADMIN, ("view",), None),
)


def standard_grants(model: str) -> tuple[Grant, ...]:
    """The common table above for one model ("app_label.ModelName")."""
    return tuple(Grant(role, model, actions, c) for role, actions, c in STANDARD_RECORD_GRANTS)
