"""Core API: who am I, organisations, sharing groups, inbox, audit."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from mufakat.core.accounts import twofactor
from mufakat.core.ai.api import router as ai_router
from mufakat.core.ai.provenance import shared_model
from mufakat.core.audit.log import verify
from mufakat.core.choices import Action
from mufakat.core.filtering import filtered
from mufakat.core.filtersets import AuditEntryFilterSet, NotificationFilterSet
from mufakat.core.models import AuditEntry, Notification, Organisation, SharingGroup, user_org
from mufakat.core.notifications import inbox as box
from mufakat.core.schemas import (
    AuditEntryOut,
    AuditVerifyOut,
    MeOut,
    NotificationOut,
    OrganisationOut,
    ReadAllOut,
    ShareIn,
    ShareOut,
    SharingGroupIn,
    SharingGroupOut,
)
from mufakat.core.sharing import queries, services
from mufakat.core.views import audit_queryset

router = Router(tags=["core"])
router.add_router("/ai/", ai_router)


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    m = getattr(request.user, "membership", None)
    org = user_org(request.user)
    return MeOut(
        username=request.user.get_username(),
        organisation=OrganisationOut.from_orm(org) if org else None,
        roles=sorted(m.role_slugs()) if m else [],
        two_factor=twofactor.has_two_factor(request.user),
    )


@router.get("/organisations", response=list[OrganisationOut])
def list_organisations(request: HttpRequest) -> list[Organisation]:
    return list(queries.organisations())


def _group_out(g: SharingGroup) -> SharingGroupOut:
    return SharingGroupOut(
        id=g.pk,
        name=g.name,
        description=g.description,
        owner=g.owner_org.code,
        members=sorted(o.code for o in g.members.all()),
    )


@router.get("/sharing-groups", response=list[SharingGroupOut])
def list_sharing_groups(request: HttpRequest) -> list[SharingGroupOut]:
    qs = (
        queries.sharing_groups_for(request.user)
        .select_related("owner_org")
        .prefetch_related("members")
    )
    return [_group_out(g) for g in qs]


@router.get("/sharing-groups/{group_id}", response=SharingGroupOut)
def get_sharing_group(request: HttpRequest, group_id: int) -> SharingGroupOut:
    """A group your organisation owns or is in; any other answers 404, like a missing id."""
    g = (
        queries.sharing_groups_for(request.user)
        .select_related("owner_org")
        .prefetch_related("members")
        .filter(pk=group_id)
        .first()
    )
    if g is None:
        raise Http404
    return _group_out(g)


@router.post("/sharing-groups", response={201: SharingGroupOut})
def create_sharing_group(request: HttpRequest, payload: SharingGroupIn) -> Status[SharingGroupOut]:
    codes = {c.upper() for c in payload.member_codes}
    members = list(Organisation.objects.filter(code__in=codes))
    unknown = codes - {o.code for o in members}
    if unknown:
        raise ValidationError(
            {"member_codes": f"unknown organisation codes: {', '.join(sorted(unknown))}"}
        )
    g = services.create_sharing_group(
        request.user, name=payload.name, description=payload.description, members=members
    )
    return Status(201, _group_out(g))


@router.get("/notifications", response=list[NotificationOut])
@paginate
@filtered(NotificationFilterSet)
def list_notifications(
    request: HttpRequest, filters: NotificationFilterSet
) -> QuerySet[Notification]:
    return filters.narrow(box.inbox(request.user))


@router.post("/notifications/read-all", response=ReadAllOut)
@filtered(NotificationFilterSet)
def read_all_notifications(request: HttpRequest, filters: NotificationFilterSet) -> ReadAllOut:
    """Mark read every alert in the inbox that the filters select."""
    return ReadAllOut(marked=box.mark_all_read(request.user, filters.inbox_filter()))


@router.post("/notifications/{notification_id}/read", response=NotificationOut)
def read_notification(request: HttpRequest, notification_id: int) -> Notification:
    n = box.mark_read(request.user, notification_id)
    if n is None:
        raise Http404
    return n


@router.get("/audit", response=list[AuditEntryOut])
@paginate
@filtered(AuditEntryFilterSet)
def list_audit(request: HttpRequest, filters: AuditEntryFilterSet) -> QuerySet[AuditEntry]:
    return filters.narrow(audit_queryset(request.user))


@router.get("/audit/verify", response=AuditVerifyOut)
def verify_audit(request: HttpRequest) -> AuditVerifyOut:
    if (
        not hasattr(request.user, "membership")
        or not request.user.membership.roles.filter(slug="platform_admin").exists()
    ):
        raise Http404
    r = verify()
    return AuditVerifyOut(
        ok=r.ok, checked=r.checked, first_bad_seq=r.first_bad_seq, reason=r.reason
    )


@router.post("/records/{type_label}/{record_id}/share", response=ShareOut)
def share_record(
    request: HttpRequest, type_label: str, record_id: int, payload: ShareIn
) -> ShareOut:
    """Change who any shared record (`app_label.model_name`) is released to, as the share panel
    does; 404 unless the caller may share it. Unapproved AI output keeps the new audience but
    reaches it only once a person approves it."""
    model = shared_model(type_label)
    obj = queries.access(model, request.user, record_id, Action.SHARE)
    codes = {c.upper() for c in payload.shared_with}
    named = list(Organisation.objects.filter(code__in=codes))
    unknown = codes - {o.code for o in named}
    if unknown:
        raise ValidationError(
            {"shared_with": f"unknown organisation codes: {', '.join(sorted(unknown))}"}
        )
    group = None
    if payload.sharing_group_id is not None:
        # Scoped look-up: a group the caller is not in reads exactly like a missing one.
        group = queries.sharing_groups_for(request.user).filter(pk=payload.sharing_group_id).first()
        if group is None:
            raise ValidationError({"sharing_group_id": "no such sharing group"})
    services.set_sharing(
        request.user,
        obj,
        distribution=payload.distribution,
        tlp=payload.tlp,
        shared_with=named,
        sharing_group=group,
    )
    obj.refresh_from_db()
    return ShareOut(
        type=type_label.lower(),
        id=obj.pk,
        distribution=obj.distribution,
        tlp=obj.tlp,
        shared_with=sorted(o.code for o in obj.shared_with.all()),
        sharing_group_id=obj.sharing_group_id,
    )


router.add_router("", "mufakat.core.jobs.api.router")
