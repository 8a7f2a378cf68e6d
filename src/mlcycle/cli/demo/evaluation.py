"""Stage 4, evaluation: rank the runs on the validation split; score the best once on the
test split; metrics, slices and fairness."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text

import mlcycle
from mlcycle.cli import output
from mlcycle.cli.demo.shared import (
    FINAL_METRICS,
    PRIMARY_METRIC,
    SENSITIVE_COLUMN,
    SESSION_TAG,
    SLICE_COLUMN,
    TARGET,
    THRESHOLD,
    DemoState,
)


def show_results(s: DemoState) -> None:
    """Rank this demo's runs by the primary metric with ``Client.search_runs``."""
    exp = s.need_experiment()
    s.ranked = list(
        s.client.search_runs(
            exp.id,
            filter=f"tags.`{SESSION_TAG}` = '{s.session}'",
            order_by=[f"metrics.{PRIMARY_METRIC} DESC"],
        )
    )
    best = s.ranked[0] if s.ranked else None
    goal = f"≥ {THRESHOLD}"
    name_width = output.name_column_width(r.name for r in s.ranked)
    # Always the mark, ID, model and primary metric; the rest as the terminal allows.
    optional = {"accuracy": 8, "f1": 6, goal: len(goal), "log_loss": 8, "Time": 6}
    shown = output.fitting(s.console.width, (1, 32, name_width, len(PRIMARY_METRIC)), optional)
    metrics = [PRIMARY_METRIC, *(k for k in FINAL_METRICS[1:] if k in shown)]
    table = Table(
        title=f"Runs of this demo, best {PRIMARY_METRIC} first (validation split)",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("", no_wrap=True, min_width=1)
    table.add_column("Run ID", no_wrap=True, min_width=32, style="cyan")
    table.add_column("Model", overflow="fold", min_width=name_width)
    for key in metrics:
        table.add_column(key, justify="right", no_wrap=True)
    if "Time" in shown:
        table.add_column("Time", justify="right", no_wrap=True)
    if goal in shown:
        table.add_column(goal, justify="center", no_wrap=True)
    for run in s.ranked:
        value = run.metrics.get(PRIMARY_METRIC)
        meets = value is not None and exp.problem.meets(value)
        is_best = best is not None and run.id == best.id
        cells: list[str | Text] = [
            Text(output.BEST, style="bold yellow") if is_best else "",
            run.id,
            Text(run.name),
            *(output.fmt_number(run.metrics.get(k)) for k in metrics),
        ]
        if "Time" in shown:
            cells.append(output.fmt_duration(run.duration))
        if goal in shown:
            cells.append(Text("yes", style="green") if meets else Text("no", style="red"))
        table.add_row(*cells, style="bold" if is_best else None)
    s.console.print(table)
    if best is not None:
        value = best.metrics.get(PRIMARY_METRIC, float("nan"))
        verdict = "meets" if exp.problem.meets(value) else "does not meet"
        s.console.print(
            f"{output.BEST} Best: [bold]{escape(best.name)}[/] with {PRIMARY_METRIC} "
            f"{output.fmt_number(value)}, which {verdict} the success threshold {THRESHOLD}."
        )
        show_evaluation(s, best)


def show_evaluation(s: DemoState, best: mlcycle.Run) -> None:
    """The best run scored once on the test split: its metrics and one slice."""
    if best.id not in s.evaluations or s.data is None:
        return
    result = mlcycle.evaluate(
        f"runs:/{best.id}/model",
        s.data.test,
        target=TARGET,
        slices=[SLICE_COLUMN],
        sensitive=SENSITIVE_COLUMN,
        log=False,
        client=s.client,
    )
    metrics = ", ".join(
        f"{k} {output.fmt_number(result.metrics.get(k))}"
        for k in ("accuracy", "precision", "recall", "pr_auc")
    )
    s.console.print(f"  Test split ({result.n_rows} rows): {metrics}", markup=False)
    bins = result.slices.get(SLICE_COLUMN, {})
    cells = [
        f"{label} n={int(m.get('n') or 0)} acc {output.fmt_number(m.get('accuracy'))}"
        for label, m in bins.items()
    ]
    if cells:
        s.console.print(f"  By {SLICE_COLUMN}: " + "; ".join(cells), markup=False)
    if result.explanation is not None:
        top = result.explanation.importance.table()[:3]
        s.console.print(
            "  Most important: "
            + ", ".join(f"{r['feature']} ({output.fmt_number(r['importance'])})" for r in top)
            + f" (drop in {result.explanation.importance.metric} when shuffled)",
            markup=False,
        )
    fairness = result.fairness.get(SENSITIVE_COLUMN)
    if fairness is not None:
        rates = ", ".join(
            f"{group} {output.fmt_number(m.get('selection_rate'))}"
            for group, m in fairness.groups.items()
        )
        s.console.print(
            f"  Fairness by {SENSITIVE_COLUMN}: selection rate {rates}; demographic parity "
            f"difference {output.fmt_number(fairness.demographic_parity_difference)}, "
            f"equalized odds difference {output.fmt_number(fairness.equalized_odds_difference)}",
            markup=False,
        )
