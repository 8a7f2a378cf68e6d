"""Get-or-create experiments: ``create_experiment(exist_ok=True)`` and ``set_experiment``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mlcycle
from mlcycle import Client


def test_exist_ok_returns_the_same_experiment(client: Client) -> None:
    first = client.create_experiment(
        "cancer", task="classification", primary_metric="auc", threshold=0.9
    )
    again = client.create_experiment(
        "cancer", task="classification", primary_metric="auc", threshold=0.9, exist_ok=True
    )
    assert again.id == first.id
    with pytest.raises(mlcycle.AlreadyExistsError):
        client.create_experiment(
            "cancer", task="classification", primary_metric="auc", threshold=0.9
        )


def test_exist_ok_with_another_problem_names_the_field(client: Client) -> None:
    client.create_experiment("cancer", task="classification", primary_metric="auc", threshold=0.9)
    with pytest.raises(mlcycle.ConflictError, match=r"threshold=0\.9, not 0\.8"):
        client.create_experiment(
            "cancer", task="classification", primary_metric="auc", threshold=0.8, exist_ok=True
        )


def test_set_experiment_is_where_start_run_logs(client: Client) -> None:
    exp = mlcycle.set_experiment("churn", task="regression")
    assert mlcycle.set_experiment("churn", task="regression").id == exp.id
    with mlcycle.start_run() as run:
        run.log_metric("mae", 1.0)
    assert client.get_run(run.id).experiment_id == exp.id


def test_unknown_experiment_suggests_the_close_name(client: Client) -> None:
    client.create_experiment("demo-churn")
    with pytest.raises(mlcycle.NotFoundError, match="did you mean 'demo-churn'"):
        client.get_experiment("demo")


def test_a_filter_on_a_metric_no_run_has_suggests_the_close_key(client: Client) -> None:
    with mlcycle.start_run(experiment="demo-churn") as run:
        run.log_metric("roc_auc", 0.9)
        run.log_param("depth", 3)
    with pytest.raises(mlcycle.InvalidInputError, match="did you mean 'roc_auc'"):
        client.search_runs("demo-churn", filter="metrics.rocauc > 0.7")
    with pytest.raises(mlcycle.InvalidInputError, match="param 'dept'"):
        client.search_runs("demo-churn", filter="metrics.roc_auc > 0.5 and params.dept = '3'")
    assert client.search_runs("demo-churn", filter="metrics.roc_auc > 0.95") == []


def test_unknown_deployment_and_empty_drift_speak(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "art"))
    with client, pytest.raises(mlcycle.NotFoundError, match="no deployment or prediction log"):
        mlcycle.deployments.prediction_log("no-such-deployment", client=client)
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 10})
    report = mlcycle.monitoring.drift(ref, ref.head(0))
    assert report.share is None
    assert report.reason is not None
    assert report.reason.startswith("no column could be compared: 1 empty_current")
    assert "reason=" in repr(report)
    assert report.to_dict()["reason"] == report.reason


def test_a_result_with_issues_says_why() -> None:
    from mlcycle.entities.monitoring import MonitorResult, ResultStatus

    details = {
        "feature_drift": {"drifted": True, "columns": {"a": {"drifted": True}, "b": {}}},
        "quality": {"issues": 1, "columns": {"b": {"issues": ["range: 3 value(s) outside"]}}},
        "prediction_drift": {"drifted": True, "method": "z", "score": 0.0012},
    }
    result = MonitorResult(
        id="r", monitor="m", status=ResultStatus.ISSUES, created_at=0, window_start=None,
        window_end=1, details=details,
    )  # fmt: skip
    assert result.reason == (
        "feature drift: 1 of 2 columns (a); 1 quality issue(s): b (range); "
        "prediction drift (z 0.0012)"
    )
    assert result.to_dict()["reason"] == result.reason
