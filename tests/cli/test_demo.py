"""``mlcycle demo --fast``, end to end: what it prints and what it leaves in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
import mlcycle.datasets as mds
import mlcycle.deployments
import mlcycle.monitoring
import mlcycle.registry
from mlcycle.cli import demo, output
from mlcycle.cli.demo.shared import DEPLOYMENT, ESTIMATE_MONITOR, MONITOR
from mlcycle.entities import ModelVersionStatus
from tests.cli.conftest import Cli

FAST_MODELS = {"logistic-regression-c1", "random-forest-d6", "boosting-lr0.1"}


def _best_line(stdout: str) -> str:
    marked = [line for line in stdout.splitlines() if output.BEST in line and "│" in line]
    assert len(marked) == 1, stdout
    return marked[0]


# Two whole demos: a generous ceiling against hangs, not a speed check (make bench times it).
@pytest.mark.timeout(1800)
def test_demo_fast_twice(cli: Cli) -> None:
    first = cli.ok("demo", "--fast")
    assert "mlcycle demo" in first.stdout
    assert "Created experiment demo-churn" in first.stdout
    assert first.stderr == ""

    with cli.client() as client:
        exp = client.get_experiment(demo.EXPERIMENT)
        assert exp.problem == mlcycle.Problem(
            task=mlcycle.Task.CLASSIFICATION,
            target="churned",
            primary_metric="roc_auc",
            direction=mlcycle.Direction.MAXIMIZE,
            threshold=0.7,
        )
        runs = client.search_runs(exp.id, order_by=["metrics.roc_auc DESC"])
        assert {r.name for r in runs} == {*FAST_MODELS, "retrained-on-fresh-data"}
        runs_by_auc = [r for r in runs if r.name in FAST_MODELS]
        for run in runs:
            assert run.status is mlcycle.RunStatus.FINISHED
            for key in ("roc_auc", "accuracy", "f1", "log_loss"):
                assert key in run.metrics, (run.name, key)
            assert 0.7 < run.metrics["roc_auc"] <= 1.0
            assert "fairness/senior/demographic_parity_difference" in run.metrics, run.metrics
            files = {a.path for a in client.list_artifacts(run.id)}
            assert {"model/model.json", "evaluation/evaluation.json"} <= files, files
            if run.name not in FAST_MODELS:
                continue
            assert {"val_loss", "val_roc_auc"} <= set(run.metrics)  # learning curves
            assert run.params["dataset"] == demo.DATASET
            inputs = {i.context: i.name for i in mds.inputs_of(run.id, client=client)}
            assert inputs == {
                "train": f"{demo.DATASET}-train",
                "validation": f"{demo.DATASET}-validation",
                "test": f"{demo.DATASET}-test",
            }
        # The data stage: one profiled, validated version and its three split versions.
        data = mds.get(demo.DATASET, client=client)
        assert data.version == 1
        assert data.profile.num_rows == 4000
        assert data.profile.num_columns == 11
        assert data.profile.column("contract").numeric is None  # categorical columns too
        assert data.validation is not None
        assert data.validation.passed
        for part in ("train", "validation", "test"):
            assert mds.get(f"{demo.DATASET}-{part}", client=client).num_rows > 100
        # The registry stage: one version per run (and one retrained); the first champion
        # was the best run's; retraining replaced it through a canary, then it was retired.
        versions = mlcycle.registry.list_versions(demo.MODEL, include_retired=True, client=client)
        assert len(versions) > len(mlcycle.registry.list_versions(demo.MODEL, client=client))
        trained = {r.id for r in runs if r.name in FAST_MODELS}
        assert trained <= {v.run_id for v in versions}
        replaced = next(v for v in versions if v.run_id == runs_by_auc[0].id)
        assert replaced.status is ModelVersionStatus.RETIRED
        champion = mlcycle.registry.get_version(demo.MODEL, alias=demo.ALIAS, client=client)
        assert champion.version > replaced.version
        assert client.get_run(champion.run_id).name == "retrained-on-fresh-data"
        by_name = {r.name: r for r in runs}
        curve = client.get_metric_history(by_name["logistic-regression-c1"].id, "val_loss")
        assert len(curve) == 5  # one point per solver iteration in --fast
        assert list(curve.steps) == [1, 2, 3, 4, 5]
        # Deployment: follows the alias; the canary went to full traffic and moved it.
        deployment = mlcycle.deployments.get(DEPLOYMENT, client=client)
        assert deployment.model_uri == f"models:/{demo.MODEL}@{demo.ALIAS}"
        actions = [e.action for e in mlcycle.deployments.history(DEPLOYMENT, client=client)]
        assert actions[0] == "create"
        assert {"canary", "canary_complete"} <= set(actions), actions
        assert len(mlcycle.deployments.prediction_log(DEPLOYMENT, client=client)) > 2000
        # Monitoring: a calm window, then drift and a performance drop from the labels.
        calm, before_labels, shifted = mlcycle.monitoring.results(MONITOR, client=client)
        # before the labels: a label-free estimate, calibrated on the calm window's labels
        estimated = before_labels.section("estimated_performance")
        assert estimated["method"].startswith("CBPE")
        assert estimated["realised"] == {}
        assert set(shifted.section("estimated_performance")["realised"]) >= {"accuracy"}
        assert calm.dataset_drift is False
        assert calm.performance_drop is False
        assert shifted.dataset_drift is True
        assert shifted.performance_drop is True
        assert shifted.labelled_rows == shifted.rows
        # Before that, a new mix of customers (covariate shift): the estimate drops before
        # the labels arrive, and the realised metric, once they do, is where it said
        mix_before, mix_after = mlcycle.monitoring.results(ESTIMATE_MONITOR, client=client)
        early = mix_before.section("estimated_performance")
        assert early["realised"] == {}
        assert early["drop"] is True
        baseline = early["baseline"]["accuracy"]
        assert early["metrics"]["accuracy"]["high"] < baseline  # the whole interval below
        late = mix_after.section("estimated_performance")
        assert late["metrics"] == early["metrics"]
        realised = late["realised"]["accuracy"]
        assert realised < baseline - 0.05
        assert abs(realised - early["metrics"]["accuracy"]["value"]) < 0.08
        estimate_alerts = mlcycle.monitoring.list_alerts(monitor=ESTIMATE_MONITOR, client=client)
        assert [a.rule for a in estimate_alerts] == ["estimated-accuracy"]
        alerts = mlcycle.monitoring.list_alerts(monitor=MONITOR, client=client)
        assert {"drift", "accuracy"} <= {a.rule for a in alerts}
        (retrain,) = mlcycle.monitoring.retrains(MONITOR, client=client)
        assert retrain.new_version == champion.version
        assert all(g["passed"] for g in retrain.gates)
        # Governance: the audit trail verifies and records the demo's steps.
        assert client.governance.verify_audit().ok
        audited = {e.action for e in client.governance.audit_events()}
        for action in (
            "experiment.create",
            "model.promote",
            "deployment.canary_complete",
            "monitor.alert",
            "model_version.retire",
        ):
            assert action in audited, action

    # The results table marks the run with the best roc_auc, and the advice is runnable.
    best = runs_by_auc[0]
    assert best.id in _best_line(first.stdout)
    assert f"Best: {best.name} with roc_auc" in first.stdout
    assert f"--tracking-uri {cli.tracking_uri}" in first.stdout
    assert "runs list demo-churn" in first.stdout
    assert f"runs show {best.id}" in first.stdout
    assert "Validation passed." in first.stdout
    assert f"Promoted version {replaced.version} ({best.name}) to @champion" in first.stdout
    assert "predictions for 5 test rows: [" in first.stdout
    assert f"models lineage {demo.MODEL} --alias champion" in first.stdout
    out = " ".join(first.stdout.split())
    assert "Serving churn at http://127.0.0.1:" in out
    assert "2 alert(s), 2 with a valid signature" in out
    assert (
        "Before the labels arrive (CBPE, from the model's own probabilities): an estimated drop"
        in out
    )
    assert "Alert estimated-accuracy (warning)" in out
    assert "95% interval [" in out
    assert "; realised 0." in out
    assert "passed its gates; canary started" in out
    assert f"@champion is now version {champion.version}" in out
    assert f"Retired version {replaced.version} of {demo.MODEL}" in out
    assert "is retired" in out  # serving the retired version is refused
    assert "hash chain intact" in out
    workdir = Path(cli.artifact_uri).parent / "demo"
    assert (workdir / "drift-report.html").stat().st_size > 1000
    assert (workdir / f"model-card-v{champion.version}.html").exists()

    second = cli.ok("demo", "--fast", env={"COLUMNS": "80"})  # a narrow terminal
    assert "Reusing experiment demo-churn" in second.stdout
    assert "demo-churn version 1" in second.stdout  # same data, same version
    assert "predictions for 5 test rows: [" in " ".join(second.stdout.split())  # wrapped
    assert "Reusing deployment churn" in second.stdout
    assert "hash chain intact" in second.stdout
    with cli.client() as client:
        everything = mlcycle.registry.list_versions(demo.MODEL, include_retired=True, client=client)
        assert len(everything) == 2 * (len(FAST_MODELS) + 1)
        assert len(mds.list_versions(demo.DATASET, client=client)) == 1
        mlcycle.registry.get_version(demo.MODEL, alias=demo.ALIAS, client=client)
    all_runs = [
        r
        for r in cli.ok("runs", "list", demo.EXPERIMENT, "--json").json()
        if demo.SESSION_TAG in r["tags"]
    ]
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
    assert "experiments restore demo-churn" in error[0]
