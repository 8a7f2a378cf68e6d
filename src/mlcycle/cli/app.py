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
from mlcycle.cli.context import CliState
from mlcycle.cli.lazy import LazyCommand, LazyGroup
from mlcycle.errors import UntrustedTypesError


class MlcycleGroup(LazyGroup):
    """The root command: every subcommand's module is imported when it runs, not before."""

    lazy = (
        LazyCommand(
            "server",
            "mlcycle.cli.server:server",
            "Serve the tracking REST API (docs at /docs) until stopped with Ctrl-C.",
        ),
        LazyCommand(
            "serve",
            "mlcycle.cli.serve:serve",
            "Serve a model until stopped with Ctrl-C: POST /v2/models/NAME/infer (Open "
            "Inference\nProtocol), POST /invocations (MLflow's formats and CSV), POST "
            "/feedback, GET /metrics.",
        ),
        LazyCommand(
            "ui",
            "mlcycle.cli.ui:ui",
            "Serve the web UI over the local store on http://127.0.0.1:PORT until Ctrl-C.",
        ),
        LazyCommand(
            "gc",
            "mlcycle.cli.db:gc",
            "Remove deleted runs and experiments for good, with their artifacts; apply\n"
            "retention to retired model versions' artifacts and to prediction logs.",
        ),
        LazyCommand(
            "demo",
            "mlcycle.cli.demo:demo",
            "Carry one model through the whole lifecycle, on your machine, in a few minutes.",
        ),
        LazyCommand(
            "evaluate",
            "mlcycle.cli.evaluate:evaluate",
            "Evaluate a model on a registered dataset version and print its metrics.",
        ),
        LazyCommand(
            "predict",
            "mlcycle.cli.predict:predict",
            "Predict every row of a file or dataset with a model, into a Parquet file.",
        ),
        LazyCommand(
            "experiments",
            "mlcycle.cli.experiments:app",
            "Create, list, show, delete and restore experiments.",
        ),
        LazyCommand(
            "runs",
            "mlcycle.cli.runs:app",
            "List, show, search, compare, delete and restore runs; a metric's history.",
        ),
        LazyCommand(
            "artifacts", "mlcycle.cli.artifacts:app", "List and download the files runs stored."
        ),
        LazyCommand(
            "datasets",
            "mlcycle.cli.datasets:app",
            "Register, list, show, profile, validate, diff and split datasets.",
        ),
        LazyCommand(
            "monitors",
            "mlcycle.cli.monitors:app",
            "Monitor deployments: drift, data quality, performance, alerts, retraining.",
        ),
        LazyCommand(
            "alerts",
            "mlcycle.cli.alerts:app",
            "Alerts raised by monitors: list, show, acknowledge.",
        ),
        LazyCommand(
            "models",
            "mlcycle.cli.images:MODELS",
            "The model registry: list, show, versions, compare, alias, promote, lineage.",
            extra=(
                ("build-context", "mlcycle.cli.images:build_context"),
                ("build-docker", "mlcycle.cli.images:build_docker"),
            ),
        ),
        LazyCommand(
            "deployments",
            "mlcycle.cli.images:DEPLOYMENTS",
            "Deployments: create, list, status, history, split, canary, shadow, rollback, serve.",
            extra=(("build-context", "mlcycle.cli.images:deployment_build_context"),),
        ),
        LazyCommand("db", "mlcycle.cli.db:app", "Manage the metadata store."),
        LazyCommand(
            "users", "mlcycle.cli.users:app", "Users, roles and grants (for a server with --auth)."
        ),
        LazyCommand("tokens", "mlcycle.cli.tokens:app", "API tokens: create, list, revoke."),
        LazyCommand(
            "approvals",
            "mlcycle.cli.approvals:app",
            "Four eyes: request, approve, reject and list approvals of protected changes.",
        ),
        LazyCommand("audit", "mlcycle.cli.audit:app", "The audit trail: list, verify, export."),
        LazyCommand(
            "ui",
            "mlcycle.cli.ui:ui",
            "Serve the web UI over the local store on http://127.0.0.1:PORT until Ctrl-C.",
        ),
        LazyCommand(
            "governance",
            "mlcycle.cli.governance:app",
            "Compliance bundles, protected aliases and deployments, legal holds.",
        ),
    )


app = typer.Typer(
    name="mlcycle",
    cls=MlcycleGroup,
    epilog="New here? Run `mlcycle demo` for a tour.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

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
    message = exc.cli_message() if isinstance(exc, UntrustedTypesError) else str(exc)
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
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
