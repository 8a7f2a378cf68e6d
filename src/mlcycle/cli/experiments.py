"""``mlcycle experiments``: create, list, show, delete and restore experiments."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

import mlcycle
from mlcycle.cli import output
from mlcycle.cli.context import client
from mlcycle.cli.output import JsonOption

app = typer.Typer(
    name="experiments",
    help="Create, list, show, delete and restore experiments.",
    no_args_is_help=True,
)

NameOrId = Annotated[str, typer.Argument(metavar="NAME_OR_ID", help="Experiment name or ID.")]


def _parse_tags(items: list[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--tag'")
        tags[key.strip()] = value
    return tags


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="A unique name for the experiment.")],
    task: Annotated[
        mlcycle.Task, typer.Option(case_sensitive=False, help="The kind of prediction.")
    ] = mlcycle.Task.OTHER,
    target: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="The column the models predict.")
    ] = None,
    primary_metric: Annotated[
        str | None,
        typer.Option(metavar="METRIC", help="The metric that decides which run is best."),
    ] = None,
    direction: Annotated[
        mlcycle.Direction,
        typer.Option(case_sensitive=False, help="Whether a larger or smaller metric is better."),
    ] = mlcycle.Direction.MAXIMIZE,
    threshold: Annotated[
        float | None,
        typer.Option(help="Success threshold for the primary metric (needs --primary-metric)."),
    ] = None,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="A tag; repeat for several."),
    ] = None,
) -> None:
    """Create an experiment and state the problem it is about.

    The problem (task, target, primary metric, direction, threshold) tells mlcycle which
    run is best and whether it is good enough.

    Example:

        mlcycle experiments create churn --task classification --target churned \\
            --primary-metric roc_auc --direction maximize --threshold 0.8 --tag team=growth
    """
    exp = client(ctx).create_experiment(
        name,
        task=task,
        target=target,
        primary_metric=primary_metric,
        direction=direction,
        threshold=threshold,
        description=description,
        tags=_parse_tags(tag),
    )
    out = output.console()
    out.print(f"Created experiment [bold]{escape(exp.name)}[/] ({exp.id}).")
    output.hint(
        out,
        f"Log runs to it with mlcycle.start_run(experiment={exp.name!r}), "
        f"then see them with: mlcycle runs list {shlex.quote(exp.name)}",
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include deleted experiments.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List the experiments, oldest first (deleted ones too with --all).

    Example:

        mlcycle experiments list --all
    """
    experiments = client(ctx).list_experiments(include_deleted=all_)
    if as_json:
        output.print_json([output.experiment_dict(e) for e in experiments])
        return
    out = output.console()
    if not experiments:
        output.hint(
            out,
            "No experiments yet. Create one with `mlcycle experiments create NAME`, "
            "or try `mlcycle demo`.",
        )
        return
    name_width = output.name_column_width(e.name for e in experiments)
    goals = {e.id: output.problem_summary(e.problem, short=True) for e in experiments}
    # ID and name always; then, in this order, whichever of these fit the terminal.
    optional = {
        "Stage": 7 if all_ else 10_000,
        "Primary metric": max(14, *(len(g) for g in goals.values())),
        "Task": 14,
        "Created": 16,
    }
    shown = output.fitting(out.width, (32, name_width), optional)
    table = Table(header_style="bold")
    table.add_column("Experiment ID", no_wrap=True, min_width=32, style="cyan")
    table.add_column("Name", overflow="fold", min_width=name_width)
    for column in optional:
        if column in shown:
            table.add_column(column, no_wrap=True)
    for exp in experiments:
        deleted = exp.lifecycle_stage is mlcycle.LifecycleStage.DELETED
        values: dict[str, str | Text] = {
            "Stage": Text(exp.lifecycle_stage.value, style="red" if deleted else ""),
            "Primary metric": Text(goals[exp.id]),
            "Task": exp.problem.task.value,
            "Created": output.fmt_time(exp.created_at, seconds=False),
        }
        table.add_row(Text(exp.id), Text(exp.name), *(v for k, v in values.items() if k in shown))
    out.print(table)


@app.command("show")
def show(ctx: typer.Context, name_or_id: NameOrId, as_json: JsonOption = False) -> None:
    """Show one experiment: its problem, tags and best run so far.

    Example:

        mlcycle experiments show churn --json
    """
    cli = client(ctx)
    exp = cli.get_experiment(name_or_id)
    if as_json:
        output.print_json(output.experiment_dict(exp))
        return
    problem = exp.problem
    best = _best_run(cli, exp)
    rows: list[tuple[str, str | Text | None]] = [
        ("Name", exp.name),
        ("ID", exp.id),
        ("Stage", exp.lifecycle_stage.value),
        ("Description", exp.description),
        ("Task", problem.task.value),
        ("Target", problem.target),
        ("Primary metric", output.problem_summary(problem)),
        ("Created", output.fmt_time(exp.created_at)),
        ("Updated", output.fmt_time(exp.updated_at)),
        ("Deleted", output.fmt_time(exp.deleted_at) if exp.deleted_at else None),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(exp.tags.items())) or None),
    ]
    if best is not None and problem.primary_metric is not None:
        value = best.metrics[problem.primary_metric]
        verdict = ""
        if problem.threshold is not None:
            verdict = "  (meets the threshold)" if problem.meets(value) else "  (below threshold)"
        rows.append(
            (
                "Best run",
                f"{best.name} ({best.id}): {problem.primary_metric} = "
                f"{output.fmt_number(value)}{verdict}",
            )
        )
    output.console().print(output.details_table(rows))


def _best_run(cli: mlcycle.Client, exp: mlcycle.Experiment) -> mlcycle.Run | None:
    """The run with the best value of the primary metric, if any run logged it."""
    metric = exp.problem.primary_metric
    if metric is None:
        return None
    desc = "DESC" if exp.problem.direction is mlcycle.Direction.MAXIMIZE else "ASC"
    runs = cli.search_runs(
        exp.id, order_by=[f"{output.metric_field(metric)} {desc}"], max_results=1
    )
    return runs[0] if runs and metric in runs[0].metrics else None


@app.command("delete")
def delete(ctx: typer.Context, name_or_id: NameOrId) -> None:
    """Delete an experiment (soft: `experiments restore` brings it back until `mlcycle gc`).

    Example:

        mlcycle experiments delete churn
    """
    exp = client(ctx).delete_experiment(name_or_id)
    out = output.console()
    out.print(f"Deleted experiment {exp.name!r} ({exp.id}).", markup=False)
    output.hint(
        out,
        f"Undo with: mlcycle experiments restore {exp.id}   "
        "(`mlcycle gc` removes deleted experiments for good)",
    )


@app.command("restore")
def restore(ctx: typer.Context, name_or_id: NameOrId) -> None:
    """Restore a deleted experiment.

    Example:

        mlcycle experiments restore churn
    """
    exp = client(ctx).restore_experiment(name_or_id)
    output.console().print(f"Restored experiment {exp.name!r} ({exp.id}).", markup=False)
