"""Impact analysis: which assets an incident affects, which lie nearby, which states the affected
cables serve and what redundancy those states keep.

Two sets, because a fault on one fibre pair does not cut every cable in a 50 km corridor:

- **affected**: the asset the reporter named; failing that, every route whose nearest point lies
  within the position uncertainty plus the route data's own stated accuracy
  (`ROUTE_ACCURACY_KM`: TeleGeography and GEM routes are drawn, not surveyed);
- **nearby**: every route within the impact radius, for situational awareness only.

Affected states, redundancy, alerts and exports come from the affected set alone.

Routes are indexed as two-point segments in a shapely STRtree (cheap bounding-box prefilter);
candidate distances are computed vectorised in a local frame, then the nearest point of each
candidate asset is measured on the WGS84 ellipsoid for the reported value.

One tree holds every route, public and uploaded. An analysis for organisation A keeps only the
candidates that are public or A's own uploads, so another state's private route never reaches
A's result; affected states and redundancy come from public cables alone, because they are
shown to (and alert) every state the incident is shared with.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Max

from mufakat.core.geo.geometry import geodesic_km
from mufakat.core.sharing.querysets import private_visible
from mufakat.cui.models import Asset, AssetKind, AssetSource, Segment

KM_PER_DEG = 111.195  # mean-sphere degree, for the prefilter box only
DEFAULT_RADIUS_KM = 50.0
# How far a drawn route may lie from the real one, by data source. TeleGeography publishes
# schematic routes (the map's own disclaimer); GEM digitises pipelines at km scale (its 1 km land
# mask). An organisation uploads its own route, usually from a route position list.
ROUTE_ACCURACY_KM: dict[str, float] = {
    AssetSource.TELEGEOGRAPHY: 2.0,
    AssetSource.GEM: 2.0,
    AssetSource.UPLOAD: 0.5,
}
BASIS_ASSET = "reported_asset"
BASIS_POSITION = "position"


@dataclass
class AssetInfo:
    id: int
    name: str
    kind: str
    states: list[str]
    private_to: int | None = None  # uploading organisation's id; None for public reference data
    source: str = AssetSource.TELEGEOGRAPHY

    @property
    def accuracy_km(self) -> float:
        return ROUTE_ACCURACY_KM.get(self.source, max(ROUTE_ACCURACY_KM.values()))


@dataclass
class SegmentIndex:
    """All route segments as numpy arrays plus an STRtree over them."""

    seg_ids: np.ndarray[Any, Any]
    asset_ids: np.ndarray[Any, Any]
    owners: np.ndarray[Any, Any]  # per segment: uploading organisation's id, 0 when public
    coords: np.ndarray[Any, Any]  # (n, 4): lon1, lat1, lon2, lat2
    tree: shapely.STRtree
    assets: dict[int, AssetInfo]
    cables_by_state: dict[str, set[int]] = field(default_factory=dict)
    version: tuple[Any, ...] = ()

    @classmethod
    def build(
        cls,
        rows: list[tuple[int, int, float, float, float, float]],
        assets: dict[int, AssetInfo],
        version: tuple[Any, ...] = (),
    ) -> SegmentIndex:
        arr = np.array([r[2:] for r in rows], dtype=float).reshape(-1, 4)
        lines = shapely.linestrings(arr.reshape(-1, 2, 2)) if len(arr) else np.array([])
        by_state: dict[str, set[int]] = {}
        for a in assets.values():
            if a.kind == AssetKind.CABLE and a.private_to is None:
                for s in a.states:
                    by_state.setdefault(s, set()).add(a.id)
        return cls(
            seg_ids=np.array([r[0] for r in rows], dtype=np.int64),
            asset_ids=np.array([r[1] for r in rows], dtype=np.int64),
            owners=np.array([assets[r[1]].private_to or 0 for r in rows], dtype=np.int64),
            coords=arr,
            tree=shapely.STRtree(lines),
            assets=assets,
            cables_by_state=by_state,
            version=version,
        )

    def nearby(
        self, lat: float, lon: float, radius_km: float, org_id: int | None = None
    ) -> list[tuple[int, float, int]]:
        """(asset id, distance km, nearest segment id) within the radius, nearest first, among
        public assets and those uploaded by organisation `org_id` (public only when None)."""
        k = max(math.cos(math.radians(lat)), 0.01)
        dlat = radius_km / KM_PER_DEG * 1.01
        dlon = min(radius_km / (KM_PER_DEG * k) * 1.01, 180.0)
        idx = self.tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        return self._measure(lat, lon, idx, org_id, radius_km)

    def distance_to(
        self, lat: float, lon: float, asset_id: int, org_id: int | None = None
    ) -> tuple[int, float, int] | None:
        """(asset id, distance km, nearest segment id) for one asset, however far it is."""
        hits = self._measure(lat, lon, np.flatnonzero(self.asset_ids == asset_id), org_id, None)
        return hits[0] if hits else None

    def _measure(
        self,
        lat: float,
        lon: float,
        idx: np.ndarray[Any, Any],
        org_id: int | None,
        radius_km: float | None,
    ) -> list[tuple[int, float, int]]:
        # Drop other organisations' uploads before any distance is measured.
        owner = self.owners[idx]
        idx = idx[(owner == 0) | (owner == (org_id or 0))]
        if len(idx) == 0:
            return []
        k = max(math.cos(math.radians(lat)), 0.01)
        c = self.coords[idx]
        ax = ((c[:, 0] - lon + 180.0) % 360.0 - 180.0) * k
        bx = ((c[:, 2] - lon + 180.0) % 360.0 - 180.0) * k
        ay, by = c[:, 1] - lat, c[:, 3] - lat
        vx, vy = bx - ax, by - ay
        den = vx * vx + vy * vy
        t = np.clip(-(ax * vx + ay * vy) / np.where(den == 0, 1.0, den), 0.0, 1.0)
        px, py = ax + t * vx, ay + t * vy
        approx = np.hypot(px, py) * KM_PER_DEG
        aid = self.asset_ids[idx]
        order = np.lexsort((approx, aid))
        _u, first = np.unique(aid[order], return_index=True)
        best = order[first]
        out = []
        for i in best:
            # Projection error at these scales is well below 2 %.
            if radius_km is not None and approx[i] > radius_km * 1.02:
                continue
            d = geodesic_km(lat, lon, lat + float(py[i]), lon + float(px[i]) / k)
            if radius_km is None or d <= radius_km:
                out.append((int(aid[i]), d, int(self.seg_ids[idx[i]])))
        out.sort(key=lambda r: (r[1], r[0]))
        return out

    def analyse(
        self,
        lat: float,
        lon: float,
        radius_km: float = DEFAULT_RADIUS_KM,
        org_id: int | None = None,
        *,
        uncertainty_km: float = 1.0,
        asset_id: int | None = None,
    ) -> dict[str, Any]:
        """Nearby assets within the radius for organisation `org_id` (public + its own uploads,
        each marked with `private_to`), each flagged `affected` or not (module docstring);
        states and redundancy from affected public cables only."""
        hits = self.nearby(lat, lon, radius_km, org_id)
        reported = self.distance_to(lat, lon, asset_id, org_id) if asset_id is not None else None
        if reported is not None and all(h[0] != reported[0] for h in hits):
            hits = sorted([*hits, reported], key=lambda r: (r[1], r[0]))
        assets = []
        affected_cables: set[int] = set()
        states: set[str] = set()
        for aid, dist, seg in hits:
            info = self.assets[aid]
            tolerance = uncertainty_km + info.accuracy_km
            affected = aid == asset_id if reported is not None else dist <= tolerance
            assets.append(
                {
                    "id": aid,
                    "name": info.name,
                    "kind": info.kind,
                    "distance_km": round(dist, 3),
                    "segment_id": seg,
                    "states": info.states,
                    "private_to": info.private_to,
                    "affected": affected,
                    "accuracy_km": info.accuracy_km,
                }
            )
            if affected and info.kind == AssetKind.CABLE and info.private_to is None:
                affected_cables.add(aid)
                states.update(info.states)
        redundancy = {}
        for s in sorted(states):
            serving = self.cables_by_state.get(s, set())
            remaining = serving - affected_cables
            redundancy[s] = {
                "total": len(serving),
                "affected": len(serving & affected_cables),
                "remaining": len(remaining),
            }
        return {
            "radius_km": radius_km,
            "uncertainty_km": uncertainty_km,
            "basis": BASIS_ASSET if reported is not None else BASIS_POSITION,
            "assets": assets,
            "segments": [a["segment_id"] for a in assets],
            "affected_states": sorted(states),
            "redundancy": redundancy,
        }


_lock = threading.Lock()
_index: SegmentIndex | None = None


def _version() -> tuple[Any, ...]:
    agg = Asset.objects.aggregate(n=Count("pk"), last=Max("updated"))
    return (agg["n"], agg["last"], Segment.objects.count())


def load_index() -> SegmentIndex:
    """Build from the database once; rebuilt when an import changed assets or segments."""
    global _index  # noqa: PLW0603 - a per-process cache of derived data
    version = _version()
    with _lock:
        if _index is not None and _index.version == version:
            return _index
        assets = {
            a["pk"]: AssetInfo(
                a["pk"],
                a["name"],
                a["kind"],
                list(a["states"] or []),
                a["owner_org"],
                a["source"],
            )
            for a in Asset.objects.values("pk", "name", "kind", "states", "owner_org", "source")
        }
        # Imports commit batch by batch: segments of a batch committed after the assets were
        # read are left out here, and the version (read before both) makes the next call
        # rebuild with them.
        rows = [
            r
            for r in Segment.objects.order_by("pk").values_list(
                "pk", "asset_id", "lon1", "lat1", "lon2", "lat2"
            )
            if r[1] in assets
        ]
        _index = SegmentIndex.build(rows, assets, version)
        return _index


def analyse(
    lat: float,
    lon: float,
    radius_km: float = DEFAULT_RADIUS_KM,
    org_id: int | None = None,
    *,
    uncertainty_km: float = 1.0,
    asset_id: int | None = None,
) -> dict[str, Any]:
    """Impact as organisation `org_id` may know it (public reference assets only when None)."""
    return load_index().analyse(
        lat, lon, radius_km, org_id, uncertainty_km=uncertainty_km, asset_id=asset_id
    )


def is_affected(entry: dict[str, Any]) -> bool:
    """An impact stored before the affected/nearby split listed only "affected" assets."""
    return bool(entry.get("affected", True))


def affected_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in result.get("assets", []) if is_affected(a)]


def nearby_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in result.get("assets", []) if not is_affected(a)]


def visible_impact(result: dict[str, Any], org_id: int | None) -> dict[str, Any]:
    """A stored impact cut down to what a member of organisation `org_id` may see: public
    assets and the organisation's own uploads. States and redundancy are public already."""
    entries = result.get("assets", [])
    assets = [a for a in entries if private_visible(a.get("private_to"), org_id)]
    out = {**result, "assets": assets, "segments": [a["segment_id"] for a in assets]}
    if (
        result.get("basis") == BASIS_ASSET
        and len(assets) < len(entries)
        and not any(a.get("affected") for a in assets)
    ):
        # The reported asset is another organisation's private route: saying "the asset named
        # in the report" would tell this reader that such a route exists there.
        out["basis"] = BASIS_POSITION
    return out
