"""The last stage: commands to explore what the demo recorded."""

from __future__ import annotations

from rich.markup import escape

from mlcycle.cli.demo.shared import (
    ALIAS,
    DATASET,
    EXPERIMENT,
    MODEL,
    PRIMARY_METRIC,
    THRESHOLD,
    DemoState,
)


def next_steps(s: DemoState) -> None:
    """Commands to explore what the demo recorded."""
    best = s.ranked[0].id if s.ranked else "RUN_ID"
    others = [r.id for r in s.ranked[:3]] or ["RUN_ID", "RUN_ID"]
    search = (
        "runs",
        "search",
        EXPERIMENT,
        "--filter",
        f"metrics.{PRIMARY_METRIC} >= {THRESHOLD}",
        "--order-by",
        f"metrics.{PRIMARY_METRIC} DESC",
    )
    commands = [
        ("All runs of the experiment", s.command("runs", "list", EXPERIMENT)),
        ("The best run in detail", s.command("runs", "show", best)),
        ("Compare the top runs", s.command("runs", "compare", *others)),
        ("Search with a filter", s.command(*search)),
        ("The best run's files", s.command("artifacts", "list", best)),
        ("The experiment and its problem", s.command("experiments", "show", EXPERIMENT)),
        ("The dataset, its profile and splits", s.command("datasets", "show", DATASET)),
        ("The registered model's versions", s.command("models", "versions", MODEL)),
        (
            "Where the champion came from",
            s.command("models", "lineage", MODEL, "--alias", ALIAS),
        ),
    ]
    for label, command in commands:
        s.console.print(f"  [dim]{escape(label)}:[/]")
        s.console.print(f"    {command}", markup=False, highlight=False, soft_wrap=True)
