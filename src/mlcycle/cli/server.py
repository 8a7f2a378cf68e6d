"""``mlcycle server``: run the tracking server."""

from __future__ import annotations

from typing import Annotated

import typer

import mlcycle
import mlcycle.monitoring
from mlcycle.cli.context import state


def server(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 exposes the server to others.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            metavar="URI",
            help="Store: sqlite:///path.db or postgresql://user@host/db "
            "[default: the global --tracking-uri, $MLCYCLE_TRACKING_URI, ./.mlcycle/mlcycle.db]",
            show_default=False,
        ),
    ] = None,
    artifact_uri: Annotated[
        str | None,
        typer.Option(
            metavar="DIR",
            help="Artifact folder [default: the global --artifact-uri, $MLCYCLE_ARTIFACT_URI, "
            "./.mlcycle/artifacts]",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes sharing the port.")] = 1,
    max_body_mib: Annotated[
        float, typer.Option(help="Largest request body (JSON, metric batches) in MiB.")
    ] = 64.0,
    graceful_timeout: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="On SIGTERM or Ctrl-C: seconds in-flight requests get to finish (new "
            "connections are refused at once).",
        ),
    ] = 30.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    auth: Annotated[
        bool,
        typer.Option(
            "--auth",
            help="Require a token (bearer, or basic user:token) on every route but /health "
            "and /ready, with roles and approvals. Also $MLCYCLE_AUTH=1.",
        ),
    ] = False,
    artifacts_destination: Annotated[
        str | None,
        typer.Option(
            metavar="URI",
            help="Folder or s3:// URI where MLflow clients' proxy uploads outside any run go, "
            "laid out as mlflow server --artifacts-destination lays them out "
            "[default: mlflow/ in the artifact store]",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler", help="Also run monitors on their schedules (a background thread)."
        ),
    ] = False,
    scheduler_interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between the monitor scheduler's checks.")
    ] = 15.0,
) -> None:
    """Serve the tracking REST API (docs at /docs) until stopped with Ctrl-C.

    On Ctrl-C or SIGTERM, in-flight requests finish first, for up to --graceful-timeout
    seconds. Clients use it with MLCYCLE_TRACKING_URI=http://HOST:PORT and unchanged code.
    """
    # Imported here, not at the top: FastAPI and uvicorn add ~0.3 s to every other command.
    from mlcycle.server import ServerConfig, serve

    settings = (
        state(ctx).settings().with_overrides(tracking_uri=tracking_uri, artifact_uri=artifact_uri)
    )
    config = ServerConfig(
        max_body_bytes=int(max_body_mib * 2**20),
        graceful_shutdown_s=graceful_timeout,
        log_level=log_level,
        auth=auth or settings.auth,
        mlflow_artifacts_destination=artifacts_destination,
    )
    mode = "auth on" if config.auth else "auth OFF: anyone who can reach it can change anything"
    typer.echo(f"mlcycle server on http://{host}:{port} (API docs at /docs; {mode})", err=True)
    if not scheduler:
        serve(settings, host=host, port=port, workers=workers, config=config)
        return
    # One scheduler in this process, whatever the number of workers; each run is claimed
    # in the store first, so the schedulers of other servers on the store never repeat it.
    with mlcycle.Client(settings=settings) as monitors_client:
        ticker = mlcycle.monitoring.Scheduler(
            monitors_client.monitoring, interval_s=scheduler_interval
        ).start()
        typer.echo(f"monitor scheduler on (checks every {scheduler_interval:g} s)", err=True)
        try:
            serve(settings, host=host, port=port, workers=workers, config=config)
        finally:
            ticker.stop()


def register(app: typer.Typer) -> None:
    """Add the ``server`` command to the mlcycle CLI."""
    app.command("server")(server)
