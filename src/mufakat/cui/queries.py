"""All CUI reads. Incidents always start from restrict(); assets and segments always start from
visible_assets() / visible_segments(): public reference data plus the reader's own organisation's
uploads, never another organisation's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import Lower

from mufakat.core.geo.sealanes import SeaRouteError, sea_route
from mufakat.core.models import Subscription, user_org
from mufakat.core.notifications.subscriptions import subscriptions_for
from mufakat.core.sharing import queries as core_queries
from mufakat.cui.impact import load_index, visible_impact
from mufakat.cui.models import (
    Asset,
    AssetKind,
    Incident,
    IncidentType,
    RepairShip,
    Segment,
    Status,
)

BASE_SELECT = ("owner_org", "asset", "sharing_group")


def viewer_org_id(user: Any) -> int | None:
    """The reader's organisation id (None without a sign-in or an organisation)."""
    org = user_org(user)
    return org.pk if org is not None else None


def visible_assets(user: Any, action: str = "view") -> QuerySet[Asset]:
    """Every asset read starts here (restrict() for private records). Routes imported by the
    operator (no owner) are reference data for every signed-in user; a route uploaded by an
    organisation is visible to that organisation's members only. Anonymous callers get nothing."""
    return core_queries.visible(Asset, user, action)


def visible_segments(user: Any) -> QuerySet[Segment]:
    return Segment.objects.filter(asset__in=visible_assets(user))


def impact_for(user: Any, inc: Incident) -> dict[str, Any]:
    """The incident's stored impact as this reader may see it: the assets list keeps public
    assets and the reader's own organisation's uploads only."""
    result = dict(inc.impact or {})
    entries = result.get("assets") or []
    legacy = [a["id"] for a in entries if "private_to" not in a]
    if legacy:
        # Analysed before uploads were private: look the owners up rather than show them.
        owners = dict(Asset.objects.filter(pk__in=legacy).values_list("pk", "owner_org_id"))
        result["assets"] = [
            a if "private_to" in a else {**a, "private_to": owners.get(a["id"], -1)}
            for a in entries
        ]
    return visible_impact(result, viewer_org_id(user))


def incident_assets(user: Any, inc: Incident) -> QuerySet[Asset]:
    """The incident's affected assets (M2M) that this reader may see."""
    return inc.affected_assets.filter(pk__in=visible_assets(user).values("pk"))


def incident_asset(user: Any, inc: Incident) -> Asset | None:
    """The asset an incident was reported on, if this reader may see it (incidents() loads
    it with the incident, so a list costs no extra query)."""
    a = inc.asset if inc.asset_id is not None else None
    return a if a is not None and a.visible_to(user) else None


def incidents(user: Any, action: str = "view") -> QuerySet[Incident]:
    return core_queries.visible(Incident, user, action).select_related(*BASE_SELECT)


# Columns a list row never shows: the stored impact (up to several KB per incident) and the
# reported asset's whole route, which select_related would otherwise load with every row.
LIST_DEFER = ("impact", "asset__geometry", "asset__properties")
ASSET_LIST_DEFER = ("geometry", "properties")


def incident_rows(user: Any) -> QuerySet[Incident]:
    """incidents() for list pages and list endpoints (see LIST_DEFER)."""
    return incidents(user).defer(*LIST_DEFER)


def incident(user: Any, pk: Any, action: str = "view") -> Incident:
    return core_queries.access(Incident, user, pk, action)


def dashboard(user: Any) -> dict[str, Any]:
    """Regional figures over the incidents this user may see (nothing else is counted)."""
    rows = list(
        incidents(user).values(
            "incident_type",
            "affected_states",
            "owner_org__code",
            "occurred_at",
            "restored_at",
            "status",
        )
    )
    by_type = Counter(r["incident_type"] for r in rows)
    # Cables land in dozens of countries; the regional view counts the platform's own members
    # and partners, split into "reported" and "served by an affected cable".
    orgs = dict(core_queries.organisations().values_list("code", "name"))
    reported: Counter[str] = Counter(r["owner_org__code"] for r in rows)
    served: Counter[str] = Counter()
    for r in rows:
        served.update(c for c in set(r["affected_states"] or []) if c in orgs)
    by_state = [
        (code, orgs[code], reported[code], served[code])
        for code in sorted(
            set(reported) | set(served), key=lambda c: (-(reported[c] + served[c]), c)
        )
    ]
    by_month = Counter(r["occurred_at"].strftime("%Y-%m") for r in rows)
    durations = [
        (r["restored_at"] - r["occurred_at"]).total_seconds() / 3600
        for r in rows
        if r["restored_at"] is not None and r["restored_at"] >= r["occurred_at"]
    ]
    open_count = sum(1 for r in rows if r["status"] not in (Status.RESTORED, Status.CLOSED))
    return {
        "total": len(rows),
        "open": open_count,
        "by_type": [(IncidentType(k).label, n) for k, n in by_type.most_common()],
        "by_state": by_state,
        "by_month": sorted(by_month.items()),
        "mttr_hours": (sum(durations) / len(durations)) if durations else None,
        "restored_count": len(durations),
    }


def asset_labels(user: Any, shown: Iterable[Asset]) -> dict[int, str]:
    """Names that tell assets apart: a name that several visible assets share gets its kind
    and source id (GEM has e.g. two "Badak-Bontang 2 Gas Pipeline" routes)."""
    shown = list(shown)
    lowered = {a.name.lower() for a in shown}
    shared = set(
        visible_assets(user)
        .annotate(lname=Lower("name"))
        .filter(lname__in=lowered)
        .values("lname")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("lname", flat=True)
    )
    return {
        a.pk: f"{a.name} ({a.get_kind_display()} {a.external_id})"
        if a.name.lower() in shared
        else a.name
        for a in shown
    }


@dataclass
class AssetChoice:
    id: int
    label: str
    distance_km: float | None


def asset_choices(
    user: Any,
    q: str = "",
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius_km: float = 50.0,
    keep: int | None = None,
    limit: int = 200,
) -> list[AssetChoice]:
    """The report form's asset picker: with a position, the routes within the radius, nearest
    first (impact index, the user's own organisation's uploads included); else every visible
    asset by name. `q` narrows either by name; `keep` (the current choice) is always listed."""
    qs = visible_assets(user)
    if q:
        qs = qs.filter(name__icontains=q)
    chosen: list[tuple[Asset, float | None]]
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        radius_km = min(max(radius_km, 1.0), 500.0)
        near = load_index().nearby(lat, lon, radius_km, viewer_org_id(user))
        by_id = {a.pk: a for a in qs.filter(pk__in=[aid for aid, _d, _s in near])}
        chosen = [(by_id[aid], float(d)) for aid, d, _s in near if aid in by_id]
        del chosen[limit:]
    else:
        chosen = [(a, None) for a in qs.order_by(Lower("name"), "pk")[:limit]]
    if keep is not None and all(a.pk != keep for a, _d in chosen):
        # The asset already chosen stays selectable when it is far away or past the limit.
        kept = visible_assets(user).filter(pk=keep).first()
        if kept is not None:
            chosen.insert(0, (kept, None))
    labels = asset_labels(user, [a for a, _d in chosen])
    return [AssetChoice(a.pk, labels[a.pk], d) for a, d in chosen]


def asset(user: Any, pk: Any) -> Asset:
    """One asset, or 404: another organisation's upload answers exactly like a missing id."""
    from django.http import Http404

    obj = (
        visible_assets(user).filter(pk=pk).prefetch_related("landing_points").first()
        if str(pk).isdigit()
        else None
    )
    if obj is None:
        raise Http404
    return obj


def redundancy(user: Any, a: Asset) -> dict[str, list[Asset]]:
    """Other cables this reader may see landing in each state this asset serves."""
    others = (
        visible_assets(user)
        .filter(kind=AssetKind.CABLE)
        .exclude(pk=a.pk)
        .only("pk", "name", "states")
    )
    by_state: dict[str, list[Asset]] = {s: [] for s in a.states}
    for o in others:
        for s in o.states:
            if s in by_state:
                by_state[s].append(o)
    return by_state


def subscriptions(user: Any) -> list[Subscription]:
    """The user's own subscriptions; one on an asset they may no longer see is left out."""
    return subscriptions_for(user)


@dataclass
class Eta:
    ship: RepairShip
    distance_nm: float | None
    hours: float | None
    arrival: datetime | None
    error: str = ""


def repair_etas(
    inc: Incident, speed_knots: float | None = None, start: datetime | None = None
) -> list[Eta]:
    """Sea-lane distance (core.geo.sealanes, offline) and time from each ship at its speed."""
    out = []
    for ship in RepairShip.objects.all():
        speed = speed_knots or ship.speed_knots
        try:
            route = sea_route((ship.lat, ship.lon), (inc.lat, inc.lon))
        except SeaRouteError as exc:
            out.append(Eta(ship, None, None, None, " ".join(exc.messages)[:200]))
            continue
        nm = route.distance_nm
        hours = route.hours_at(speed)
        arrival = (start + timedelta(hours=hours)) if start and hours is not None else None
        out.append(Eta(ship, round(nm, 1), round(hours, 1) if hours is not None else None, arrival))
    out.sort(key=lambda e: (e.hours is None, e.hours or 0))
    return out
