"""Stage 8, retraining: the job the monitor runs when accuracy drops, and the canary it
starts.

:func:`retrain` is the monitor's retraining entry point
(``mlcycle.cli.demo.retraining:retrain``): it registers the labelled window as a new
dataset, splits it, trains the champion's family on the fresh data, evaluates it, and
registers the model as the next version. The monitor then runs the promotion gates and,
since the demo's monitor asks for it, starts a canary that moves @champion when it
completes.
"""

from __future__ import annotations

import time
from typing import Any

from rich.markup import escape
from rich.table import Table

import mlcycle
import mlcycle.datasets as mds
import mlcycle.deployments
import mlcycle.monitoring
import mlcycle.registry
from mlcycle.cli.demo.deployment import send_traffic, show_traffic
from mlcycle.cli.demo.shared import (
    ALIAS,
    DATASET,
    DEPLOYMENT,
    EXPERIMENT,
    MODEL,
    MONITOR,
    SEED,
    SENSITIVE_COLUMN,
    SLICE_COLUMN,
    TARGET,
    DemoState,
)
from mlcycle.cli.demo.training import preprocessing

FRESH_DATASET = f"{DATASET}-fresh"
CANARY_TIMEOUT_S = 60.0


def retrain(context: Any) -> dict[str, Any]:
    """Train on the monitor's labelled window; register the model as the next version."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    client: mlcycle.Client = context.client
    window = context.window.dropna(subset=["label"])
    frame = window.drop(columns=["prediction", "label"]).assign(
        **{TARGET: window["label"].astype("int64").to_numpy()}
    )
    fresh = mds.register(
        FRESH_DATASET,
        frame,
        description=f"Labelled predictions of {context.deployment}, from monitor {context.monitor}",
        client=client,
    )
    parts = mds.split(fresh, test=0.3, stratify=TARGET, seed=0, client=client)
    train, test = parts["train"].load(), parts["test"].load()
    features = [c for c in train.columns if c != TARGET]
    model = make_pipeline(preprocessing(), LogisticRegression(C=1.0, max_iter=500))
    model.fit(train[features], train[TARGET])
    tags = {"demo.family": "linear", "demo.retrained_from": str(context.model_version)}
    with mlcycle.start_run(
        EXPERIMENT, name="retrained-on-fresh-data", tags=tags, client=client
    ) as run:
        run.log_input(parts["train"], context="train")
        run.log_input(parts["test"], context="test")
        run.log_params(
            {
                "model": "LogisticRegression",
                "C": 1.0,
                "dataset": FRESH_DATASET,
                "dataset_version": fresh.version,
                "n_train": len(train),
            }
        )
        info = run.log_model(model, "model", input_example=train[features].head(5), register=MODEL)
        mlcycle.evaluate(
            model,
            test,
            target=TARGET,
            slices=[SLICE_COLUMN],
            sensitive=SENSITIVE_COLUMN,
            run=run,
            client=client,
        )
    version = getattr(info.registered_version, "version", None)
    return {"run_id": run.id, "version": version, "dataset_version": fresh.version}


def follow_canary(s: DemoState) -> None:
    """Send the shifted customers while the canary moves traffic to the new version."""
    from mlcycle.cli.demo import churn

    rows = 600 if s.fast else 1_500
    deadline = time.monotonic() + CANARY_TIMEOUT_S
    batch = 0
    report = None
    while time.monotonic() < deadline:
        state = mlcycle.deployments.status(DEPLOYMENT, client=s.client)
        if state.deployment.canary is None:
            break
        frame = churn.generate(rows, seed=SEED + 10 + batch, shift=1.0)
        report = send_traffic(s, frame.drop(columns=[TARGET]), "Traffic during the canary")
        versions = ", ".join(f"v{v}: {n}" for v, n in sorted(report.versions.items()))
        s.console.print(f"  canary step: {report.requests} requests answered by {versions}")
        batch += 1
    if report is not None:
        show_traffic(s, report, "Traffic at the end of the canary")


def retraining(s: DemoState) -> None:
    """Show what the trigger did, then follow the canary to full traffic."""
    runs = mlcycle.monitoring.retrains(MONITOR, client=s.client)
    if not runs:
        s.console.print("[yellow]The retraining job did not run.[/]")
        return
    latest = runs[-1]
    s.console.print(
        f"Retraining job {escape(latest.target)}: {latest.status.value} - "
        f"{escape(latest.message or '')}",
    )
    if latest.new_version is None:
        return
    results = mlcycle.registry.gate_results(MODEL, latest.new_version, client=s.client)
    for result in results:
        mark = "[green]✓[/]" if result.passed else "[red]✗[/]"
        s.console.print(f"  {mark} gate {escape(result.gate)}: {escape(result.detail)}")
    s.notes["retrained_version"] = latest.new_version
    follow_canary(s)
    history = mlcycle.deployments.history(DEPLOYMENT, client=s.client)
    table = Table(title=f"Deployment {DEPLOYMENT}: history", title_justify="left")
    for column in ("revision", "action", "reason"):
        table.add_column(column)
    for event in history[-6:]:
        table.add_row(str(event.revision), event.action, escape(event.reason or ""))
    s.console.print(table)
    champion = mlcycle.registry.get_version(MODEL, alias=ALIAS, client=s.client)
    s.console.print(f"@{ALIAS} is now version {champion.version}.")
