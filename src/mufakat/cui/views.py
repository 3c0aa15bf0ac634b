"""CUI pages: map, incident list/search (HTMX), report form, incident page, assets, dashboard,
imports and subscriptions. Reads via cui.queries (restrict()), writes via cui.services."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import conditional_page, require_POST

from mufakat.core.choices import Action
from mufakat.core.sharing.queries import can
from mufakat.cui import exports, queries, services
from mufakat.cui.forms import (
    AttachmentForm,
    IncidentFilterForm,
    IncidentForm,
    StatusForm,
    SubscriptionForm,
    UpdateForm,
    UploadForm,
)
from mufakat.cui.models import (
    ATTRIBUTION,
    AssetKind,
    AssetSource,
    IncidentAttachment,
    LandingPoint,
    Status,
    Subscription,
)

CABLE_ATTRIBUTION = ATTRIBUTION[AssetSource.TELEGEOGRAPHY]
PIPELINE_ATTRIBUTION = ATTRIBUTION[AssetSource.GEM]


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


@login_required
def map_view(request: HttpRequest) -> HttpResponse:
    layers = {
        "cables": reverse("cui:cables_geojson"),
        "pipelines": reverse("cui:pipelines_geojson"),
        "landing_points": reverse("cui:landing_points_geojson"),
        "incidents": reverse("cui:incidents_geojson"),
        "report": reverse("cui:incident_new"),
    }
    return render(
        request,
        "cui/map.html",
        {
            "layers_json": json.dumps(layers),
            "can_report": can_report(request.user),
            "cable_attribution": CABLE_ATTRIBUTION,
            "pipeline_attribution": PIPELINE_ATTRIBUTION,
        },
    )


def can_report(user: Any) -> bool:
    from mufakat.core.sharing.querysets import has_grant
    from mufakat.cui.models import Incident

    return has_grant(user, Incident, Action.ADD)


def _asset_collection(user: Any, kind: str) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            exports.asset_feature(a, for_display=True)
            for a in queries.visible_assets(user).filter(kind=kind)
        ],
    }


def reference_layer(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A map layer of routes: ~0.9 MB of GeoJSON for cables and pipelines together, fetched on
    every map load over links that may be slow. gzip shrinks it several times over; an ETag
    from the content lets a browser that has it answer with a 304 and no body
    (benchmarks/map_payload.py). The layers hold reference data and the reader's own uploads,
    never a secret, so compressing them exposes nothing to BREACH-style guessing; incident
    layers and HTML pages are left uncompressed. Private and revalidated on every use: what a
    reader sees depends on their organisation."""
    return login_required(
        gzip_page(conditional_page(cache_control(private=True, no_cache=True)(view)))
    )


@reference_layer
def cables_geojson(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_asset_collection(request.user, AssetKind.CABLE))


@reference_layer
def pipelines_geojson(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_asset_collection(request.user, AssetKind.PIPELINE))


@reference_layer
def landing_points_geojson(request: HttpRequest) -> JsonResponse:
    # Landing points come only from the TeleGeography import (uploads create none): public.
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lp.lon, lp.lat]},
            "properties": {"name": lp.name, "country": lp.country},
        }
        for lp in LandingPoint.objects.restrict(request.user).exclude(lat__isnull=True)
    ]
    return JsonResponse({"type": "FeatureCollection", "features": feats})


@login_required
def incidents_geojson(request: HttpRequest) -> JsonResponse:
    data = exports.geojson(queries.incidents(request.user))
    for f in data["features"]:
        f["properties"]["url"] = reverse("cui:incident", args=[f["id"]])
    return JsonResponse(data)


def _filter_from(request: HttpRequest) -> tuple[IncidentFilterForm, queries.IncidentFilter]:
    form = IncidentFilterForm(request.GET or None)
    f = queries.IncidentFilter()
    if form.is_valid():
        d = form.cleaned_data
        f = queries.IncidentFilter(
            q=d.get("q") or "",
            incident_type=d.get("incident_type") or "",
            status=d.get("status") or "",
            severity=d.get("severity"),
            state=d.get("state") or "",
            since=d.get("since"),
            until=d.get("until"),
        )
    return form, f


def _page_size(request: HttpRequest, default: int = 25, largest: int = 200) -> int:
    """Rows per page from ?size=, bounded so a page never grows without limit."""
    try:
        return max(1, min(int(request.GET.get("size", default)), largest))
    except ValueError:
        return default


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    form, f = _filter_from(request)
    qs = queries.filter_incidents(queries.incident_rows(request.user), f, request.user)
    page = Paginator(qs, _page_size(request)).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"form": form, "page": page, "query": query.urlencode(), "formats": list(exports.FORMATS)}
    template = "cui/incident_list.html#table" if _partial(request) else "cui/incident_list.html"
    return render(request, template, ctx)


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    if not can_report(request.user):
        raise PermissionDenied(_("Your role cannot file reports."))
    initial = {k: request.GET[k] for k in ("lat", "lon") if k in request.GET}
    form = IncidentForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            inc = services.report_incident(request.user, form.to_input())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("Incident %(ref)s filed; %(n)d state(s) alerted where sharing allows.")
                % {"ref": inc.reference, "n": len(inc.affected_states)},
            )
            return redirect("cui:incident", pk=inc.pk)
    return render(
        request, "cui/incident_form.html", {"form": form}, status=422 if form.errors else 200
    )


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inc = queries.incident(request.user, pk)
    may_change = can(request.user, inc, Action.CHANGE)
    status_form = StatusForm()
    status_form.fields["status"].choices = [(s, Status(s).label) for s in inc.allowed_next()]  # type: ignore[attr-defined]
    speed = request.GET.get("speed")
    try:
        speed_kn = float(speed) if speed else None
        if speed_kn is not None and not 0 < speed_kn <= 40:
            speed_kn = None
    except ValueError:
        speed_kn = None
    ctx = {
        "incident": inc,
        # What this reader may see of the impact and of the asset it was reported on.
        "impact": queries.impact_for(request.user, inc),
        "asset": queries.incident_asset(request.user, inc),
        "updates": inc.updates.select_related("author"),
        "attachments": inc.attachments.all(),
        "may_change": may_change,
        "may_export": can(request.user, inc, Action.EXPORT),
        "status_form": status_form,
        "update_form": UpdateForm(),
        "attachment_form": AttachmentForm(),
        "etas": queries.repair_etas(inc, speed_kn, inc.occurred_at),
        "speed": speed_kn,
        "formats": list(exports.FORMATS),
        "map_json": json.dumps(
            {
                "incident": exports.incident_feature(inc),
                "radius_km": inc.impact_radius_km,
                "assets": [
                    exports.asset_feature(a) for a in queries.incident_assets(request.user, inc)
                ],
            }
        ),
        "cable_attribution": CABLE_ATTRIBUTION,
    }
    return render(request, "cui/incident_detail.html", ctx)


@login_required
@require_POST
def incident_status(request: HttpRequest, pk: int) -> HttpResponse:
    inc = queries.incident(request.user, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid status."))
    else:
        try:
            services.change_status(
                request.user, inc, form.cleaned_data["status"], form.cleaned_data["note"]
            )
            messages.success(request, _("Status changed."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PermissionDenied:
            messages.error(request, _("Only the reporting state may change the status."))
    return redirect("cui:incident", pk=inc.pk)


def _incident_action(
    request: HttpRequest,
    pk: int,
    form: forms.Form,
    *,
    invalid: str,
    done: str,
    action: Callable[[Any, Any, dict[str, Any]], object],
) -> HttpResponse:
    """Run one owner-state write on an incident, report the outcome as a message, redirect back."""
    inc = queries.incident(request.user, pk)
    try:
        if not form.is_valid():
            raise ValidationError(invalid)
        action(request.user, inc, form.cleaned_data)
        messages.success(request, done)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("cui:incident", pk=inc.pk)


@login_required
@require_POST
def incident_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_action(
        request,
        pk,
        UpdateForm(request.POST),
        invalid=_("Write the update first."),
        done=_("Update added."),
        action=lambda user, inc, d: services.add_update(user, inc, d["text"]),
    )


@login_required
@require_POST
def incident_attach(request: HttpRequest, pk: int) -> HttpResponse:
    return _incident_action(
        request,
        pk,
        AttachmentForm(request.POST, request.FILES),
        invalid=_("Choose a file to attach."),
        done=_("File attached."),
        action=lambda user, inc, d: services.add_attachment(user, inc, d["file"]),
    )


@login_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    att = IncidentAttachment.objects.filter(pk=pk).select_related("incident").first()
    if att is None:
        raise Http404
    queries.incident(request.user, att.incident_id)  # 404 unless the incident is visible
    return FileResponse(att.file.open("rb"), as_attachment=True, filename=att.name)


def _export(request: HttpRequest, fmt: str, incidents: list[Any]) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    return exports.response(request.user, fmt, incidents)


@login_required
def incident_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    return _export(request, fmt, [queries.incident(request.user, pk, Action.EXPORT)])


@login_required
def incidents_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _form, f = _filter_from(request)
    qs = queries.filter_incidents(queries.incidents(request.user, Action.EXPORT), f, request.user)
    return _export(request, fmt, list(qs[:1000]))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    stats = queries.dashboard(request.user)
    peak = max([n for _k, n in stats["by_month"]] or [1])
    return render(request, "cui/dashboard.html", {"stats": stats, "peak": peak})


@login_required
def asset_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "")
    page = Paginator(
        queries.assets(request.user, kind if kind in AssetKind.values else "", q).defer(
            *queries.ASSET_LIST_DEFER
        ),
        50,
    ).get_page(request.GET.get("page"))
    template = "cui/asset_list.html#table" if _partial(request) else "cui/asset_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "kind": kind,
            "q": q,
            "kinds": AssetKind.choices,
            "query": f"kind={kind}&q={q}",
        },
    )


@login_required
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    a = queries.asset(request.user, pk)
    history = queries.filter_incidents(
        queries.incidents(request.user), queries.IncidentFilter(asset_id=a.pk), request.user
    )
    return render(
        request,
        "cui/asset_detail.html",
        {
            "asset": a,
            "landing_points": a.landing_points.all(),
            "incidents": history[:50],
            "redundancy": sorted(queries.redundancy(request.user, a).items()),
            "map_json": json.dumps({"assets": [exports.asset_feature(a)]}),
            "subscribed": Subscription.objects.filter(
                asset=a, user_id=request.user.pk or 0
            ).exists(),
        },
    )


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    result: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            if form.cleaned_data["kind"] == "stix":
                from mufakat.core.ops.uploads import check_upload

                check_upload(f, allowed={".json"})
                created = services.import_stix(request.user, f.read())
                messages.success(
                    request,
                    _("%d incident(s) imported, shared with your organisation only.")
                    % len(created),
                )
                return redirect("cui:incidents")
            result = services.upload_assets(request.user, f).as_dict()
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "cui/upload.html",
        {"form": form, "result": result},
        status=422 if form.errors else 200,
    )


@login_required
def subscriptions(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(
        request.POST or None,
        initial={k: request.GET[k] for k in ("kind", "asset") if k in request.GET},
        user=request.user,
    )
    if request.method == "POST":
        if "delete" in request.POST:
            services.unsubscribe(
                request.user, int(request.POST["delete"]) if request.POST["delete"].isdigit() else 0
            )
            return redirect("cui:subscriptions")
        if form.is_valid():
            d = form.cleaned_data
            point = (
                (d["lat"], d["lon"])
                if d.get("lat") is not None and d.get("lon") is not None
                else None
            )
            try:
                services.subscribe(
                    request.user,
                    kind=d["kind"],
                    asset_id=d["asset"].pk if d.get("asset") else None,
                    state=d.get("state") or "",
                    bbox=d.get("bbox"),
                    point=point,
                    radius_km=d.get("radius_km"),
                )
                messages.success(request, _("Subscription saved."))
                return redirect("cui:subscriptions")
            except ValidationError as exc:
                _form_errors(form, exc)
    subs = queries.subscriptions(request.user)
    return render(
        request,
        "cui/subscriptions.html",
        {"form": form, "subs": subs},
        status=422 if form.errors else 200,
    )
