"""Store maintenance: ``mlcycle db upgrade`` and ``mlcycle gc``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.entities.governance import RetentionReport
from mlcycle.errors import InvalidInputError
from mlcycle.store.sql.store import open_store, secret_box

app = typer.Typer(name="db", help="Manage the metadata store.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the store's schema to this version of mlcycle (a new store is created).

    Run it after upgrading mlcycle when a command says the store needs an upgrade.
    It prints the schema revision before and after.

    Example:

        mlcycle --tracking-uri postgresql://mlcycle@db.internal/mlcycle db upgrade
    """
    cli = client(ctx)
    before, after = cli.upgrade_store()
    out = output.console()
    out.print(f"Store:  {output.mask_uri(cli.settings.tracking_uri)}", markup=False)
    out.print(f"Before: {before or '(empty store)'}", markup=False)
    note = "  (already up to date)" if before == after else ""
    out.print(f"After:  {after}{note}", markup=False)


@app.command("reseal-secrets")
def reseal_secrets(ctx: typer.Context) -> None:
    """Re-encrypt the stored webhook secrets under MLCYCLE_SECRET_KEY (after a key
    rotation, with the old key in MLCYCLE_SECRET_KEYS_OLD; or to encrypt secrets stored
    before a key was set). Run it on a machine with direct store access.

    Example:

        MLCYCLE_SECRET_KEY=$NEW MLCYCLE_SECRET_KEYS_OLD=$OLD mlcycle db reseal-secrets
    """
    settings = client(ctx).settings
    if not settings.secret_key:
        raise InvalidInputError(
            "set MLCYCLE_SECRET_KEY (the key to encrypt with) first", field="secret_key"
        )
    if settings.is_remote:
        raise InvalidInputError(
            "reseal-secrets works on the store itself: give its URI, not a server's",
            field="tracking_uri",
        )
    store = open_store(settings.tracking_uri, secrets=secret_box(settings))
    try:
        count = store.monitoring.reseal_secrets()
    finally:
        store.close()
    output.console().print(f"Re-encrypted {count} webhook secrets", markup=False)


def gc(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            metavar="DURATION",
            help="Only what was deleted longer ago than this: 30d, 12h, 15m, 10s, 500ms, 2w.",
        ),
    ] = "30d",
    retired_artifacts: Annotated[
        str,
        typer.Option(
            metavar="DURATION",
            help="Delete the artifacts of model versions retired longer ago than this "
            "(not those under legal hold).",
        ),
    ] = "90d",
    prediction_logs: Annotated[
        str,
        typer.Option(metavar="DURATION", help="Delete prediction logs older than this."),
    ] = "180d",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Remove deleted runs and experiments for good, with their artifacts; apply
    retention to retired model versions' artifacts and to prediction logs.

    Only runs and experiments deleted (with `runs delete` / `experiments delete`)
    longer ago than --older-than are removed; deleting an experiment removes its runs.
    Retention needs the store itself (it is skipped against a server).

    With --json: {"runs": N, "experiments": N, "older_than": DURATION, "retention": {...}}.

    Example:

        mlcycle gc --older-than 7d --prediction-logs 365d
    """
    cli = client(ctx)
    removed = cli.gc(older_than)
    runs, experiments = removed.get("runs", 0), removed.get("experiments", 0)
    report = None
    if not cli.settings.is_remote:
        report = cli.governance.apply_retention(
            retired_artifacts=retired_artifacts, prediction_logs=prediction_logs
        )
    if as_json:
        output.print_json(
            {
                "runs": runs,
                "experiments": experiments,
                "older_than": older_than,
                "retention": None if report is None else report.to_dict(),
            }
        )
        return
    out = output.console()
    if report is not None:
        _print_retention(out, report)
    if not runs and not experiments:
        out.print(
            f"Nothing to remove: no runs or experiments were deleted more than {older_than} ago.",
            markup=False,
        )
        return
    out.print(
        f"Removed {runs} run{'s' if runs != 1 else ''} and {experiments} "
        f"experiment{'s' if experiments != 1 else ''} deleted more than {older_than} ago, "
        "with their artifacts.",
        markup=False,
    )


def _print_retention(out: Console, report: RetentionReport) -> None:
    if report.retired_versions:
        out.print(
            "Deleted the artifacts of retired model versions: "
            + ", ".join(report.retired_versions),
            markup=False,
        )
    if report.held_versions:
        out.print(f"Kept under legal hold: {', '.join(report.held_versions)}", markup=False)
    if report.prediction_partitions:
        out.print(
            f"Deleted {len(report.prediction_partitions)} prediction-log partition(s).",
            markup=False,
        )
