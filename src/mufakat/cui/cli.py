"""`mufakat cui …`: import cables and pipelines, run an impact analysis from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

app = typer.Typer(help="Undersea infrastructure: assets, incidents, impact.", no_args_is_help=True)
console = Console(stderr=True)


def _setup() -> None:
    import django

    django.setup()


def _run_import(kind: str, target: Path) -> None:
    from django.core.exceptions import ValidationError

    from mufakat.cui import importers

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task(f"Importing {kind}", total=None)

        def tick(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"Importing {stage}")

        try:
            if kind == "cables":
                report = importers.import_cables(target, tick)
            else:
                report = importers.import_pipelines(target, tick)
        except ValidationError as exc:
            console.print(f"[red]Nothing imported: {'; '.join(exc.messages)}[/red]")
            raise typer.Exit(1) from None
    r = report.as_dict()
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

    from mufakat.cui.geo import check_lat_lon
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
