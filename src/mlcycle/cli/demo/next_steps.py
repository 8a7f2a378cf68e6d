"""The last stage: commands to explore what the demo recorded."""

from __future__ import annotations

from rich.markup import escape

import mlcycle
import mlcycle.registry
from mlcycle.cli.demo.shared import (
    ALIAS,
    DATASET,
    DEPLOYMENT,
    EXPERIMENT,
    MODEL,
    MONITOR,
    PRIMARY_METRIC,
    THRESHOLD,
    DemoState,
)


def next_steps(s: DemoState) -> None:
    """Commands to explore what the demo recorded."""
    best = s.ranked[0].id if s.ranked else "RUN_ID"
    try:
        champion = mlcycle.registry.get_version(MODEL, alias=ALIAS, client=s.client).version
    except mlcycle.NotFoundError:
        champion = 1
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
        ("The deployment and its rollouts", s.command("deployments", "history", DEPLOYMENT)),
        ("Serve it again", s.command("deployments", "serve", DEPLOYMENT, "--port", "8080")),
        ("The monitor's results over time", s.command("monitors", "results", MONITOR)),
        ("The alerts it raised", s.command("alerts", "list")),
        ("Every change, who made it, and when", s.command("audit", "list")),
        ("Check that nobody edited the audit trail", s.command("audit", "verify")),
        (
            "A compliance bundle for the champion",
            s.command("governance", "export", MODEL, str(champion), "bundle.zip"),
        ),
        ("All of it in a browser (the web UI)", s.command("ui", "--port", "5000")),
        ("The tracking server for a team", s.command("server", "--port", "5000")),
    ]
    for label, command in commands:
        s.console.print(f"  [dim]{escape(label)}:[/]")
        s.console.print(f"    {command}", markup=False, highlight=False, soft_wrap=True)
    if s.files:
        s.console.print("  [dim]Files to open in a browser:[/]")
        for label, path in s.files.items():
            s.console.print(f"    {label}: {path}", markup=False, highlight=False, soft_wrap=True)
    s.console.print("Stopping the serving process and the webhook receiver.")
