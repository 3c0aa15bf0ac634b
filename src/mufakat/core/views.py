"""Core pages: log-in with second factor, home, map, inbox, sharing groups, audit log, tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mufakat.core import registry
from mufakat.core.accounts import auth as core_auth
from mufakat.core.accounts import twofactor
from mufakat.core.choices import AuditAction, RoleSlug
from mufakat.core.context_processors import module_nav
from mufakat.core.forms import SharingGroupForm, TokenForm, TotpForm
from mufakat.core.models import (
    ApiToken,
    AuditEntry,
    membership_of,
    role_slugs,
    user_org,
)
from mufakat.core.sharing import queries, services

PENDING_2FA = "mufakat_pending_2fa_user"


def _partial(request: HttpRequest) -> bool:
    """An HTMX swap (not a boosted navigation) gets just the partial."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)


class LoginView(auth_views.LoginView):
    """Password first; users with a second factor then prove the TOTP code before the session starts."""

    template_name = "core/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if twofactor.has_two_factor(user):
            self.request.session[PENDING_2FA] = user.pk
            self.request.session["mufakat_next"] = self.get_success_url()
            return redirect("core:login_totp")
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        if getattr(self.request, "mufakat_locked", False):
            form.errors.clear()
            form.add_error(
                None,
                _(
                    "Too many failed attempts. Try again in 15 minutes or ask your organisation admin."
                ),
            )
        return super().form_invalid(form)


def login_totp(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import get_user_model, login

    pk = request.session.get(PENDING_2FA)
    if pk is None:
        return redirect("core:login")
    user = get_user_model().objects.filter(pk=pk, is_active=True).first()
    if user is None:
        return redirect("core:login")
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if core_auth.is_locked(user.get_username(), request.META.get("REMOTE_ADDR")):
            form.add_error(None, _("Too many failed attempts. Try again later."))
        elif twofactor.check_code(user.membership, form.cleaned_data["code"]):
            nxt = request.session.pop("mufakat_next", reverse("core:home"))
            request.session.pop(PENDING_2FA, None)
            login(request, user, backend="mufakat.core.accounts.auth.ThrottledModelBackend")
            return redirect(nxt)
        else:
            from mufakat.core.models import LoginFailure

            LoginFailure.objects.create(
                username=user.get_username(), ip=request.META.get("REMOTE_ADDR")
            )
            form.add_error("code", _("That code is not valid. Codes change every 30 seconds."))
    return render(request, "core/login_totp.html", {"form": form})


@login_required
def twofactor_setup(request: HttpRequest) -> HttpResponse:
    membership = getattr(request.user, "membership", None)
    if membership is None:
        raise Http404
    if not membership.totp_secret or (request.method == "GET" and not membership.totp_confirmed):
        twofactor.start_enrolment(membership)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.confirm_enrolment(membership, form.cleaned_data["code"]):
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("core:home")
        form.add_error(
            "code", _("That code is not valid. Check the time on your device and try again.")
        )
    uri = twofactor.provisioning_uri(membership)
    return render(
        request,
        "core/twofactor_setup.html",
        {
            "form": form,
            "qr": twofactor.qr_svg(uri),
            "secret": membership.totp_secret,
            "required": twofactor.requires_two_factor(request.user),
        },
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    m = membership_of(request.user)
    return render(
        request,
        "core/home.html",
        {
            "membership": m,
            "roles": m.roles.all() if m else [],
            "notifications": queries.inbox(request.user)[:8],
            "modules": module_nav(),
            "two_factor": twofactor.has_two_factor(request.user),
        },
    )


@login_required
def map_view(request: HttpRequest) -> HttpResponse:
    from mufakat.core.context_processors import map_layers

    return render(request, "core/map.html", {"layers": map_layers()})


SEARCH_LIMIT = 10


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Every module's search providers (core.registry), each over what the user may see."""
    q = request.GET.get("q", "").strip()[:200]
    groups = [(p, hits) for p, hits in registry.search(request.user, q, SEARCH_LIMIT) if hits]
    return render(
        request, "core/search.html", {"search_q": q, "groups": groups if q else [], "q": q}
    )


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # readiness reports, never raises
        return JsonResponse({"status": "unavailable", "database": str(exc)[:200]}, status=503)
    if pending:
        return JsonResponse(
            {"status": "unavailable", "pending_migrations": len(pending)}, status=503
        )
    return JsonResponse({"status": "ready", "database": connection.vendor})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    qs = queries.inbox(request.user)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    template = "core/inbox.html#list" if _partial(request) else "core/inbox.html"
    return render(request, template, {"page": page})


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    n = services.mark_read(request.user, pk)
    if n is None:
        raise Http404
    if n.link and not _partial(request):
        return redirect(n.link)
    return render(request, "core/inbox.html#item", {"n": n})


@login_required
def sharing_groups(request: HttpRequest) -> HttpResponse:
    form = SharingGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_sharing_group(
                request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                members=form.cleaned_data["members"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Sharing group created."))
            return redirect("core:sharing_groups")
    groups = (
        queries.sharing_groups_for(request.user)
        .prefetch_related("members")
        .select_related("owner_org")
    )
    return render(
        request,
        "core/sharing_groups.html",
        {"form": form, "groups": groups, "org": user_org(request.user)},
    )


def _can_read_audit(user: Any) -> bool:
    return bool(role_slugs(user) & {RoleSlug.ORG_ADMIN, RoleSlug.PLATFORM_ADMIN})


def audit_queryset(user: Any) -> Any:
    """Admins read their own organisation's entries; nobody reads another state's snapshots."""
    org = user_org(user)
    if org is None or not _can_read_audit(user):
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(org=org)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not _can_read_audit(request.user):
        raise Http404
    qs = audit_queryset(request.user).select_related("org")
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("action", "object_type", "actor", "since", "until", "q")
    }
    if f["action"]:
        qs = qs.filter(action=f["action"])
    if f["object_type"]:
        qs = qs.filter(object_type=f["object_type"])
    if f["actor"]:
        qs = qs.filter(actor_name__icontains=f["actor"])
    if f["q"]:
        qs = qs.filter(object_repr__icontains=f["q"])
    for key, lookup in (("since", "time__date__gte"), ("until", "time__date__lte")):
        if f[key]:
            try:
                qs = qs.filter(**{lookup: f[key]})
            except ValidationError:
                messages.error(request, _("Dates are written YYYY-MM-DD."))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    ctx = {
        "page": page,
        "filters": f,
        "actions": AuditAction.choices,
        "object_types": audit_queryset(request.user)
        .order_by()
        .values_list("object_type", flat=True)
        .distinct(),
    }
    template = "core/audit.html#table" if _partial(request) else "core/audit.html"
    return render(request, template, ctx)


@login_required
def audit_entry(request: HttpRequest, seq: int) -> HttpResponse:
    entry = audit_queryset(request.user).filter(seq=seq).first()
    if entry is None:
        raise Http404
    return render(request, "core/audit_entry.html", {"e": entry})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _tok, new_token = core_auth.issue_token(
            request.user, form.cleaned_data["name"], form.cleaned_data["days"]
        )
        form = TokenForm()
    return render(
        request,
        "core/tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(user_id=request.user.pk or 0),
            "new_token": new_token,
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    deleted, _n = ApiToken.objects.filter(user_id=request.user.pk or 0, pk=pk).delete()
    if not deleted:
        raise Http404
    messages.success(request, _("Token revoked."))
    return redirect("core:tokens")
