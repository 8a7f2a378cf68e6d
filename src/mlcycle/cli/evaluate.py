"""``mlcycle evaluate MODEL_URI --data NAME@VERSION --target y``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

import mlcycle
import mlcycle.datasets as mds
from mlcycle.cli import output
from mlcycle.cli.context import client


def evaluate(
    ctx: typer.Context,
    model_uri: Annotated[str, typer.Argument(metavar="MODEL_URI", help="runs:/... or models:/...")],
    data: Annotated[
        str, typer.Option("--data", metavar="NAME[@VERSION]", help="A registered dataset.")
    ],
    target: Annotated[str | None, typer.Option("--target", help="The label column.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Also compute permutation importance and SHAP values (shap: "
            "pip install 'mlcycle[explain]').",
        ),
    ] = False,
    explain_budget: Annotated[
        float,
        typer.Option(
            "--explain-budget",
            metavar="SECONDS",
            min=0.001,
            help="Time for SHAP values of models without a tree or linear explainer.",
        ),
    ] = 60.0,
) -> None:
    """Evaluate a model on a registered dataset version and print its metrics.

    Example:

        mlcycle evaluate models:/churn@champion --data churn-test@2 --target churned --explain
    """
    cli = client(ctx)
    name, _, version = data.partition("@")
    if version and not (version.isascii() and version.isdigit()):
        raise typer.BadParameter(f"{data!r} is not NAME@VERSION", param_hint="'--data'")
    frame = mds.get(name, int(version) if version else None, client=cli).load()
    result = mlcycle.evaluate(
        model_uri,
        frame,
        target,
        log=False,
        client=cli,
        explain=explain,
        explain_budget_s=explain_budget,
    )
    if as_json:
        output.print_json(result.to_dict())
        return
    table = Table("Metric", "Value")
    for key, value in result.metrics.items():
        table.add_row(key, output.fmt_number(value))
    output.console().print(table)
    explanation = result.explanation
    if explanation is None:
        return
    importance = explanation.importance
    level = f"{importance.confidence * 100:.0f}%"
    shap_means = {} if explanation.shap is None else explanation.shap.mean_abs
    ranked = Table(
        "Feature",
        f"Importance ({importance.metric} drop)",
        f"{level} interval",
        "Mean |SHAP|",
        title="Feature importance",
    )
    for row in importance.table():
        mean_abs = shap_means.get(row["feature"])
        ranked.add_row(
            row["feature"],
            output.fmt_number(row["importance"]),
            f"{output.fmt_number(row['ci_low'])} .. {output.fmt_number(row['ci_high'])}",
            "" if mean_abs is None else output.fmt_number(mean_abs),
        )
    output.console().print(ranked)
    for note in explanation.notes:
        output.console().print(note)
