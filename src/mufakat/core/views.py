"""Core pages: log-in with second factor, home, map, inbox, sharing groups, audit log, tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
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
from mufakat.core.filtersets import AuditEntryFilterSet
from mufakat.core.forms import ReenrolForm, SharingGroupForm, TokenForm, TotpForm
from mufakat.core.models import (
    ApiToken,
    AuditEntry,
    membership_of,
    role_slugs,
    user_org,
)
from mufakat.core.notifications.inbox import inbox
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
        elif core_auth.record_failure(
            user.get_username(), request.META.get("REMOTE_ADDR"), second_factor=True
        ):
            form.add_error(None, _("Too many failed attempts. Try again later."))
        else:
            form.add_error("code", _("That code is not valid. Codes change every 30 seconds."))
    return render(request, "core/login_totp.html", {"form": form})


REENROL_SECRET = "mufakat_reenrol_secret"  # noqa: S105 - a session key name


@login_required
def twofactor_setup(request: HttpRequest) -> HttpResponse:
    """First enrolment shows a fresh secret; once enrolled, the secret is never shown again.

    Replacing the device needs the password and a current code; the new secret is kept in the
    session (not on the account) until a code from it confirms it, so the old factor holds
    until then and a stolen session alone never yields a working second factor.
    """
    membership = getattr(request.user, "membership", None)
    if membership is None:
        raise Http404
    if membership.totp_confirmed and membership.totp_secret:
        return _reenrol(request, membership)
    if not membership.totp_secret or request.method == "GET":
        twofactor.start_enrolment(membership)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.confirm_enrolment(membership, form.cleaned_data["code"]):
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("core:home")
        form.add_error(
            "code", _("That code is not valid. Check the time on your device and try again.")
        )
    return _enrolment_page(request, form, membership.user.get_username(), membership.totp_secret)


def _enrolment_page(request: HttpRequest, form: Any, username: str, secret: str) -> HttpResponse:
    uri = twofactor.provisioning_uri_for(username, secret)
    return render(
        request,
        "core/twofactor_setup.html",
        {
            "form": form,
            "qr": twofactor.qr_svg(uri),
            "secret": secret,
            "required": twofactor.requires_two_factor(request.user),
        },
    )


def _reenrol(request: HttpRequest, membership: Any) -> HttpResponse:
    username = request.user.get_username()
    pending = request.session.get(REENROL_SECRET)
    if pending and request.method == "POST" and "confirm" in request.POST:
        form = TotpForm(request.POST)
        if form.is_valid() and twofactor.replace_secret(
            membership, pending, form.cleaned_data["code"]
        ):
            request.session.pop(REENROL_SECRET, None)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("core:home")
        form.add_error(
            "code", _("That code is not valid. Check the time on your device and try again.")
        )
        return _enrolment_page(request, form, username, pending)
    proof = ReenrolForm(request.POST or None)
    if request.method == "POST" and proof.is_valid():
        ip = request.META.get("REMOTE_ADDR")
        if core_auth.is_locked(username, ip):
            proof.add_error(None, _("Too many failed attempts. Try again later."))
        elif request.user.check_password(proof.cleaned_data["password"]) and twofactor.check_code(
            membership, proof.cleaned_data["code"]
        ):
            secret = twofactor.new_secret()
            request.session[REENROL_SECRET] = secret
            return _enrolment_page(request, TotpForm(), username, secret)
        else:
            core_auth.record_failure(username, ip, second_factor=True)
            proof.add_error(None, _("The password or the code is not right."))
    return render(request, "core/twofactor_reenrol.html", {"form": proof})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    m = membership_of(request.user)
    return render(
        request,
        "core/home.html",
        {
            "membership": m,
            "roles": m.roles.all() if m else [],
            "notifications": inbox(request.user)[:8],
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
def sharing_groups(request: HttpRequest) -> HttpResponse:
    may_create = services.may_manage_sharing_groups(request.user)
    if request.method == "POST" and not may_create:
        raise PermissionDenied(_("Your role cannot create sharing groups."))
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
        {"form": form, "groups": groups, "org": user_org(request.user), "may_create": may_create},
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
    fs = AuditEntryFilterSet(
        request.GET or None, audit_queryset(request.user).select_related("org"), request=request
    )
    qs = fs.qs  # nothing when a value is invalid
    if fs.is_bound and {"since", "until"} & set(fs.errors):
        messages.error(request, _("Dates are written YYYY-MM-DD."))
    # What the reader typed, to show back in the form.
    f = {k: request.GET.get(k, "").strip() for k in fs.base_filters}
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
        try:
            _tok, new_token = core_auth.issue_token(
                request.user, form.cleaned_data["name"], form.cleaned_data["days"]
            )
        except core_auth.TokenRefused as exc:
            form.add_error(None, str(exc))
        else:
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
    if not core_auth.revoke_own_token(request.user, pk):
        raise Http404
    messages.success(request, _("Token revoked."))
    return redirect("core:tokens")
