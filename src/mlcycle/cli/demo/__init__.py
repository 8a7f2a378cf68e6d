"""``mlcycle demo``: one model carried through the whole lifecycle, for real.

The demo is a sequence of :class:`Stage` objects run in order over one shared
:class:`DemoState`: each stage reads what earlier stages left there and adds its own
results. One module per stage, in lifecycle order: :mod:`.problem`, :mod:`.data`,
:mod:`.training`, :mod:`.evaluation`, :mod:`.registry`, then :mod:`.next_steps`. The data is a
synthetic churn table (:mod:`.churn`), generated from a seed.

Whatever a stage starts (a serving process, a webhook receiver) registers a way to stop it
in ``DemoState.cleanup``; the command stops everything when the demo ends, fails or is
interrupted with Ctrl-C.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mlcycle.cli import output
from mlcycle.cli.context import client, state
from mlcycle.cli.demo.data import load_data
from mlcycle.cli.demo.deployment import deploy
from mlcycle.cli.demo.evaluation import show_results
from mlcycle.cli.demo.monitoring import monitor
from mlcycle.cli.demo.next_steps import next_steps
from mlcycle.cli.demo.problem import ensure_experiment
from mlcycle.cli.demo.registry import promote_best
from mlcycle.cli.demo.retirement import retire
from mlcycle.cli.demo.retraining import retraining
from mlcycle.cli.demo.shared import (
    ALIAS,
    DATASET,
    EXPERIMENT,
    MODEL,
    PRIMARY_METRIC,
    SESSION_TAG,
    TARGET,
    THRESHOLD,
    DemoState,
    Stage,
)
from mlcycle.cli.demo.training import train_models

__all__ = [
    "ALIAS",
    "DATASET",
    "EXPERIMENT",
    "MODEL",
    "PRIMARY_METRIC",
    "SESSION_TAG",
    "TARGET",
    "THRESHOLD",
    "DemoState",
    "Stage",
    "demo",
    "run_stages",
    "stages",
]


def stages() -> list[Stage]:
    """The demo's stages, in order."""
    return [
        Stage("Problem", ensure_experiment),
        Stage("Data", load_data),
        Stage("Training", train_models),
        Stage("Evaluation", show_results),
        Stage("Registry", promote_best),
        Stage("Deployment", deploy),
        Stage("Monitoring", monitor),
        Stage("Retraining", retraining),
        Stage("Retirement", retire),
        Stage("Next steps", next_steps),
    ]


def demo(
    ctx: typer.Context,
    fast: Annotated[
        bool, typer.Option("--fast", help="Smaller data and fewer models (for tests).")
    ] = False,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            metavar="URI",
            help="Where the demo runs: a store URI or a server (http://host:port); the same "
            "as the global --tracking-uri.",
            show_default=False,
        ),
    ] = None,
    artifact_uri: Annotated[
        str | None,
        typer.Option(
            metavar="DIR", help="The same as the global --artifact-uri.", show_default=False
        ),
    ] = None,
) -> None:
    """Carry one model through the whole lifecycle, on your machine, in a few minutes.

    Creates (or reuses) the experiment demo-churn with its success metric; generates a
    customer-churn table (numeric and categorical columns, seeded) and registers it as the
    dataset demo-churn, profiles, validates and splits it; sweeps three model families,
    each model a tracked run with its data inputs, params, learning curves and the model
    (registered as demo-churn); evaluates them on the test split with slices and fairness;
    promotes the best through the gates to @champion. Run it as often as you like: the data
    stays one version, each run adds runs and model versions.

    Examples:

        mlcycle demo

        mlcycle --tracking-uri /tmp/demo.db --artifact-uri /tmp/demo-artifacts demo --fast

        mlcycle demo --tracking-uri http://127.0.0.1:5000
    """
    options = state(ctx)
    if tracking_uri is not None:
        options.tracking_uri = tracking_uri
    if artifact_uri is not None:
        options.artifact_uri = artifact_uri
    cli = client(ctx)
    demo_state = DemoState(
        client=cli,
        console=output.console(),
        fast=fast,
        global_args=state(ctx).global_args(),
        workdir=demo_workdir(cli.settings.artifact_uri),
    )
    run_stages(demo_state, stages())


def demo_workdir(artifact_uri: str) -> Path:
    """Where the demo writes the files it shows (model cards, the drift report): beside
    local artifacts, or in ./.mlcycle/demo when the artifacts are in object storage."""
    if "://" in artifact_uri and not artifact_uri.startswith("file://"):
        return Path(".mlcycle").resolve() / "demo"
    return Path(artifact_uri.removeprefix("file://")).parent / "demo"


def run_stages(demo_state: DemoState, steps: Sequence[Stage]) -> None:
    """Run ``steps`` in order, then stop whatever they started, however they end."""
    out = demo_state.console
    settings = demo_state.client.settings
    out.rule("[bold magenta]mlcycle demo[/]")
    out.print(
        "Carries a customer-churn model through its whole life: the problem, versioned "
        "data, tracked training, evaluation, a registry with promotion gates, serving, "
        "monitoring, retraining and retirement."
    )
    out.print(
        f"[dim]Store: {escape(output.mask_uri(settings.tracking_uri))}\n"
        f"Artifacts: {escape(settings.artifact_uri)}[/]"
    )
    demo_state.workdir.mkdir(parents=True, exist_ok=True)
    demo_state.notes["started_ms"] = int(time.time() * 1000)
    try:
        for number, stage in enumerate(steps, 1):
            out.print()
            out.rule(f"[bold]{number}/{len(steps)}  {escape(stage.title)}[/]", align="left")
            stage.run(demo_state)
    finally:
        while demo_state.cleanup:
            demo_state.cleanup.pop()()
