"""Retraining triggers: an alert runs the monitor's job, the version it registers is held
to the promotion gates (their results stored with it), and with auto-canary a canary
starts for it. Every trigger and its outcome is recorded."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

import mlcycle
import mlcycle.monitoring as mon
from mlcycle.entities import Strategy
from tests.models._models import churn_frame
from tests.monitoring import jobs
from tests.monitoring._setup import (
    DEPLOYMENT,
    MODEL,
    Setup,
    log_predictions,
    send_feedback,
    shifted,
)

MINUTE = 60_000


def _drift_with_labels(setup: Setup) -> int:
    """Shifted traffic in the last half hour, half of it labelled; returns 'now'."""
    now = int(time.time() * 1000)
    frame = shifted(churn_frame(300, seed=6))
    ids = log_predictions(setup, frame, start_ms=now - 30 * MINUTE)
    send_feedback(setup, ids[:150], frame["churned"].tolist()[:150])
    return now


@pytest.fixture(autouse=True)
def _reset_jobs() -> None:
    jobs.LOGGED_AUC["value"] = 0.9
    jobs.SEEN.clear()


def test_drift_retrains_a_version_that_passes_its_gates_and_starts_a_canary(
    deployed: Setup,
) -> None:
    now = _drift_with_labels(deployed)
    mon.create(
        "churn-watch",
        DEPLOYMENT,
        window="1h",
        retrain="tests.monitoring.jobs:retrain",
        on_alerts=["drift"],
        auto_canary=True,
        canary_steps=[10, 50, 100],
    )
    mon.add_alert_rule("churn-watch", "dataset_drift", name="drift")
    result = deployed.client.monitoring.run("churn-watch", now=now)
    assert result.dataset_drift is True

    (context,) = jobs.SEEN
    assert (context.deployment, context.model_name, context.model_version) == (DEPLOYMENT, MODEL, 1)
    assert context.alert is not None
    assert context.alert.rule == "drift"
    assert len(context.window) == 300
    assert context.window["label"].notna().sum() == 150
    assert {"tenure", "charges", "calls", "plan", "prediction"} <= set(context.window.columns)

    (trigger,) = mon.retrains("churn-watch")
    assert trigger.status is mon.TriggerStatus.CANARY_STARTED, trigger.message
    assert (trigger.model_name, trigger.base_version, trigger.new_version) == (MODEL, 1, 2)
    assert trigger.alert_id == context.alert.id
    assert trigger.finished_at is not None
    assert {g["gate"]: g["passed"] for g in trigger.gates} == {
        "threshold": True,
        "no_regression": True,
    }
    stored = mlcycle.registry.gate_results(MODEL, 2)  # kept with the version
    assert {g.gate for g in stored} == {"threshold", "no_regression"}
    assert all(g.alias == "champion" and "retraining trigger" in (g.reason or "") for g in stored)
    assert mlcycle.registry.get_version(MODEL, 2).aliases == ()  # gates do not promote

    deployment = deployed.client.deployments.get(DEPLOYMENT)
    assert deployment.strategy is Strategy.CANARY
    assert deployment.canary is not None
    assert deployment.canary.candidate == f"models:/{MODEL}/2"
    assert deployment.canary.steps == (10, 50, 100)
    lineage = mlcycle.registry.lineage(MODEL, 2)  # the new version's training data
    assert [(i.name, i.version) for i in lineage.inputs] == [("churn-train", 2)]


def test_a_version_that_fails_its_gates_gets_no_canary(deployed: Setup) -> None:
    jobs.LOGGED_AUC["value"] = 0.6  # under the problem's 0.7 threshold, and the champion's
    now = _drift_with_labels(deployed)
    mon.create(
        "churn-watch",
        DEPLOYMENT,
        window="1h",
        retrain="tests.monitoring.jobs:retrain",
        auto_canary=True,
    )
    mon.add_alert_rule("churn-watch", "dataset_drift")
    deployed.client.monitoring.run("churn-watch", now=now)
    (trigger,) = mon.retrains("churn-watch")
    assert trigger.status is mon.TriggerStatus.GATES_FAILED
    assert trigger.new_version == 2
    assert "threshold" in (trigger.message or "")
    assert {g.gate: g.passed for g in mlcycle.registry.gate_results(MODEL, 2)} == {
        "threshold": False,
        "no_regression": False,
    }
    assert deployed.client.deployments.get(DEPLOYMENT).strategy is Strategy.SINGLE


def test_only_the_named_rules_trigger_and_a_failing_job_is_recorded(deployed: Setup) -> None:
    now = _drift_with_labels(deployed)
    mon.create(
        "churn-watch",
        DEPLOYMENT,
        window="1h",
        retrain="tests.monitoring.jobs:fails",
        on_alerts=["perf"],
    )
    mon.add_alert_rule("churn-watch", "dataset_drift", name="drift")
    deployed.client.monitoring.run("churn-watch", now=now)
    assert mon.retrains("churn-watch") == []  # "drift" fired, but only "perf" retrains
    failed = mon.retrain("churn-watch")  # by hand, on the current window
    assert failed.status is mon.TriggerStatus.FAILED
    assert failed.message == "RuntimeError: the feature store is down"
    assert "Traceback" in (failed.output or "")
    assert mon.retrains("churn-watch") == [failed]


def test_a_shell_command_gets_the_context_in_its_environment(
    deployed: Setup, tmp_path: Path
) -> None:
    now = _drift_with_labels(deployed)
    out = tmp_path / "seen.json"
    script = (
        "import json, os, pandas; w = pandas.read_parquet(os.environ['MLCYCLE_WINDOW']); "
        "ctx = json.load(open(os.environ['MLCYCLE_TRIGGER_CONTEXT'])); "
        f"json.dump({{'env': {{k: v for k, v in os.environ.items() if k.startswith('MLCYCLE_')}}, "
        "'rows': len(w), 'labels': int(w['label'].notna().sum()), 'ctx': ctx}, "
        f"open({str(out)!r}, 'w')); print('retrained nothing')"
    )
    command = f'{sys.executable} -c "{script}"'
    mon.create("churn-watch", DEPLOYMENT, window="1h", retrain_command=command)
    mon.add_alert_rule("churn-watch", "dataset_drift")
    deployed.client.monitoring.run("churn-watch", now=now)
    (trigger,) = mon.retrains("churn-watch")
    assert trigger.status is mon.TriggerStatus.NO_NEW_VERSION, trigger.output
    assert trigger.output is not None
    assert "retrained nothing" in trigger.output
    seen = json.loads(out.read_text())
    env = seen["env"]
    assert (env["MLCYCLE_DEPLOYMENT"], env["MLCYCLE_MODEL_NAME"], env["MLCYCLE_MODEL_VERSION"]) == (
        DEPLOYMENT,
        MODEL,
        "1",
    )
    assert env["MLCYCLE_MONITOR"] == "churn-watch"
    assert env["MLCYCLE_ALERT_ID"]
    assert env["MLCYCLE_TRACKING_URI"] == deployed.client.settings.tracking_uri
    assert (seen["rows"], seen["labels"]) == (300, 150)
    assert seen["ctx"]["alert"]["rule"] == "dataset_drift"


def test_a_command_that_fails_is_recorded_with_its_output(deployed: Setup) -> None:
    now = _drift_with_labels(deployed)
    command = f"{sys.executable} -c \"import sys; print('no data'); sys.exit(3)\""
    mon.create("churn-watch", DEPLOYMENT, window="1h", retrain_command=command)
    mon.add_alert_rule("churn-watch", "dataset_drift")
    deployed.client.monitoring.run("churn-watch", now=now)
    (trigger,) = mon.retrains("churn-watch")
    assert trigger.status is mon.TriggerStatus.FAILED
    assert trigger.message == "the retrain command exited with code 3"
    assert "no data" in (trigger.output or "")
