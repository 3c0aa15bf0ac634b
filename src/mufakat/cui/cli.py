"""`mufakat cui …`: import cables and pipelines, run an impact analysis from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Undersea infrastructure: assets, incidents, impact.", no_args_is_help=True)
console = Console(stderr=True)


def _setup() -> None:
    import django

    django.setup()


def _run_import(kind: str, target: Path) -> None:
    from django.core.exceptions import ValidationError

    from mufakat.core.jobs import run_in_console
    from mufakat.cui import jobs

    try:
        if kind == "cables":
            r = run_in_console(
                jobs.import_cables,
                console=console,
                description="Importing cables",
                directory=str(target),
            )
        else:
            r = run_in_console(
                jobs.import_pipelines,
                console=console,
                description="Importing pipelines",
                path=str(target),
            )
    except ValidationError as exc:  # checked before the first write: nothing was imported
        console.print(f"[red]Nothing imported: {'; '.join(exc.messages)}[/red]")
        raise typer.Exit(1) from None
    a = r["assets"]
    console.print(
        f"{kind.capitalize()}: {a['created']} created, {a['updated']} updated, "
        f"{a['unchanged']} unchanged; {r['segments_written']} segments written."
    )
    if kind == "cables":
        lp = r["landing_points"]
        console.print(
            f"Landing points: {lp['created']} created, {lp['updated']} updated, {lp['unchanged']} unchanged."
        )


@app.command("import-cables")
def import_cables(
    directory: Annotated[
        Path, typer.Argument(help="Folder with cables.json, cable-geo.json, landing-point-geo.json")
    ],
) -> None:
    """Import (or update) TeleGeography cables and landing points."""
    _setup()
    _run_import("cables", directory)


@app.command("import-pipelines")
def import_pipelines(
    file: Annotated[Path, typer.Argument(help="GEM pipelines GeoJSON (sea-pipelines-gem.geojson)")],
) -> None:
    """Import (or update) Global Energy Monitor pipeline routes."""
    _setup()
    _run_import("pipelines", file)


@app.command()
def impact(
    lat: Annotated[float, typer.Option(help="Latitude of the incident")],
    lon: Annotated[float, typer.Option(help="Longitude of the incident")],
    radius_km: Annotated[float, typer.Option(help="Search radius in km")] = 50.0,
    uncertainty_km: Annotated[
        float, typer.Option(help="Position uncertainty in km (affected within it + route accuracy)")
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Public reference assets within a radius of a position and the states their cables serve
    (routes uploaded by organisations are private to them and left out)."""
    _setup()
    from django.core.exceptions import ValidationError

    from mufakat.core.geo.geometry import check_lat_lon
    from mufakat.cui.impact import analyse

    try:
        la, lo = check_lat_lon(lat, lon)
    except ValidationError as exc:
        console.print(f"[red]{'; '.join(exc.messages)}[/red]")
        raise typer.Exit(2) from None
    if not 0 < radius_km <= 1000:
        console.print("[red]--radius-km must be between 0 and 1000.[/red]")
        raise typer.Exit(2)
    from mufakat.cui.models import Asset

    if not Asset.objects.exists():
        # An empty answer would read as "nothing nearby"; say why instead.
        console.print(
            "[yellow]No cables or pipelines are imported yet: run `mufakat cui import-cables` "
            "and `mufakat cui import-pipelines` (or `mufakat demo`).[/yellow]"
        )
    if not 0 <= uncertainty_km <= radius_km:
        console.print("[red]--uncertainty-km must be between 0 and the radius.[/red]")
        raise typer.Exit(2)
    result = analyse(la, lo, radius_km, uncertainty_km=uncertainty_km)
    out = {
        "assets": [
            {k: a[k] for k in ("id", "name", "kind", "distance_km", "affected")}
            for a in result["assets"]
        ],
        "affected_states": result["affected_states"],
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.table import Table

    table = Table(title=f"Assets within {radius_km:g} km of {la}, {lo}")
    for col in ("ID", "Name", "Kind", "Distance (km)", "Affected"):
        table.add_column(col)
    for a in out["assets"]:
        table.add_row(
            str(a["id"]),
            str(a["name"]),
            str(a["kind"]),
            f"{a['distance_km']:.1f}",
            "yes" if a["affected"] else "nearby",
        )
    Console().print(table)
    Console().print("Affected states: " + (", ".join(out["affected_states"]) or "none"))


@app.command("incidents")
def incidents(
    user: Annotated[str, typer.Option("--user", help="List as this user (what they may see)")],
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help="key=value, repeatable: the same filters as the incident list page and "
            "/api/cui/incidents (q, incident_type, status, severity, state, owner, since, until, "
            "sharing_group, updated_since, asset_id, asset)",
        ),
    ] = None,
    export: Annotated[
        str | None,
        typer.Option(help="Write this export format to stdout instead (stix, misp, geojson, kml)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many")] = 200,
) -> None:
    """Incidents USER may see (or export), narrowed by the incident filters."""
    _setup()
    from django.contrib.auth import get_user_model

    from mufakat.core.choices import Action
    from mufakat.core.filtering import from_pairs
    from mufakat.core.ops.context import acting
    from mufakat.cui import exports, queries
    from mufakat.cui.filtersets import IncidentFilterSet

    reader = get_user_model().objects.filter(username=user, is_active=True).first()
    if reader is None:
        console.print(f"[red]No active user {user!r}.[/red]")
        raise typer.Exit(2)
    if export is not None and export not in exports.FORMATS:
        console.print(f"[red]--export: use one of {', '.join(exports.FORMATS)}.[/red]")
        raise typer.Exit(2)
    fs, problems = from_pairs(IncidentFilterSet, filters or [], reader)
    if fs is None:
        for problem in problems:
            console.print(f"[red]--filter {problem}[/red]")
        raise typer.Exit(2)
    action = Action.EXPORT if export else Action.VIEW
    rows = list(fs.narrow(queries.incidents(reader, action))[:limit])
    if export:
        with acting(reader):  # the export is audited like one from the page or the API
            response = exports.response(reader, export, rows)
        typer.echo(response.content.decode())
        return
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": i.pk,
                        "reference": i.reference,
                        "title": i.title,
                        "status": i.status,
                        "severity": i.severity,
                        "owner": i.owner_org.code,
                        "occurred_at": i.occurred_at.isoformat(),
                    }
                    for i in rows
                ]
            )
        )
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} incident(s) visible to {user}")
    for col in ("ID", "Ref.", "Title", "Status", "Severity", "Owner", "Time (UTC)"):
        table.add_column(col)
    for i in rows:
        table.add_row(
            str(i.pk),
            i.reference,
            i.title,
            i.status,
            str(i.severity),
            i.owner_org.code,
            i.occurred_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)
