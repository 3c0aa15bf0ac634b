"""Enumerations shared by every module."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    MEMBER = "member", _("ASEAN member state")
    PARTNER = "partner", _("ADMM-Plus partner")
    SECRETARIAT = "secretariat", _("ASEAN Secretariat")


class Distribution(models.TextChoices):
    """Who a record is released to; widening from top to bottom (MISP distribution levels)."""

    ORGANISATION = "org", _("Own organisation only")
    NAMED = "named", _("Named organisations")
    GROUP = "group", _("Sharing group")
    ASEAN = "asean", _("All ASEAN member states")
    ASEAN_PLUS = "asean_plus", _("ASEAN and ADMM-Plus partners")
    PUBLIC = "public", _("Public")


class TLP(models.TextChoices):
    """Traffic Light Protocol 2.0 marking; a ceiling on who may receive the record."""

    CLEAR = "clear", "TLP:CLEAR"
    GREEN = "green", "TLP:GREEN"
    AMBER = "amber", "TLP:AMBER"
    AMBER_STRICT = "amber_strict", "TLP:AMBER+STRICT"
    RED = "red", "TLP:RED"


# The widest distribution each marking allows. Saving a record wider than this is refused, and the
# sharing predicate intersects both anyway (markings restrict, distribution widens).
TLP_MAX_DISTRIBUTION: dict[str, str] = {
    TLP.CLEAR: Distribution.PUBLIC,
    TLP.GREEN: Distribution.ASEAN_PLUS,
    TLP.AMBER: Distribution.GROUP,
    TLP.AMBER_STRICT: Distribution.NAMED,
    TLP.RED: Distribution.NAMED,
}

DISTRIBUTION_ORDER: list[str] = [d.value for d in Distribution]

TLP_COLOURS: dict[str, str] = {
    TLP.CLEAR: "#ffffff",
    TLP.GREEN: "#33ff00",
    TLP.AMBER: "#ffc000",
    TLP.AMBER_STRICT: "#ffc000",
    TLP.RED: "#ff2b2b",
}


class Action(models.TextChoices):
    VIEW = "view", _("View")
    ADD = "add", _("Add")
    CHANGE = "change", _("Change")
    DELETE = "delete", _("Delete")
    SHARE = "share", _("Share")
    EXPORT = "export", _("Export")
    APPROVE = "approve", _("Approve AI output")


class RoleSlug(models.TextChoices):
    """The platform's roles (core.tenancy.roles); modules declare their own in their ModuleSpec,
    so a role slug is any string, and these names only spare core code from spelling them."""

    VIEWER = "viewer", _("Viewer")
    REPORTER = "reporter", _("Reporter")
    ANALYST = "analyst", _("Analyst")
    FOCAL_POINT = "focal_point", _("Focal point")
    ORG_ADMIN = "org_admin", _("Organisation admin")
    PLATFORM_ADMIN = "platform_admin", _("Platform admin")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    SHARE = "share", _("Share")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    GENERATE = "generate", _("AI generation")
    LOGIN = "login", _("Log in")
    LOGIN_FAILED = "login_failed", _("Failed log-in")
    LOGOUT = "logout", _("Log out")
    LOCKOUT = "lockout", _("Account locked")
    TOKEN = "token", _("API token")
    TWO_FACTOR = "two_factor", _("Two-factor change")
