"""Organisation admins manage their own organisation's members and roles."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mufakat.core.models import (
    Membership,
    ObjectPermission,
    Role,
    user_org,
)
from mufakat.core.tenancy import services as tenancy_services


class MemberRolesForm(forms.Form):
    roles = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Roles"),
        queryset=tenancy_services.assignable_roles(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class NewMemberForm(MemberRolesForm):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    password = forms.CharField(
        label=gettext_lazy("Initial password"),
        widget=forms.PasswordInput(render_value=False),
        min_length=12,
    )

    field_order = ["username", "email", "password", "roles"]


def _members_page(request: HttpRequest, new_form: NewMemberForm, status: int = 200) -> HttpResponse:
    org = user_org(request.user)
    members = (
        Membership.objects.filter(organisation=org)
        .select_related("user")
        .prefetch_related("roles")
        .order_by("user__username")
    )
    rows = [
        (m, MemberRolesForm(initial={"roles": list(m.roles.all())}, prefix=f"m{m.pk}"))
        for m in members
    ]
    grants = {
        role: list(
            ObjectPermission.objects.filter(roles=role, enabled=True).prefetch_related(
                "object_types"
            )
        )
        for role in Role.objects.all()
    }
    return render(
        request,
        "core/org_members.html",
        {"org": org, "rows": rows, "grants": grants, "new_form": new_form},
        status=status,
    )


@login_required
def org_members(request: HttpRequest) -> HttpResponse:
    """Organisation admins see and manage the accounts and roles of their own organisation."""
    if not tenancy_services.is_org_admin(request.user):
        raise Http404
    form = NewMemberForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                tenancy_services.create_member(
                    request.user,
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    roles=form.cleaned_data["roles"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error("password", exc)
            else:
                messages.success(request, _("Account created."))
                return redirect("core:org_members")
        return _members_page(request, form, status=422)
    return _members_page(request, form)


@login_required
@require_POST
def org_member_roles(request: HttpRequest, pk: int) -> HttpResponse:
    if not tenancy_services.is_org_admin(request.user):
        raise Http404
    membership = (
        Membership.objects.filter(pk=pk, organisation=user_org(request.user))
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    form = MemberRolesForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            tenancy_services.set_member_roles(request.user, membership, form.cleaned_data["roles"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("Roles of %(user)s updated.") % {"user": membership.user.username}
            )
    else:
        messages.error(request, _("Choose roles from the list."))
    return redirect("core:org_members")
