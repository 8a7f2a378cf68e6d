"""``mlcycle demo --fast``, end to end: what it prints and what it leaves in the store."""

from __future__ import annotations

import mlcycle
from mlcycle.cli import demo, output
from tests.cli.conftest import Cli

FAST_MODELS = {"logistic-regression", "random-forest", "knn"}


def _best_line(stdout: str) -> str:
    marked = [line for line in stdout.splitlines() if output.BEST in line and "│" in line]
    assert len(marked) == 1, stdout
    return marked[0]


def test_demo_fast_twice(cli: Cli) -> None:
    first = cli.ok("demo", "--fast")
    assert "mlcycle demo" in first.stdout
    assert "Created experiment demo-breast-cancer" in first.stdout
    assert first.stderr == ""

    with cli.client() as client:
        exp = client.get_experiment(demo.EXPERIMENT)
        assert exp.problem == mlcycle.Problem(
            task=mlcycle.Task.CLASSIFICATION,
            target="malignant",
            primary_metric="roc_auc",
            direction=mlcycle.Direction.MAXIMIZE,
            threshold=0.9,
        )
        runs = client.search_runs(exp.id, order_by=["metrics.roc_auc DESC"])
        assert {r.name for r in runs} == FAST_MODELS
        for run in runs:
            assert run.status is mlcycle.RunStatus.FINISHED
            for key in ("roc_auc", "accuracy", "f1", "log_loss", "val_loss", "val_roc_auc"):
                assert key in run.metrics, (run.name, key)
            assert 0.5 < run.metrics["roc_auc"] <= 1.0
            assert run.params["dataset"] == demo.DATASET
            files = {a.path for a in client.list_artifacts(run.id)}
            assert {"evaluation.json", "classification_report.txt"} <= files
        by_name = {r.name: r for r in runs}
        curve = client.get_metric_history(by_name["logistic-regression"].id, "val_loss")
        assert len(curve) == 5  # one point per solver iteration in --fast
        assert list(curve.steps) == [1, 2, 3, 4, 5]

    # The results table marks the run with the best roc_auc, and the advice is runnable.
    best = runs[0]
    assert best.id in _best_line(first.stdout)
    assert f"Best: {best.name} with roc_auc" in first.stdout
    assert f"--tracking-uri {cli.tracking_uri}" in first.stdout
    assert "runs list demo-breast-cancer" in first.stdout
    assert f"runs show {best.id}" in first.stdout

    second = cli.ok("demo", "--fast", env={"COLUMNS": "80"})  # a narrow terminal
    assert "Reusing experiment demo-breast-cancer" in second.stdout
    all_runs = cli.ok("runs", "list", demo.EXPERIMENT, "--json").json()
    assert len(all_runs) == 2 * len(FAST_MODELS)
    sessions = {r["tags"][demo.SESSION_TAG] for r in all_runs}
    assert len(sessions) == 2
    # The second table only shows the second demo's runs, and still marks the best in full.
    first_ids = {r.id for r in runs}
    second_rows = [line for line in second.stdout.splitlines() if "│" in line]
    assert not any(run_id in line for line in second_rows for run_id in first_ids)
    assert all(len(line) <= 80 for line in second.stdout.splitlines() if "│" in line)
    second_best = max(
        (r for r in all_runs if r["run_id"] not in first_ids), key=lambda r: r["metrics"]["roc_auc"]
    )
    assert second_best["run_id"] in _best_line(second.stdout)


def test_demo_refuses_a_deleted_experiment(cli: Cli) -> None:
    cli.ok("experiments", "create", demo.EXPERIMENT)
    cli.ok("experiments", "delete", demo.EXPERIMENT)
    result = cli("demo", "--fast")
    assert result.exit_code == 1
    error = result.stderr.splitlines()
    assert len(error) == 1
    assert "experiments restore demo-breast-cancer" in error[0]
