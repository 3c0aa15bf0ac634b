"""Reading jobs: a user sees their own; an organisation admin also those of their organisation."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from mufakat.core.choices import RoleSlug
from mufakat.core.jobs.models import Job
from mufakat.core.tenancy.models import role_slugs, user_org


def visible_jobs(user: Any) -> QuerySet[Job]:
    if not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    scope = Q(owner=user)
    org = user_org(user)
    if org is not None and RoleSlug.ORG_ADMIN in role_slugs(user):
        scope |= Q(organisation=org)
    return Job.objects.filter(scope).select_related("owner")


def get_job(user: Any, pk: int) -> Job:
    """One job the user may see; another user's answers 404, like a missing one."""
    if not 0 < pk < 2**63:  # beyond the database's integers: missing, not an overflow error
        raise Http404
    job = visible_jobs(user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job
