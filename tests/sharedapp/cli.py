from __future__ import annotations

import typer

app = typer.Typer(help="Test module commands.", no_args_is_help=True)


@app.command()
def count(username: str) -> None:
    """How many dossiers USERNAME may see."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from tests.sharedapp.queries import visible

    user = get_user_model().objects.get(username=username)
    typer.echo(str(visible(user).count()))


@app.command()
def hello() -> None:
    """A command that needs no database."""
    typer.echo("hello from the test module")
