"""The ``mlcycle`` command: the root app, its global options, and the error table.

``main`` is the console script. It is the only place that turns exceptions into exit
codes: mlcycle's own errors (and file-system errors) become one ``error: ...`` line on
stderr and exit code 1; usage errors exit 2 (Click); anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

import mlcycle
from mlcycle.cli import (
    alerts,
    approvals,
    artifacts,
    audit,
    datasets,
    db,
    demo,
    deployments,
    evaluate,
    experiments,
    governance,
    images,
    models,
    monitors,
    predict,
    runs,
    serve,
    server,
    tokens,
    ui,
    users,
)
from mlcycle.cli.context import CliState

app = typer.Typer(
    name="mlcycle",
    epilog="New here? Run `mlcycle demo` for a tour.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(experiments.app)
app.add_typer(runs.app)
app.add_typer(artifacts.app)
app.add_typer(datasets.app)
app.add_typer(monitors.app)
app.add_typer(alerts.app)
app.add_typer(models.app)
app.add_typer(deployments.app)
app.add_typer(db.app)
app.add_typer(users.app)
app.add_typer(tokens.app)
app.add_typer(approvals.app)
app.add_typer(audit.app)
app.add_typer(governance.app)
server.register(app)
images.register(models.app, deployments.app)
serve.register(app)
ui.register(app)
app.command("gc")(db.gc)
app.command("demo")(demo.demo)
app.command("evaluate")(evaluate.evaluate)
app.command("predict")(predict.predict)

# The error table: exception classes that are the user's (or the environment's) problem.
USER_ERRORS: tuple[type[Exception], ...] = (mlcycle.MlcycleError, OSError)
USER_ERROR_EXIT = 1


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mlcycle {mlcycle.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            metavar="URI",
            help="Metadata store: sqlite:///path.db, postgresql://user@host/db or a path. "
            "Default: $MLCYCLE_TRACKING_URI, else ./.mlcycle/mlcycle.db.",
            show_default=False,
        ),
    ] = None,
    artifact_uri: Annotated[
        str | None,
        typer.Option(
            metavar="DIR",
            help="Artifact folder. Default: $MLCYCLE_ARTIFACT_URI, else ./.mlcycle/artifacts.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """mlcycle: track experiments and runs, compare them, and manage the store.

    Examples:

        mlcycle demo
        mlcycle experiments list
        mlcycle runs search churn --filter "metrics.roc_auc > 0.8"
        mlcycle --tracking-uri postgresql://mlcycle@db.internal/mlcycle runs list churn
    """
    ctx.obj = CliState(tracking_uri=tracking_uri, artifact_uri=artifact_uri)


def _one_line(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``); always exits."""
    command = typer.main.get_command(app)
    try:
        command.main(args=None if argv is None else list(argv), prog_name="mlcycle")
    except USER_ERRORS as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(USER_ERROR_EXIT)


if __name__ == "__main__":  # pragma: no cover
    main()
