"""CUI pages: map, incident list/search (HTMX), report form, incident page, assets, dashboard,
imports and subscriptions. Reads via cui.queries (restrict()), writes via cui.services."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import conditional_page, require_POST

from mufakat.core import jobs
from mufakat.core.choices import Action
from mufakat.core.models import Organisation, Subscription
from mufakat.core.ops.uploads import check_upload
from mufakat.core.sharing.queries import can
from mufakat.cui import exports, layers, queries, services
from mufakat.cui import jobs as cui_jobs
from mufakat.cui.filtersets import AssetFilterSet, IncidentFilterSet
from mufakat.cui.forms import (
    AttachmentForm,
    IncidentForm,
    StatusForm,
    SubscriptionForm,
    UpdateForm,
    UploadForm,
)
from mufakat.cui.impact import affected_entries, nearby_entries
from mufakat.cui.layers import STATUS_DONE
from mufakat.cui.models import (
    ATTRIBUTION,
    AssetKind,
    AssetSource,
    IncidentAttachment,
    LandingPoint,
    Status,
)
from mufakat.cui.subscriptions import ASSET

CABLE_ATTRIBUTION = ATTRIBUTION[AssetSource.TELEGEOGRAPHY]


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
    return render(
        request,
        "cui/map.html",
        {"layers": layers.module_layers(), "can_report": can_report(request.user)},
    )


def can_report(user: Any) -> bool:
    from mufakat.core.sharing.querysets import has_grant
    from mufakat.cui.models import Incident

    return has_grant(user, Incident, Action.ADD)


def _asset_collection(user: Any, kind: str) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            _with_url(exports.asset_feature(a, for_display=True), "cui:asset")
            for a in queries.visible_assets(user).filter(kind=kind)
        ],
    }


def _with_url(feature: dict[str, Any], url_name: str) -> dict[str, Any]:
    """The record page a map popup links to."""
    feature["properties"]["url"] = reverse(url_name, args=[feature["id"]])
    return feature


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
        _with_url(f, "cui:incident")
        # The map's status filter: still open, or restored / closed.
        f["properties"]["phase"] = "done" if f["properties"]["status"] in STATUS_DONE else "open"
    return JsonResponse(data)


def _incident_filters(request: HttpRequest, action: str = Action.VIEW) -> IncidentFilterSet:
    """The list's filters (IncidentFilterSet, as the API and CLI use) over what the reader may
    see for `action`; an invalid value is shown on the form and matches nothing."""
    return IncidentFilterSet(
        request.GET or None, queries.incidents(request.user, action), request=request
    )


def _page_size(request: HttpRequest, default: int = 25, largest: int = 200) -> int:
    """Rows per page from ?size=, bounded so a page never grows without limit."""
    try:
        return max(1, min(int(request.GET.get("size", default)), largest))
    except ValueError:
        return default


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    filters = _incident_filters(request)
    # The list shows no impact or route: leave those columns unread (queries.LIST_DEFER).
    rows = filters.qs.defer(*queries.LIST_DEFER)
    page = Paginator(rows, _page_size(request)).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "form": filters.form,
        "page": page,
        "query": query.urlencode(),
        "formats": list(exports.FORMATS),
    }
    template = "cui/incident_list.html#table" if _partial(request) else "cui/incident_list.html"
    return render(request, template, ctx)


def alerted_banner(filed: services.Filed) -> str:
    """Exactly who the alert reached: people per channel and the states they are in."""
    a = filed.alerted
    ref = filed.incident.reference
    if not a.notifications and not a.webhooks:
        return _("Incident %(ref)s filed; nobody was alerted.") % {"ref": ref}
    names = dict(Organisation.objects.filter(code__in=a.states).values_list("code", "name"))
    counts = a.counts()
    return _(
        "Incident %(ref)s filed. Alerted: %(inbox)d people in their Mufakat inbox, %(email)d by e-mail, %(webhook)d webhook(s); in %(states)s."
    ) % {
        "ref": ref,
        **counts,
        "states": ", ".join(f"{names.get(c, c)} ({c})" for c in a.states) or "-",
    }


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    if not can_report(request.user):
        raise PermissionDenied(_("Your role cannot file reports."))
    initial: dict[str, Any] = {k: request.GET[k] for k in ("lat", "lon") if k in request.GET}
    # "Report on this cable" links here with ?asset=ID; an asset the user may not see (or a
    # malformed id) is simply not preselected.
    asset_id = request.GET.get("asset", "")
    if asset_id.isdigit() and queries.visible_assets(request.user).filter(pk=asset_id).exists():
        initial["asset"] = int(asset_id)
    form = IncidentForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            filed = services.file_incident(request.user, form.to_input())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, alerted_banner(filed))
            return redirect("cui:incident", pk=filed.incident.pk)
    return render(
        request,
        "cui/incident_form.html",
        {"form": form, **_asset_picker(request, form)},
        status=422 if form.errors else 200,
    )


def _asset_picker(request: HttpRequest, form: IncidentForm) -> dict[str, Any]:
    """The picker's first options: near the position already in the form (from the map, the
    URL or a rejected submission), else every asset by name; the chosen one kept."""
    data = form.data if form.is_bound else form.initial

    def number(key: str) -> float | None:
        try:
            value = float(data.get(key) or "")
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) else None

    chosen = str(data.get("asset") or "")
    selected = int(chosen) if chosen.isdigit() else None
    choices = queries.asset_choices(
        request.user,
        lat=number("lat"),
        lon=number("lon"),
        radius_km=number("impact_radius_km") or 50.0,
        keep=selected,
    )
    return {"asset_choices": choices, "asset_selected": selected}


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inc = queries.incident(request.user, pk)
    may_change = can(request.user, inc, Action.CHANGE)
    status_form = StatusForm(initial={"status": inc.next_forward()})
    status_form.fields["status"].choices = [(s, Status(s).label) for s in inc.allowed_next()]  # type: ignore[attr-defined]
    speed = request.GET.get("speed")
    try:
        speed_kn = float(speed) if speed else None
        # A repair ship below 1 knot is no ship; 1e-300 made the ETA overflow (a 500).
        if speed_kn is not None and not services.MIN_SPEED_KNOTS <= speed_kn <= 40:
            speed_kn = None
    except ValueError:
        speed_kn = None
    seen = queries.impact_for(request.user, inc)
    ctx = {
        "incident": inc,
        # What this reader may see of the impact and of the asset it was reported on.
        "impact": seen,
        "affected": affected_entries(seen),
        "nearby": nearby_entries(seen),
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
        "map_layers": (
            layers.routes_layer(
                [exports.asset_feature(a) for a in queries.incident_assets(request.user, inc)],
                CABLE_ATTRIBUTION,
            ),
            *layers.incident_layers(exports.incident_feature(inc), inc.impact_radius_km),
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
    return _export(request, fmt, list(_incident_filters(request, Action.EXPORT).qs[:1000]))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    stats = queries.dashboard(request.user)
    peak = max([n for _k, n in stats["by_month"]] or [1])
    return render(request, "cui/dashboard.html", {"stats": stats, "peak": peak})


@login_required
def asset_list(request: HttpRequest) -> HttpResponse:
    filters = AssetFilterSet(
        request.GET or None, queries.visible_assets(request.user), request=request
    )
    # Case-insensitive name order (TeleGeography and GEM capitalise differently).
    ordered = filters.qs.order_by(Lower("name"), "pk").defer(*queries.ASSET_LIST_DEFER)
    page = Paginator(ordered, 50).get_page(request.GET.get("page"))
    labels = queries.asset_labels(request.user, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    template = "cui/asset_list.html#table" if _partial(request) else "cui/asset_list.html"
    return render(
        request,
        template,
        {
            "form": filters.form,
            "page": page,
            "rows": [(a, labels[a.pk]) for a in page.object_list],
            "query": query.urlencode(),
        },
    )


@login_required
def asset_options(request: HttpRequest) -> HttpResponse:
    """The report form's asset choices (HTMX): near the typed position first, nearest first,
    narrowed by a search; the form itself still accepts any asset the user may see."""
    lat: float | None
    lon: float | None
    try:
        lat = float(request.GET.get("lat", ""))
        lon = float(request.GET.get("lon", ""))
        radius = float(request.GET.get("impact_radius_km") or 50)
    except ValueError:  # no (or a half-typed) position: every asset by name
        lat = lon = None
        radius = 50.0
    chosen = request.GET.get("asset", "")
    selected = int(chosen) if chosen.isdigit() else None
    choices = queries.asset_choices(
        request.user,
        request.GET.get("q", "").strip()[:100],
        keep=selected,
        lat=lat if lat is not None and math.isfinite(lat) else None,
        lon=lon if lon is not None and math.isfinite(lon) else None,
        radius_km=radius if math.isfinite(radius) else 50.0,
    )
    return render(request, "cui/_asset_options.html", {"choices": choices, "selected": selected})


@login_required
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    a = queries.asset(request.user, pk)
    history = IncidentFilterSet(
        {"asset_id": a.pk}, queries.incidents(request.user), request=request
    ).qs
    return render(
        request,
        "cui/asset_detail.html",
        {
            "asset": a,
            "may_report": can_report(request.user),
            "landing_points": a.landing_points.all(),
            "incidents": history[:50],
            "redundancy": sorted(queries.redundancy(request.user, a).items()),
            "map_layers": (layers.routes_layer([exports.asset_feature(a)], a.attribution),),
            "subscribed": Subscription.objects.filter(
                kind=ASSET, target_id=str(a.pk), user_id=request.user.pk or 0
            ).exists(),
        },
    )


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Checks the file at once, then imports it as a background job: the user follows its
    progress on the job page, which shows the import report at the end."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            if form.cleaned_data["kind"] == "stix":
                check_upload(f, allowed={".json"})
                services.stix_plan(request.user, f.read())
                f.seek(0)
                job = jobs.start(request.user, cui_jobs.import_stix, input_file=f)
            else:
                ext = services.check_asset_upload(request.user, f)
                job = jobs.start(
                    request.user,
                    cui_jobs.upload_assets,
                    input_file=f,
                    filename=f"upload{ext}",
                    label=(f.name or "")[:200],
                )
            return redirect("core:job", pk=job.pk)
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "cui/upload.html",
        {"form": form},
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
            raw = request.POST["delete"]
            # Ids past 64 bits cannot exist (and overflow the database driver).
            services.unsubscribe(request.user, int(raw) if raw.isdigit() and len(raw) < 19 else 0)
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
