"""Demo data: the shipped ASEAN cables and GEM pipelines, repair ships, and a few incidents from
different states under different sharing rules. Idempotent: re-running changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from rich.console import Console
from rich.progress import Progress

from mufakat.core.choices import TLP, Distribution
from mufakat.core.models import Organisation, SharingGroup
from mufakat.core.ops.context import acting
from mufakat.cui import importers, services
from mufakat.cui.models import (
    Incident,
    IncidentType,
    IncidentUpdate,
    RepairShip,
    Severity,
    Status,
)

# Home ports of cable ships that work the region; positions are the ports, not live tracks.
SHIPS: list[dict[str, Any]] = [
    {
        "name": "CS Asean Explorer",
        "operator": "ASEAN Cableship Pte Ltd",
        "home_port": "Singapore",
        "lat": 1.264,
        "lon": 103.84,
        "speed_knots": 12.0,
    },
    {
        "name": "CS Asean Restorer",
        "operator": "ASEAN Cableship Pte Ltd",
        "home_port": "Batangas, Philippines",
        "lat": 13.75,
        "lon": 121.04,
        "speed_knots": 12.0,
    },
    {
        "name": "CS Recorder",
        "operator": "Global Marine (SEAIOCMA zone)",
        "home_port": "Batam, Indonesia",
        "lat": 1.16,
        "lon": 104.0,
        "speed_knots": 11.0,
    },
    {
        "name": "Repair vessel Songkhla",
        "operator": "Demo operator",
        "home_port": "Songkhla, Thailand",
        "lat": 7.21,
        "lon": 100.6,
        "speed_knots": 10.0,
    },
]

# (reporting state, username, title, type, lat, lon, severity, status, days ago, distribution, tlp, description)
INCIDENTS: list[tuple[str, str, str, str, float, float, int, str, int, str, str, str]] = [
    (
        "SG",
        "sg-analyst",
        "Anchor strike near the eastern Singapore Strait",
        IncidentType.ANCHOR,
        1.22,
        104.08,
        Severity.SERIOUS,
        Status.UNDER_REPAIR,
        12,
        Distribution.ASEAN,
        TLP.GREEN,
        "Loss of light on one fibre pair; a merchant vessel was anchored nearby in bad weather. "
        "Treated as an accident pending survey.",
    ),
    (
        "ID",
        "id-analyst",
        "Fishing gear damage off Bangka",
        IncidentType.FISHING,
        -1.9,
        106.6,
        Severity.MODERATE,
        Status.RESTORED,
        40,
        Distribution.GROUP,
        TLP.AMBER,
        "Shunt fault traced by OTDR; trawl marks reported by the repair crew.",
    ),
    (
        "PH",
        "ph-analyst",
        "Fault on a Luzon Strait segment after earthquake",
        IncidentType.NATURAL,
        19.6,
        120.9,
        Severity.SERIOUS,
        Status.CONFIRMED,
        5,
        Distribution.ASEAN_PLUS,
        TLP.GREEN,
        "Fault coincides with seismic activity; submarine landslide suspected.",
    ),
    (
        "VN",
        "vn-analyst",
        "Power feed fault in the South China Sea",
        IncidentType.FAULT,
        10.3,
        109.5,
        Severity.LOW,
        Status.REPORTED,
        2,
        Distribution.ORGANISATION,
        TLP.AMBER,
        "Power feed equipment alarm; no traffic loss yet.",
    ),
]


# What each step of a typical repair looks like in the timeline, and when it happens after the
# fault (hours): confirmed within hours, a ship tasked in two days, on site in about a week,
# traffic restored after the splice about nine days in (ICPC puts typical repairs at 1-3 weeks).
STEP_NOTES: dict[str, str] = {
    Status.CONFIRMED: "Fault located by OTDR from the landing station.",
    Status.REPAIR_PLANNED: "Repair ship tasked; permits requested from the coastal state.",
    Status.UNDER_REPAIR: "Repair ship on site; cable grappled and lifted for the splice.",
    Status.RESTORED: "Splice tested; traffic restored on the affected fibre pair.",
}
STEP_HOURS: dict[str, float] = {
    Status.REPORTED: 1.5,
    Status.CONFIRMED: 7,
    Status.REPAIR_PLANNED: 46,
    Status.UNDER_REPAIR: 160,
    Status.RESTORED: 216,
}


def backdate(inc: Incident, now: Any) -> None:
    """Give each timeline entry the time its step happened, not the time the demo was loaded:
    the typical offsets of STEP_HOURS, squeezed into the time since the fault if shorter."""
    elapsed_h = (now - inc.occurred_at).total_seconds() / 3600
    updates = list(inc.updates.order_by("pk"))
    for n, u in enumerate(updates, start=1):
        typical = STEP_HOURS.get(u.status_to, 1.0)
        hours = min(typical, elapsed_h * n / (len(updates) + 1))
        u.created = inc.occurred_at + timedelta(hours=hours)
    IncidentUpdate.objects.bulk_update(updates, ["created"])
    restored = next((u.created for u in updates if u.status_to == Status.RESTORED), None)
    if restored is not None:
        Incident.objects.filter(pk=inc.pk).update(restored_at=restored)


DEMO_GROUP = "Malacca Strait cable watch"


def demo_group() -> SharingGroup:
    """The littoral states' closed community the demo incidents are shared with (cui's own)."""
    group = SharingGroup.objects.filter(name=DEMO_GROUP).first()
    if group is None:
        group = SharingGroup.objects.create(
            name=DEMO_GROUP,
            description="Littoral states of the Malacca and Singapore Straits.",
            owner_org=Organisation.objects.get(code="SG"),
        )
        group.members.set(Organisation.objects.filter(code__in=["SG", "MY", "ID", "TH"]))
    return group


def load_demo(console: Console | None = None) -> None:
    console = console or Console(quiet=True)
    with Progress(console=console, transient=True) as progress:
        t = progress.add_task("Undersea assets", total=3 + len(INCIDENTS))
        importers.import_cables(importers.shipped_cables_dir())
        progress.advance(t)
        importers.import_pipelines(importers.shipped_pipelines())
        progress.advance(t)
        for ship in SHIPS:
            RepairShip.objects.update_or_create(name=ship["name"], defaults=ship)
        progress.advance(t)
        users = get_user_model().objects
        group = demo_group()
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        for (
            code,
            username,
            title,
            itype,
            lat,
            lon,
            sev,
            status,
            days,
            wanted,
            tlp,
            desc,
        ) in INCIDENTS:
            progress.advance(t)
            user = users.filter(username=username).first()
            org = Organisation.objects.filter(code=code).first()
            if (
                user is None
                or org is None
                or Incident.objects.filter(owner_org=org, title=title).exists()
            ):
                continue
            dist = wanted
            with acting(user):
                inc = services.report_incident(
                    user,
                    services.IncidentInput(
                        title=title,
                        incident_type=itype,
                        occurred_at=now - timedelta(days=days),
                        lat=lat,
                        lon=lon,
                        severity=sev,
                        description=desc,
                        distribution=dist,
                        tlp=tlp,
                        sharing_group=group if dist == Distribution.GROUP else None,
                    ),
                )
                path: list[str] = [
                    Status.CONFIRMED,
                    Status.REPAIR_PLANNED,
                    Status.UNDER_REPAIR,
                    Status.RESTORED,
                ]
                steps = path[: path.index(status) + 1] if status in path else []
                for step in steps:
                    services.change_status(user, inc, step, STEP_NOTES[step])
                backdate(inc, now)
