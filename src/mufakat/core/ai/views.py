"""The approval queue page: every pending AI output of every module, approve or reject."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mufakat.core.ai import provenance
from mufakat.core.choices import Action
from mufakat.core.sharing import queries, services
from mufakat.core.sharing.querysets import has_grant


def may_approve_any(user: Any) -> bool:
    """Whether the user holds the approve grant on at least one shared record type."""
    return any(has_grant(user, m, Action.APPROVE) for m in provenance.shared_models())


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Why it is rejected")}),
    )


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    if not may_approve_any(request.user):
        raise Http404
    return render(
        request,
        "core/ai/approvals.html",
        {"items": provenance.pending(request.user), "reject_form": RejectForm()},
    )


@login_required
@require_POST
def decide(request: HttpRequest, label: str, pk: int, decision: str) -> HttpResponse:
    """Approve or reject one output; HTMX swaps its row for the outcome."""
    if decision not in {"approve", "reject"}:
        raise Http404
    model = provenance.shared_model(label)
    obj = queries.access(model, request.user, pk, Action.APPROVE)
    error = done = ""
    try:
        if decision == "approve":
            services.approve_ai_output(request.user, obj)
            done = _("Approved for sharing: %(what)s.") % {"what": obj}
        else:
            form = RejectForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Say why the AI output is rejected."))
            services.reject_ai_output(request.user, obj, reason=form.cleaned_data["reason"])
            done = _("Rejected: %(what)s.") % {"what": obj}
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if _is_htmx(request):
        return render(
            request,
            "core/ai/approvals.html#outcome",
            {"error": error, "done": done, "label": label, "pk": pk},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("core:ai_approvals")
