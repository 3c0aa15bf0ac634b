"""The `mufakat` console script: serve, demo, manage passthrough, backup/restore, audit, and one
sub-command group per installed module (a module's `cli.py` exposing a Typer `app`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mufakat.settings")

app = typer.Typer(
    help="Mufakat: open platform for ASEAN defence cooperation.",
    no_args_is_help=True,
    add_completion=False,
)
audit_app = typer.Typer(help="Audit log commands.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
token_app = typer.Typer(help="API tokens for machine clients.", no_args_is_help=True)
app.add_typer(token_app, name="token")
console = Console()


def _setup() -> None:
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:  # an operator's mistake: say which setting, no traceback
        console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as exc:  # wrong DATABASE_URL, server down, missing database
        console.print(f"[red]Database unavailable:[/red] {exc}")
        raise typer.Exit(2) from None


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)
    # The PostgreSQL deployment keeps its cache in a table; a no-op for other cache backends.
    call_command("createcachetable", verbosity=verbosity)


def static_fingerprint() -> str:
    """Names, sizes and times of every static file the finders see (packages and modules)."""
    import hashlib

    from django.contrib.staticfiles import finders

    entries = sorted(
        f"{path}\0{(st := os.stat(storage.path(path))).st_size}\0{st.st_mtime_ns}"
        for finder in finders.get_finders()
        for path, storage in finder.list(None)
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def collect_static() -> bool:
    """Collect static files into the data folder with gzip and Brotli copies, when they changed.

    The map alone loads about 3 MB of GeoJSON; compressed it is a fraction of that, which is
    what matters on the slow links this platform is used over (benchmarks/map_payload.py).
    WhiteNoise serves the compressed copies once the folder is filled (settings.py). Compressing
    takes ~10 s, so it runs only when a static file changed. Returns whether it ran."""
    from django.conf import settings
    from django.core.management import call_command

    stamp = Path(settings.CONFIG.data_dir) / "static.fingerprint"
    fingerprint = static_fingerprint()
    ran = False
    if not stamp.exists() or stamp.read_text() != fingerprint:
        with console.status("Compressing static files for slow links (once per version)…"):
            call_command("collectstatic", interactive=False, verbosity=0)
        stamp.write_text(fingerprint)
        ran = True
    # Settings chose finders when this process started with an empty folder; the server this
    # process is about to start must serve the collected, compressed copies instead.
    settings.WHITENOISE_USE_FINDERS = False
    return ran


def worker_command() -> list[str]:
    """The background task worker for the configured backend (Redis queue or database)."""
    from django.conf import settings

    manage = [sys.executable, "-m", "mufakat.cli", "manage"]
    if settings.CONFIG.redis_url:
        # RQ's own Job class cannot call a django.tasks Task; django_tasks_rq ships the shim.
        return [*manage, "rqworker", "--job-class", "django_tasks_rq.Job", "default"]
    return [*manage, "db_worker", "--queue-name", "default"]


def run_server(host: str, port: int, workers: int, with_worker: bool) -> None:
    from django.conf import settings

    from mufakat import serving

    worker: subprocess.Popen[bytes] | None = None
    if with_worker:
        worker = subprocess.Popen(worker_command())  # noqa: S603 - our own interpreter and module
        console.print(f"[dim]task worker started (pid {worker.pid})[/dim]")
    try:
        serving.serve(host, port, workers, settings.CONFIG.log_level.lower())
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8000,
    workers: Annotated[int, typer.Option(help="ASGI worker processes")] = 1,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Also run the background task worker")
    ] = True,
    migrate: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply migrations first")
    ] = True,
) -> None:
    """Run the web server (and, by default, the background task worker)."""
    _setup()
    if migrate:
        _migrate()
        collect_static()
    console.print(f"Mufakat on [bold]http://{host}:{port}/[/bold]")
    run_server(host, port, workers, worker)


def demo_table(users: list[Any]) -> Any:
    """One row per state with all its demo usernames, so the table fits one screen."""
    from rich.table import Table

    from mufakat.core.tenancy.demo import DEMO_PASSWORD

    by_state: dict[str, list[str]] = {}
    for u in users:
        by_state.setdefault(u.state, []).append(u.username)
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    table.add_column("State")
    table.add_column("Usernames")
    for state, names in by_state.items():
        table.add_row(state, "  ".join(names))
    return table


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load demo data and exit")] = False,
) -> None:
    """Create the database, load demo data and users for every member state, then serve."""
    _setup()
    from mufakat.core.tenancy.demo import load_demo

    with console.status("Applying migrations…"):
        _migrate()
    collect_static()
    users = load_demo(console)
    console.print(demo_table(users))
    console.print(
        "Roles: *-analyst analyst + reporter · *-viewer viewer · *-focal focal point · "
        "sg-admin organisation + platform admin.\n"
        "Focal points and sg-admin use two-factor codes; in a demo, get one with "
        "[bold]mufakat totp USERNAME[/bold]."
    )
    console.print(
        f"\nOpen [bold]http://{host}:{port}/[/bold]  ·  API docs at http://{host}:{port}/api/docs\n"
    )
    if not no_serve:
        run_server(host, port, 1, True)


@app.command()
def totp(username: str) -> None:
    """Print the current two-factor code of a demo account (development only)."""
    _setup()
    import pyotp
    from django.conf import settings

    from mufakat.core.models import Membership

    if settings.CONFIG.env == "production":
        console.print("[red]Refused: codes are only printed outside production.[/red]")
        raise typer.Exit(2)
    m = Membership.objects.filter(user__username=username, totp_confirmed=True).first()
    if m is None:
        console.print(f"[red]{username} has no two-factor enrolment.[/red]")
        raise typer.Exit(1)
    typer.echo(pyotp.TOTP(m.totp_secret).now())


@app.command(
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],
    }
)
def manage(ctx: typer.Context) -> None:
    """Django management passthrough, e.g. `mufakat manage migrate`."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["mufakat manage", *ctx.args])


@app.command()
def backup(
    target: Annotated[Path, typer.Argument(help="File to write")],
) -> None:
    """Consistent online backup (SQLite backup API, or pg_dump custom format on PostgreSQL)."""
    _setup()
    from mufakat.core.ops.backup import BackupError
    from mufakat.core.ops.backup import backup as do_backup

    try:
        size = do_backup(target, progress=console)
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Backup written to {target} ({size:,} bytes)")


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="Backup file made by `mufakat backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Replace the current database with a backup."""
    _setup()
    from mufakat.core.ops.backup import BackupError
    from mufakat.core.ops.backup import restore as do_restore

    if not yes and not typer.confirm(f"Replace the current database with {source}?"):
        raise typer.Exit(1)
    try:
        do_restore(source, progress=console)
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print("Restored.")


@audit_app.command("verify")
def audit_verify(
    anchors: Annotated[
        Path | None,
        typer.Option(help="File of anchors (from `audit anchor`) the chain must still match"),
    ] = None,
) -> None:
    """Check the audit hash chain; exit 1 and name the first broken entry if it was tampered with."""
    _setup()
    from mufakat.core.audit.log import Anchor, check_anchors, verify

    pinned: list[Anchor] = []
    if anchors is not None:
        try:
            lines = anchors.read_text(encoding="utf-8").splitlines()
            pinned = [Anchor.parse(line.strip()) for line in lines if line.strip()]
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            console.print(f"[red]Cannot read anchors from {anchors}:[/red] {exc}")
            raise typer.Exit(2) from None
    with console.status("Verifying audit chain…"):
        result = verify()
        if result.ok and pinned:
            against = check_anchors(pinned)
            if not against.ok:
                result = against
    if result.ok:
        also = f", matching {len(pinned)} anchors" if pinned else ""
        console.print(f"[green]Audit chain intact[/green]: {result.checked} entries{also}.")
        return
    console.print(
        f"[red]Audit chain broken at entry #{result.first_bad_seq}[/red]: {result.reason}"
    )
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(
    append: Annotated[
        Path | None,
        typer.Option(help="Also append the anchor to this file (keep it off this server)"),
    ] = None,
) -> None:
    """Print the chain tip as one anchor line, to keep outside the database (another machine,
    a report, a partner's records); `audit verify --anchors FILE` then shows any rewrite of
    the chain up to it, even one that recomputed every hash."""
    _setup()
    from mufakat.core.audit.log import anchor

    line = anchor().line()
    if append is not None:
        try:
            with append.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError as exc:
            console.print(f"[red]Cannot append to {append}:[/red] {exc}")
            raise typer.Exit(2) from None
    typer.echo(line)


MAX_TOKEN_DAYS = 365  # the same ceiling as the web form (Account → API tokens)


def parse_expiry(value: str) -> Any:
    """'90d' / '90' (days from now) or an ISO date / date-time, at most a year ahead."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone
    from django.utils.dateparse import parse_date, parse_datetime

    text = value.strip().lower()
    now = timezone.now()
    when: datetime | None = None
    if text.removesuffix("d").isdigit():
        when = now + timedelta(days=int(text.removesuffix("d")))
    elif (dt := parse_datetime(value.strip())) is not None:
        when = dt if timezone.is_aware(dt) else timezone.make_aware(dt)
    elif (d := parse_date(value.strip())) is not None:
        when = timezone.make_aware(datetime.combine(d, time.max.replace(microsecond=0)))
    if when is None:
        raise typer.BadParameter(f"{value!r}: give days (90d) or a date (2027-03-31).")
    if when <= now:
        raise typer.BadParameter(f"{value!r} is not in the future.")
    if when > now + timedelta(days=MAX_TOKEN_DAYS, minutes=1):
        raise typer.BadParameter(f"{value!r}: a token lives at most {MAX_TOKEN_DAYS} days.")
    return when


def _token_user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        console.print(f"[red]No user {username!r}.[/red]")
        raise typer.Exit(2)
    return user


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="The account the token acts as")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'OpenCTI sync'")],
    expires: Annotated[
        str, typer.Option(help="Days (90d) or a date (2027-03-31), at most a year ahead")
    ] = "90d",
) -> None:
    """Issue a bearer token for USER; the value is printed once and never stored."""
    _setup()
    from mufakat.core.accounts.auth import issue_token

    when = parse_expiry(expires)
    if not name.strip():
        raise typer.BadParameter("give the token a name.", param_hint="--name")
    user = _token_user(username)
    if not user.is_active:
        console.print(f"[red]User {username!r} is inactive.[/red]")
        raise typer.Exit(2)
    token, raw = issue_token(user, name.strip(), expires=when)
    console.print(
        f"Token {token.pk} [bold]{token.name}[/bold] for {username}, expires "
        f"{token.expires:%Y-%m-%d %H:%M %Z}. Copy it now, it is not shown again:",
        highlight=False,
    )
    typer.echo(raw)


@token_app.command("list")
def token_list(username: Annotated[str, typer.Argument(help="Whose tokens")]) -> None:
    """USER's tokens: id, name, prefix, expiry, last use (never the values)."""
    _setup()
    from django.utils import timezone
    from rich.table import Table

    from mufakat.core.models import ApiToken

    user = _token_user(username)
    table = Table(title=f"API tokens of {username}")
    for col in ("ID", "Name", "Prefix", "Created", "Expires", "Last used"):
        table.add_column(col)
    now = timezone.now()
    for t in ApiToken.objects.filter(user=user):
        expired = t.expires is not None and t.expires < now
        table.add_row(
            str(t.pk),
            t.name,
            t.prefix + "…",
            f"{t.created:%Y-%m-%d}",
            (f"{t.expires:%Y-%m-%d}" if t.expires else "never") + (" (expired)" if expired else ""),
            f"{t.last_used:%Y-%m-%d %H:%M}" if t.last_used else "never",
        )
    Console(width=120).print(table)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="Token id or prefix (from `token list`)")],
    user: Annotated[str | None, typer.Option(help="Only if it belongs to this user")] = None,
) -> None:
    """Revoke a token at once (by id or its mfk_ prefix)."""
    _setup()
    from mufakat.core.accounts.auth import revoke_token
    from mufakat.core.models import ApiToken

    qs = ApiToken.objects.select_related("user")
    qs = qs.filter(pk=int(token)) if token.isdigit() else qs.filter(prefix=token.rstrip("…"))
    if user is not None:
        qs = qs.filter(user__username=user)
    found = list(qs[:2])
    if not found:
        console.print(f"[red]No token {token!r}{f' of {user}' if user else ''}.[/red]")
        raise typer.Exit(2)
    if len(found) > 1:
        console.print(f"[red]Prefix {token!r} matches several tokens: revoke by id.[/red]")
        raise typer.Exit(2)
    revoke_token(found[0])
    console.print(f"Revoked token {found[0].pk} ({found[0].name}) of {found[0].user.username}.")


def _register_module_commands() -> None:
    """Mount each module's command group (e.g. `mufakat cui …`) from the module registry."""
    try:
        import django

        django.setup()  # loads app configs only; no database connection
        from mufakat.core import registry

        specs = registry.modules()
    except Exception:  # configuration errors are reported, without a traceback, by the command
        return
    for spec in specs:
        if spec.cli:
            app.add_typer(registry.resolve(spec.cli), name=spec.cli_name or spec.label)


def main() -> None:
    _register_module_commands()
    app()


if __name__ == "__main__":
    main()
