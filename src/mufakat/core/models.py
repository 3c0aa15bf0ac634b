"""The core app's models, defined by concern in its subpackages and collected here so
Django registers them (and so `from mufakat.core.models import X` names one place)."""

from __future__ import annotations

from mufakat.core.accounts.models import (
    ApiToken,
    LoginFailure,
)
from mufakat.core.ai.models import (
    AIProvenance,
)
from mufakat.core.audit.models import (
    AuditEntry,
    AuditHead,
)
from mufakat.core.jobs.models import Job, JobStatus
from mufakat.core.notifications.models import (
    Delivery,
    Mute,
    Notification,
    Subscription,
    Webhook,
)
from mufakat.core.sharing.models import (
    PrivateRecord,
    ReferenceData,
    SharedRecord,
    SharingGroup,
)
from mufakat.core.tenancy.models import (
    AccessVersion,
    Membership,
    ObjectPermission,
    Organisation,
    Role,
    membership_of,
    role_slugs,
    user_org,
)

__all__ = [
    "AIProvenance",
    "AccessVersion",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Delivery",
    "Job",
    "JobStatus",
    "LoginFailure",
    "Membership",
    "Mute",
    "Notification",
    "ObjectPermission",
    "Organisation",
    "PrivateRecord",
    "ReferenceData",
    "Role",
    "SharedRecord",
    "SharingGroup",
    "Subscription",
    "Webhook",
    "membership_of",
    "role_slugs",
    "user_org",
]
