"""Stage 1, the problem: an experiment with a task, target, metric and success threshold."""

from __future__ import annotations

from rich.markup import escape

import mlcycle
from mlcycle.cli import output
from mlcycle.cli.demo.shared import EXPERIMENT, PRIMARY_METRIC, TARGET, THRESHOLD, DemoState


def ensure_experiment(s: DemoState) -> None:
    """Reuse the demo experiment, or create it with its problem definition."""
    try:
        exp = s.client.get_experiment(EXPERIMENT)
        created = False
    except mlcycle.NotFoundError:
        try:
            exp = s.client.create_experiment(
                EXPERIMENT,
                task=mlcycle.Task.CLASSIFICATION,
                target=TARGET,
                primary_metric=PRIMARY_METRIC,
                direction=mlcycle.Direction.MAXIMIZE,
                threshold=THRESHOLD,
                description="mlcycle demo: predict which customers will leave (churn).",
                tags={"demo": "true"},
            )
            created = True
        except mlcycle.AlreadyExistsError:  # another demo created it just now
            exp = s.client.get_experiment(EXPERIMENT)
            created = False
    if exp.lifecycle_stage is mlcycle.LifecycleStage.DELETED:
        raise mlcycle.InvalidInputError(
            f"experiment {EXPERIMENT!r} is deleted; bring it back with "
            f"`{s.command('experiments', 'restore', EXPERIMENT)}`",
            field="experiment",
        )
    s.experiment = exp
    verb = "Created" if created else "Reusing"
    s.console.print(f"{verb} experiment [bold]{escape(exp.name)}[/] ({exp.id}).")
    s.console.print(
        f"Problem: {exp.problem.task.value}, target {exp.problem.target or '-'}, "
        f"primary metric {output.problem_summary(exp.problem)}.",
        markup=False,
    )
