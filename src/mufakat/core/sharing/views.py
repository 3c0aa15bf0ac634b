"""Generic sharing pages every module reuses: share a record, approve AI output.

Records are addressed by app label, model name and primary key; the model must be a shared
record and the lookup goes through restrict() for the action, so a record the user may not act
on answers 404 exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mufakat.core.forms import SharingForm
from mufakat.core.models import (
    AIProvenance,
    SharedRecord,
)
from mufakat.core.sharing import queries, services


def shared_model(app_label: str, model_name: str) -> type[SharedRecord]:
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        raise Http404 from None
    if not issubclass(model, SharedRecord):
        raise Http404
    return model


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next") or request.headers.get("Referer", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def sharing_context(request: HttpRequest, obj: SharedRecord, form: Any = None) -> dict[str, Any]:
    """What the sharing panel shows: the current release, and a form if the user may share."""
    user = request.user
    can_share = queries.can(user, obj, "share")
    if can_share and form is None:
        form = SharingForm(
            initial={
                "distribution": obj.distribution,
                "tlp": obj.tlp,
                "shared_with": list(obj.shared_with.all()),
                "sharing_group": getattr(obj, "sharing_group_id", None),
            },
            groups=queries.sharing_groups_for(user),
        )
    meta = obj._meta
    return {
        "obj": obj,
        "can_share": can_share,
        "form": form,
        "named": list(obj.shared_with.all()),
        "group_name": queries.group_name_for(obj, user),
        "app_label": meta.app_label,
        "model_name": meta.model_name,
    }


@login_required
def share(request: HttpRequest, app_label: str, model: str, pk: int) -> HttpResponse:
    """Show or change a record's distribution and TLP marking (HTMX partial or full page)."""
    model_cls = shared_model(app_label, model)
    obj = queries.access(model_cls, request.user, pk, "share")
    form = None
    status = 200
    if request.method == "POST":
        form = SharingForm(request.POST, groups=queries.sharing_groups_for(request.user))
        if form.is_valid():
            try:
                services.set_sharing(
                    request.user,
                    obj,
                    distribution=form.cleaned_data["distribution"],
                    tlp=form.cleaned_data["tlp"],
                    shared_with=form.cleaned_data["shared_with"],
                    sharing_group=form.cleaned_data["sharing_group"],
                )
            except ValidationError as exc:
                obj.refresh_from_db()
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                status = 422 if not _is_htmx(request) else 200
            else:
                messages.success(request, _("Sharing updated."))
                form = None
                if not _is_htmx(request):
                    return _back(request, request.path)
        else:
            status = 422 if not _is_htmx(request) else 200
    ctx = sharing_context(request, obj, form)
    template = "core/_sharing.html" if _is_htmx(request) else "core/share.html"
    return render(request, template, ctx, status=status)


def ai_label_context(request: HttpRequest, obj: SharedRecord) -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType

    provenance = list(
        AIProvenance.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).select_related("requested_by", "rejected_by")
    )
    rejected = next((p for p in provenance if p.rejected_at is not None), None)
    meta = obj._meta
    return {
        "obj": obj,
        "provenance": provenance,
        "rejected": rejected,
        "can_approve": obj.awaiting_ai_approval
        and rejected is None
        and queries.can(request.user, obj, "approve"),
        "app_label": meta.app_label,
        "model_name": meta.model_name,
    }


@login_required
@require_POST
def approve_ai(request: HttpRequest, app_label: str, model: str, pk: int) -> HttpResponse:
    """Release an AI output for sharing beyond its organisation (focal point / org admin)."""
    model_cls = shared_model(app_label, model)
    obj = queries.access(model_cls, request.user, pk, "approve")
    try:
        services.approve_ai_output(request.user, obj)
    except ValidationError as exc:
        if _is_htmx(request):
            return HttpResponse(" ".join(exc.messages), status=422)
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("AI output approved for sharing."))
    if _is_htmx(request):
        return render(request, "core/_ai_label.html", ai_label_context(request, obj))
    return _back(request, "/")
