"""``mlcycle serve``: serve one model over HTTP (OIP v2 and MLflow's /invocations)."""

from __future__ import annotations

from typing import Annotated

import typer

from mlcycle.cli.context import state
from mlcycle.durations import parse_duration_ms

MaxBodyOption = Annotated[
    float,
    typer.Option(
        min=0.0,
        help="Largest request body in MiB; a larger one is answered 413 before it is read.",
    ),
]
GracefulOption = Annotated[
    float,
    typer.Option(
        min=0.0,
        help="On SIGTERM or Ctrl-C: seconds in-flight requests get to finish (new connections "
        "are refused at once) before the prediction log is flushed and the process exits.",
    ),
]


def serve(
    ctx: typer.Context,
    model_uri: Annotated[
        str,
        typer.Argument(
            metavar="MODEL_URI",
            help="models:/NAME/VERSION, models:/NAME@ALIAS (followed), runs:/RUN_ID/PATH "
            "or a model directory.",
        ),
    ],
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 exposes the server to others.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Server processes sharing the port.")] = 1,
    name: Annotated[
        str | None,
        typer.Option(
            help="The OIP model name and prediction-log deployment [default: the registered "
            "model's name, else the model directory's name].",
            show_default=False,
        ),
    ] = None,
    max_batch_size: Annotated[
        int, typer.Option(min=1, help="Most rows merged into one predict call.")
    ] = 64,
    max_latency_ms: Annotated[
        float, typer.Option(min=0.0, help="Longest a request waits for its batch to fill.")
    ] = 2.0,
    log_sample_rate: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of requests written to the prediction log."),
    ] = 1.0,
    poll_interval: Annotated[
        str, typer.Option(help="How often a models:/NAME@ALIAS is checked for a move.")
    ] = "1s",
    trust: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TYPE",
            help="A type to trust when loading the model (repeatable; see `mlcycle models load`).",
        ),
    ] = None,
    max_body_mib: MaxBodyOption = 64.0,
    graceful_timeout: GracefulOption = 10.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve a model until stopped with Ctrl-C: POST /v2/models/NAME/infer (Open Inference
    Protocol), POST /invocations (MLflow's formats and CSV), POST /feedback, GET /metrics.

    On Ctrl-C or SIGTERM, in-flight requests finish and the prediction log is written
    first, for up to --graceful-timeout seconds.

    Examples:

        mlcycle serve models:/churn@champion --port 8080
        curl -s localhost:8080/invocations -H 'content-type: application/json' \\
          -d '{"dataframe_records": [{"age": 41, "plan": "pro"}]}'
    """
    # Imported here: uvicorn and the serving app add ~0.3 s to every other command.
    from mlcycle.entities.deployments import ServingOptions
    from mlcycle.serving import ServingConfig, serve_model

    settings = state(ctx).settings()
    options = ServingOptions(
        max_batch_size=max_batch_size,
        max_latency_ms=max_latency_ms,
        log_sample_rate=log_sample_rate,
    )
    config = ServingConfig(
        poll_interval_s=parse_duration_ms(poll_interval, field="poll_interval") / 1000.0,
        trusted=tuple(trust or ()),
        log_level=log_level,
        max_body_bytes=max(1, int(max_body_mib * 2**20)),
        graceful_shutdown_s=graceful_timeout,
    )
    serve_model(
        model_uri,
        host=host,
        port=port,
        workers=workers,
        name=name,
        options=options,
        config=config,
        settings=settings,
    )


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the mlcycle CLI."""
    app.command("serve")(serve)
