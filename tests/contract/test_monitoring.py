"""The monitoring contract: monitors, runs, results, rules, alerts and the report, the same
locally and through a server (the server runs monitors over its own prediction logs)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from mlcycle.deployments.prediction_logs import LogEntry, PredictionLogWriter, RequestSpan
from mlcycle.entities.models import ModelSource
from mlcycle.entities.monitoring import AlertStatus, ResultStatus, Severity
from mlcycle.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from tests.contract.conftest import Platform
from tests.models._models import FEATURES, churn_frame, churn_pipeline

MINUTE = 60_000
HOUR = 60 * MINUTE


@dataclass
class Deployed:
    platform: Platform
    model: object


@pytest.fixture
def deployed(platform: Platform) -> Deployed:
    """Training data, a model trained on it (registered, champion) and its deployment."""
    platform.tracking.create_experiment(
        "churn", task="classification", target="churned", primary_metric="roc_auc"
    )
    train = churn_frame(1000, seed=1)
    data = platform.datasets.register("churn-train", train)
    model = churn_pipeline(train)
    with platform.tracking.start_run("churn", capture_environment=False) as run:
        run.log_metric("roc_auc", 0.8)
        run.log_model(model, "model", input_example=train[FEATURES].head(3))
        run_id = run.id
    platform.datasets.log_input(run_id, data, "train")
    platform.registry.register("churn", ModelSource(run_id=run_id, artifact_path="model"))
    platform.registry.set_alias("churn", "champion", 1)
    platform.deployments.create("churn-api", "models:/churn@champion")
    return Deployed(platform, model)


def _log(deployed: Deployed, frame: pd.DataFrame, start_ms: int, prefix: str) -> None:
    """Requests of ``frame`` in the deployment's prediction log, as the serving writes it."""
    model = deployed.model
    ids = [f"{prefix}-{i}" for i in range(len(frame))]
    writer = PredictionLogWriter(deployed.platform.artifact_uri)
    writer.append(
        LogEntry(
            deployment="churn-api",
            model="churn",
            version=1,
            arm="primary",
            columns={n: frame[n].to_numpy() for n in FEATURES},
            predictions=np.asarray(model.predict(frame[FEATURES])),  # type: ignore[attr-defined]
            requests=[
                RequestSpan(
                    request_id=r, time_ms=start_ms + i * 10, start=i, stop=i + 1, latency_ms=1.0
                )
                for i, r in enumerate(ids)
            ],
            proba=np.asarray(model.predict_proba(frame[FEATURES])),  # type: ignore[attr-defined]
            classes=[0, 1],
        )
    )
    writer.close()


def test_monitor_crud_and_refusals(deployed: Deployed) -> None:
    mon = deployed.platform.monitoring
    created = mon.create("watch", "churn-api", window="1h", reference="churn-train@1")
    assert created.reference == ("churn-train", 1)
    assert mon.get("watch") == created
    with pytest.raises(AlreadyExistsError):
        mon.create("watch", "churn-api")
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"window": "soon"}, InvalidInputError, "window 'soon' is not valid"),
        ({"reference": "nope@1"}, NotFoundError, "nope"),
        ({"schedule": "10ms"}, InvalidInputError, "at least 1s"),
        ({"min_rows": 0}, InvalidInputError, "min_rows"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            mon.create("m", "churn-api", **kwargs)
    with pytest.raises(NotFoundError, match="deployment"):
        mon.create("m", "no-such-deployment")
    mon.create("other", "churn-api", schedule="1h")
    assert [m.name for m in mon.list_monitors()] == ["other", "watch"]
    assert [m.name for m in mon.list_monitors("churn-api")] == ["other", "watch"]
    assert mon.replace_schedule("other", None).schedule_ms is None
    mon.delete("other")
    with pytest.raises(NotFoundError):
        mon.get("other")
    rule = mon.add_rule("watch", "dataset_drift", severity="critical")
    assert rule.severity is Severity.CRITICAL
    assert [r.name for r in mon.rules("watch")] == ["dataset_drift"]
    with pytest.raises(InvalidInputError, match="secret signs webhooks"):
        mon.add_rule("watch", "dataset_drift", name="x", secret="s")
    mon.delete_rule("watch", "dataset_drift")
    assert mon.rules("watch") == []


def test_drift_fires_an_alert_that_is_acknowledged(deployed: Deployed) -> None:
    mon = deployed.platform.monitoring
    now = int(time.time() * 1000)
    _log(deployed, churn_frame(300, seed=5), now - 3 * HOUR, "calm")
    shifted = churn_frame(300, seed=6).assign(
        tenure=lambda f: f["tenure"] + 25.0, charges=lambda f: f["charges"] + 60.0
    )
    _log(deployed, shifted, now - 30 * MINUTE, "shifted")
    mon.create("watch", "churn-api", window="1h")
    mon.add_rule("watch", "dataset_drift", severity="critical")
    calm = mon.run("watch", now=now - 2 * HOUR - 20 * MINUTE)
    assert calm.status is ResultStatus.OK, calm.message
    assert mon.alerts() == []
    drifted = mon.run("watch", now=now)
    assert drifted.status is ResultStatus.ISSUES
    assert drifted.dataset_drift is True
    assert drifted.reference == "churn-train@1"
    assert [r.id for r in mon.results("watch")] == [calm.id, drifted.id]
    assert [r.id for r in mon.results("watch", limit=1)] == [drifted.id]
    (alert,) = mon.alerts(monitor="watch")
    assert alert.severity is Severity.CRITICAL
    assert mon.get_alert(alert.id) == alert
    acked = mon.ack(alert.id, by="ana")
    assert (acked.status, acked.acked_by) == (AlertStatus.ACKNOWLEDGED, "ana")
    assert mon.alerts(status="open") == []
    with pytest.raises(InvalidInputError, match="unknown alert status 'closed'"):
        mon.alerts(status="closed")
    with pytest.raises(NotFoundError):
        mon.get_alert("0" * 32)
    assert mon.run_due(now=now) == []
    assert [r.monitor for r in mon.run_due(now=now, every=True)] == ["watch"]
