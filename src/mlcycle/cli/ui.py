"""``mlcycle ui``: the web UI over a local store, for one person."""

from __future__ import annotations

from typing import Annotated

import typer

from mlcycle.cli.context import state


def ui(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1 only).")] = 5000,
) -> None:
    """Serve the web UI over the local store on http://127.0.0.1:PORT until Ctrl-C.

    It opens no browser: open the printed URL.

    For a team, `mlcycle server --auth` serves the same UI with logins.
    """
    # Imported here, not at the top: FastAPI and uvicorn add ~0.3 s to every other command.
    from mlcycle.server import ServerConfig, serve

    settings = state(ctx).settings()
    if settings.is_remote:
        typer.echo(
            f"mlcycle ui serves a local store; {settings.tracking_uri} is a server: "
            "open its URL in a browser instead",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"mlcycle UI on http://127.0.0.1:{port}/ (store {settings.tracking_uri})")
    serve(settings, host="127.0.0.1", port=port, config=ServerConfig(log_level="warning"))


def register(app: typer.Typer) -> None:
    """Add the ``ui`` command to the mlcycle CLI."""
    app.command("ui")(ui)
