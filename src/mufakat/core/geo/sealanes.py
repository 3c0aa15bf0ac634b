"""Sea-lane routing over searoute's offline maritime network (no network access at run time).

Used for transit times of vessels (cui's repair-ship ETAs; relief logistics and maritime
analytics later). searoute snaps each end to the nearest node of its network however far away it is (a point in
the Alps "snaps" to the Mediterranean); a route whose ends are more than `MAX_SNAP_KM` from the
given points is refused with `SeaRouteError`, naming the end, instead of returning a made-up
distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import searoute
from django.utils.translation import gettext as _

from mufakat.core.geo.geometry import GeoError, check_lat_lon, geodesic_km

# Farther than this from the nearest lane node, a point is inland or off the network. Ports and
# offshore faults lie within a few tens of km of a node (measured: Singapore 4 km, Manila Bay 15
# km, Port Dickson 16 km); an inland point 300 km from the sea must not get a sea route.
MAX_SNAP_KM = 150.0


class SeaRouteError(GeoError):
    """No sea route between two points; the message says which end or why."""


@dataclass(frozen=True)
class SeaRoute:
    """A route along the sea lanes: its length in nautical miles and a GeoJSON LineString."""

    distance_nm: float
    geometry: dict[str, Any]
    snap_km: tuple[float, float]  # from each given point to where the route starts / ends

    def hours_at(self, speed_knots: float) -> float | None:
        """Transit time at a speed; None for a ship that does not move."""
        return self.distance_nm / speed_knots if speed_knots > 0 else None


def sea_route(
    origin: tuple[float, float],
    destination: tuple[float, float],
    *,
    max_snap_km: float = MAX_SNAP_KM,
) -> SeaRoute:
    """The sea-lane route between two (lat, lon) points.

    Raises GeoError for invalid coordinates and SeaRouteError when there is no route or an end
    is more than `max_snap_km` from the lane network."""
    lat1, lon1 = check_lat_lon(*origin, where=_("origin"))
    lat2, lon2 = check_lat_lon(*destination, where=_("destination"))
    try:
        feature = searoute.searoute([lon1, lat1], [lon2, lat2], units="naut")
        nm = float(feature["properties"]["length"])
        geometry = dict(feature["geometry"])
    except (
        Exception
    ) as exc:  # searoute raises assorted errors (KeyError, networkx) when unsnappable
        raise SeaRouteError(
            _("No sea route from %(a)s to %(b)s: %(why)s")
            % {
                "a": f"{lat1:.3f}, {lon1:.3f}",
                "b": f"{lat2:.3f}, {lon2:.3f}",
                "why": str(exc)[:200] or type(exc).__name__,
            }
        ) from None
    coords = geometry.get("coordinates") or []
    if geometry.get("type") != "LineString" or not coords or not nm >= 0:  # also refuses NaN
        raise SeaRouteError(
            _("No sea route from %(a)s to %(b)s.") % {"a": origin, "b": destination}
        )
    snaps = (
        geodesic_km(lat1, lon1, coords[0][1], coords[0][0]),
        geodesic_km(lat2, lon2, coords[-1][1], coords[-1][0]),
    )
    for end, km in zip((_("origin"), _("destination")), snaps, strict=True):
        if km > max_snap_km:
            raise SeaRouteError(
                _("The %(end)s is %(km).0f km from the nearest sea lane (at most %(max).0f km).")
                % {"end": end, "km": km, "max": max_snap_km}
            )
    return SeaRoute(distance_nm=nm, geometry=geometry, snap_km=snaps)
