"""``mlcycle runs``: list, show, search, compare, delete and restore runs."""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

import mlcycle
from mlcycle.cli import output
from mlcycle.cli.context import client, state
from mlcycle.cli.output import JsonOption
from mlcycle.cli.refs import resolve_run, short_ids
from mlcycle.suggest import did_you_mean

app = typer.Typer(
    name="runs",
    help="List, show, search, compare, delete and restore runs; a metric's history.",
    no_args_is_help=True,
)

RunId = Annotated[
    str, typer.Argument(metavar="RUN", help="The run's ID, a unique ID prefix or its name.")
]
MaxResults = Annotated[int, typer.Option(min=1, metavar="N", help="How many runs to show at most.")]
_ERROR_LINES = 6


def _preferred_metrics(cli: mlcycle.Client, experiment_ids: Sequence[str]) -> list[str]:
    """The primary metrics of the experiments, to show first."""
    metrics: list[str] = []
    for exp_id in dict.fromkeys(experiment_ids):
        metric = cli.get_experiment(exp_id).problem.primary_metric
        if metric is not None:
            metrics.append(metric)
    return metrics


def _print_runs(
    cli: mlcycle.Client,
    runs: mlcycle.RunList,
    *,
    preferred: Sequence[str] = (),
    more_hint: str | None = None,
) -> None:
    """The runs as a table; ``more_hint`` (followed by the page token) when more exist."""
    out = output.console()
    if not runs:
        out.print("No runs found.")
        return
    keys = output.metric_columns(
        runs, [*_preferred_metrics(cli, [r.experiment_id for r in runs]), *preferred]
    )
    table, hidden = output.runs_table(runs, metric_keys=keys, width=out.width)
    out.print(table)
    notes = [f"{len(runs)} run{'s' if len(runs) != 1 else ''}"]
    if hidden:
        notes.append(f"{hidden} more metrics not shown (see `runs show` or --json)")
    output.hint(out, ", ".join(notes) + ".")
    if runs.next_page_token is not None and more_hint:
        output.hint(out, more_hint + runs.next_page_token)


@app.command("list")
def list_(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Argument(metavar="EXPERIMENT", help="Experiment name or ID.")],
    max_results: MaxResults = 100,
    as_json: JsonOption = False,
) -> None:
    """List the runs of an experiment, newest first.

    With --json: a list of runs (params, latest metrics and tags each; times in
    milliseconds since the epoch).

    Example:

        mlcycle runs list churn --max-results 20
    """
    cli = client(ctx)
    runs = cli.search_runs(experiment, max_results=max_results)
    if as_json:
        output.print_json([output.run_dict(r) for r in runs])
        return
    search = ["runs", "search", experiment, "--max-results", str(max_results), "--page-token"]
    next_page = shlex.join(["mlcycle", *state(ctx).global_args(), *search])
    _print_runs(
        cli,
        runs,
        more_hint=f"More runs exist; the next {max_results}: {next_page} ",
    )


@app.command("search")
def search(
    ctx: typer.Context,
    experiments: Annotated[
        list[str], typer.Argument(metavar="EXPERIMENT", help="Experiment names or IDs.")
    ],
    filter: Annotated[
        str | None,
        typer.Option("--filter", "-f", metavar="EXPR", help="Which runs to keep (see above)."),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            "--order-by",
            "-o",
            metavar="FIELD [ASC|DESC]",
            help="Sort key; repeat for several. Default: start_time DESC.",
        ),
    ] = None,
    max_results: MaxResults = 100,
    page_token: Annotated[
        str | None,
        typer.Option(metavar="TOKEN", help="Continue after the page that printed this token."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Search the runs of one or more experiments with a filter.

    Filter fields: metrics.<key> (latest value), params.<key>, tags.<key>, and status,
    name, run_id, start_time, end_time, duration. Operators: = != < <= > >= LIKE ILIKE
    IN, NOT IN, IS NULL, IS NOT NULL, combined with AND, OR, NOT and parentheses.

    With --json: {"runs": [...], "next_page_token": TOKEN or null}.

    Examples:

        mlcycle runs search churn --filter "metrics.roc_auc > 0.8 and params.model = 'rf'"

        mlcycle runs search churn churn-v2 --order-by "metrics.roc_auc DESC" --max-results 5
    """
    cli = client(ctx)
    runs = cli.search_runs(
        experiments,
        filter=filter,
        order_by=order_by or None,
        max_results=max_results,
        page_token=page_token,
    )
    if as_json:
        output.print_json(
            {"runs": [output.run_dict(r) for r in runs], "next_page_token": runs.next_page_token}
        )
        return
    _print_runs(
        cli,
        runs,
        preferred=_ordered_metrics(order_by or []),
        more_hint="More runs match: add --page-token ",
    )


def _ordered_metrics(order_by: Sequence[str]) -> list[str]:
    """Metric keys named in order-by clauses, so the sort column is on screen."""
    keys = []
    for clause in order_by:
        for part in clause.split(","):
            words = part.strip().split()
            for prefix in ("metrics.", "metric."):
                if words and words[0].startswith(prefix):
                    keys.append(words[0][len(prefix) :].strip("`\"'"))
    return keys


@app.command("show")
def show(ctx: typer.Context, run_id: RunId, as_json: JsonOption = False) -> None:
    """Show one run: attributes, params, latest metrics, tags and artifacts.

    Example:

        mlcycle runs show 0191e7a2c4d07c3a8f2e5b6d9a1c3e4f
    """
    cli = client(ctx)
    run = cli.get_run(resolve_run(cli, run_id))
    if as_json:
        output.print_json(output.run_dict(run))
        return
    exp = cli.get_experiment(run.experiment_id)
    artifacts = cli.list_artifacts(run.id)
    error = None
    if run.error:
        error = Text("\n".join(run.error.strip().splitlines()[-_ERROR_LINES:]), style="red")
    deleted = run.lifecycle_stage is mlcycle.LifecycleStage.DELETED
    details = output.details_table(
        [
            ("Run", run.name),
            ("ID", run.id),
            ("Experiment", f"{exp.name} ({exp.id})"),
            ("Status", output.status_text(run.status)),
            ("Started", output.fmt_time(run.start_time)),
            ("Ended", output.fmt_time(run.end_time) if run.end_time else None),
            ("Duration", output.fmt_duration(run.duration) if run.end_time else None),
            ("Parent run", run.parent_id),
            ("Description", run.description),
            ("Deleted", output.fmt_time(run.deleted_at) if deleted else None),
            ("Error", error),
        ]
    )
    parts: list[RenderableType] = [details]
    if run.params:
        parts += ["", output.mapping_table("Params", run.params)]
    if run.metrics:
        parts += ["", output.mapping_table("Metrics (latest)", run.metrics)]
    if run.tags:
        parts += ["", output.mapping_table("Tags", run.tags)]
    parts += _lineage_lines(cli, run.id)
    if artifacts:
        parts += ["", _artifact_summary(artifacts, run.id)]
    output.console().print(Group(*parts))


def _lineage_lines(cli: mlcycle.Client, run_id: str) -> list[RenderableType]:
    """The dataset versions the run used and the model versions registered from it."""
    if cli.settings.is_remote:  # datasets and the registry are local-only for now
        return []
    lines: list[RenderableType] = []
    inputs = mlcycle.datasets.inputs_of(run_id, client=cli)
    if inputs:
        used = ", ".join(f"{i.name}@{i.version} ({i.context})" for i in inputs)
        lines.append(Text.assemble(("Inputs: ", "bold"), used))
    versions = mlcycle.registry.versions_of_run(run_id, client=cli)
    if versions:
        made = ", ".join(f"models:/{v.name}/{v.version}" for v in versions)
        lines.append(Text.assemble(("Registered: ", "bold"), made))
    return ["", *lines] if lines else []


def _artifact_summary(artifacts: Sequence[mlcycle.ArtifactInfo], run_id: str) -> Text:
    shown = ", ".join(a.path for a in artifacts[:8])
    more = f" and {len(artifacts) - 8} more" if len(artifacts) > 8 else ""
    return Text.assemble(
        ("Artifacts: ", "bold"),
        f"{shown}{more}\n",
        (f"(mlcycle artifacts list {run_id})", "dim"),
    )


@app.command("compare")
def compare(
    ctx: typer.Context,
    run_ids: Annotated[
        list[str],
        typer.Argument(metavar="RUN", help="Two or more runs: IDs, unique ID prefixes or names."),
    ],
    all_: Annotated[
        bool, typer.Option("--all", help="Also show params and metrics every run shares.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Compare runs side by side: the params and latest metrics that differ.

    With --json: an object with "runs" (run_id and name of each), "params" and "metrics"
    (each differing key mapped to its values in run order, null where a run lacks it),
    and "same_params" and "same_metrics" (the keys every run agrees on, with the value).

    Example:

        mlcycle runs compare 0191e7a2c4d07c3a8f2e5b6d9a1c3e4f 0191e7a2d1187a45b0c2d3e4f5a6b7c8
    """
    if len(run_ids) < 2:
        raise typer.BadParameter("give at least two run IDs to compare", param_hint="RUN_ID")
    cli = client(ctx)
    comparison = cli.compare_runs([resolve_run(cli, r) for r in run_ids], all_keys=all_)
    if as_json:
        output.print_json(
            {
                "runs": [{"run_id": r.id, "name": r.name} for r in comparison.runs],
                "params": comparison.params,
                "metrics": comparison.metrics,
                "same_params": comparison.same_params,
                "same_metrics": comparison.same_metrics,
            }
        )
        return
    out = output.console()
    table = Table(header_style="bold")
    table.add_column("")
    shorts = short_ids([r.id for r in comparison.runs])
    for run, short in zip(comparison.runs, shorts, strict=True):
        table.add_column(Text(f"{run.name}\n{short}"), overflow="fold")
    for key, values in comparison.params.items():
        label = output.abbreviate(f"params.{key}", output.KEY_WIDTH)
        table.add_row(Text(label), *(Text("-" if v is None else v) for v in values))
    output.add_metric_rows(table, comparison.metrics)
    if comparison.params or comparison.metrics:
        out.print(table)
    else:
        out.print("The runs have the same params and metrics.")
    if not all_:
        same = len(comparison.same_params) + len(comparison.same_metrics)
        if same:
            output.hint(
                out,
                f"{len(comparison.same_params)} params and {len(comparison.same_metrics)} "
                "metrics are the same in every run (--all shows them).",
            )


@app.command("delete")
def delete(ctx: typer.Context, run_id: RunId) -> None:
    """Delete a run and its child runs (soft: `runs restore` undoes it until `mlcycle gc`).

    Example:

        mlcycle runs delete 0191e7a2c4d07c3a8f2e5b6d9a1c3e4f
    """
    cli = client(ctx)
    run = cli.get_run(resolve_run(cli, run_id))
    cli.delete_run(run.id)
    out = output.console()
    out.print(f"Deleted run {run.name!r} ({run.id}).", markup=False)
    output.hint(
        out,
        f"Undo with: mlcycle runs restore {run.id}   (`mlcycle gc` removes deleted runs for good)",
    )


@app.command("restore")
def restore(ctx: typer.Context, run_id: RunId) -> None:
    """Restore a deleted run and its child runs.

    Example:

        mlcycle runs restore 0191e7a2c4d07c3a8f2e5b6d9a1c3e4f
    """
    cli = client(ctx)
    run = cli.get_run(resolve_run(cli, run_id, include_deleted=True))
    cli.restore_run(run.id)
    output.console().print(f"Restored run {run.name!r} ({run.id}).", markup=False)


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """``values`` as one line of block characters, at most ``width`` wide (each cell the
    mean of its bucket; NaN and infinities are left blank)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite or width < 1:
        return ""
    lo, hi = min(finite), max(finite)
    buckets = min(width, len(values))
    cells: list[str] = []
    for index in range(buckets):
        part = values[index * len(values) // buckets : (index + 1) * len(values) // buckets]
        good = [v for v in part if math.isfinite(v)]
        if not good:
            cells.append(" ")
            continue
        mean = sum(good) / len(good)
        level = 0 if hi == lo else round((mean - lo) / (hi - lo) * (len(_SPARKS) - 1))
        cells.append(_SPARKS[level])
    return "".join(cells)


@app.command("metric")
def metric(
    ctx: typer.Context,
    run_id: RunId,
    key: Annotated[str, typer.Argument(metavar="KEY", help="The metric's key.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print step,timestamp,value rows.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a metric's history: a sparkline with its first, min, max and last values.

    With --json: {"run_id", "key", "points": [{"step", "timestamp", "value"}]} (NaN and
    infinities as null); with --csv: a header and one step,timestamp,value row per point.

    Example:

        mlcycle runs metric lr-C0.1 loss
    """
    cli = client(ctx)
    run = cli.get_run(resolve_run(cli, run_id))
    if key not in run.metrics:
        raise mlcycle.NotFoundError(
            f"run {run.name!r} has no metric {key!r}" + did_you_mean(key, run.metrics),
            field="key",
        )
    history = cli.get_metric_history(run.id, key)
    steps, times, values = (
        history.steps.tolist(),
        history.timestamps.tolist(),
        history.values.tolist(),
    )
    if as_json:
        points = [
            {"step": s, "timestamp": t, "value": v}
            for s, t, v in zip(steps, times, values, strict=True)
        ]
        output.print_json({"run_id": run.id, "key": key, "points": points})
        return
    if as_csv:
        typer.echo("step,timestamp,value")
        for s, t, v in zip(steps, times, values, strict=True):
            typer.echo(f"{s},{t},{v!r}")
        return
    out = output.console()
    finite = [v for v in values if math.isfinite(v)]
    out.print(Text(f"{key} of run {run.name} ({run.id[:12]}): {len(values)} points", style="bold"))
    out.print(Text(sparkline(values, max(10, out.width - 2)), style="cyan"))
    if finite:
        low, high = values.index(min(finite)), values.index(max(finite))
        out.print(
            output.details_table(
                [
                    ("first", f"{output.fmt_number(values[0])} at step {steps[0]}"),
                    ("min", f"{output.fmt_number(values[low])} at step {steps[low]}"),
                    ("max", f"{output.fmt_number(values[high])} at step {steps[high]}"),
                    ("last", f"{output.fmt_number(values[-1])} at step {steps[-1]}"),
                ]
            )
        )
    output.hint(out, f"The points: mlcycle runs metric {run.id} {shlex.quote(key)} --csv")
