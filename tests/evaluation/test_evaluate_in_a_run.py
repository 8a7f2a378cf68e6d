"""``mlcycle.evaluate`` logs metrics, a report and plots to the run, on every backend."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression

import mlcycle
from mlcycle import Client
from mlcycle.client.evaluation import EVALUATED_MODEL_TAG
from mlcycle.errors import InvalidInputError
from tests.models._models import FEATURES, churn_frame, churn_pipeline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_evaluation_is_logged_to_the_active_run(client: Client, tmp_path: Path) -> None:
    frame = churn_frame(150)
    model = churn_pipeline(frame)
    with mlcycle.start_run(experiment="eval") as run:
        info = run.log_model(model, "model", input_example=frame[FEATURES].head())
        result = mlcycle.evaluate(info.uri, frame, "churned", slices=["plan"], sensitive="plan")
    assert result.run_id == run.id
    assert result.model_uri == info.uri
    stored = client.get_run(run.id)
    assert stored.metrics["roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    assert stored.metrics["slice/plan/pro/accuracy"] == pytest.approx(
        result.slices["plan"]["pro"]["accuracy"] or 0.0
    )
    assert "fairness/plan/equalized_odds_difference" in stored.metrics
    assert stored.tags[EVALUATED_MODEL_TAG] == info.uri
    files = {a.path for a in client.list_artifacts(run.id, "evaluation")}
    for name in ("roc", "pr", "confusion_matrix", "calibration"):
        assert f"evaluation/plots/{name}.png" in files
        assert f"evaluation/plots/{name}.html" in files
    out = client.download_artifacts(run.id, "evaluation", tmp_path)
    assert (out / "plots" / "roc.png").read_bytes().startswith(PNG_MAGIC)
    assert "plotly" in (out / "plots" / "roc.html").read_text()
    summary = json.loads((out / "evaluation.json").read_text())
    assert summary["metrics"]["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert summary["slices"]["plan"]["basic"]["n"] == result.slices["plan"]["basic"]["n"]
    report = (out / "evaluation.html").read_text()
    assert "<h2>Slices by plan</h2>" in report
    assert "data:image/png;base64," in report


def test_target_and_task_default_to_the_experiment_problem(client: Client) -> None:
    frame = churn_frame(100)
    client.create_experiment(
        "churn", task="regression", target="charges", primary_metric="rmse", direction="minimize"
    )
    model = LinearRegression().fit(frame[["tenure"]], frame["charges"])
    with mlcycle.start_run(experiment="churn") as run:
        result = mlcycle.evaluate(model, frame[["tenure", "charges"]], metric_prefix="test/")
    assert result.target == "charges"
    assert set(result.metrics) == {"mse", "rmse", "mae", "r2", "mape"}
    assert client.get_run(run.id).metrics["test/rmse"] == pytest.approx(result.metrics["rmse"])
    assert {a.path for a in client.list_artifacts(run.id, "evaluation")} >= {
        "evaluation/plots/residuals.png",
        "evaluation/evaluation.json",
    }


def test_without_a_run_nothing_is_logged(client: Client, tmp_path: Path) -> None:
    frame = churn_frame(100)
    X = frame[["tenure", "charges"]]
    model = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(X, frame["churned"])
    result = mlcycle.evaluate(model, frame[["tenure", "charges", "churned"]], "churned")
    assert result.run_id is None
    with mlcycle.start_run() as run:
        quiet = mlcycle.evaluate(model, frame, "churned", log=False)
    assert quiet.run_id is None
    assert not client.list_artifacts(run.id, "evaluation")
    written = result.save(tmp_path / "out")
    assert all(p.is_file() for p in written)
    assert (tmp_path / "out" / "plots" / "pr.png").read_bytes().startswith(PNG_MAGIC)
    assert result.to_dict()["plots"] == ["calibration", "confusion_matrix", "pr", "roc"]
    with pytest.raises(InvalidInputError, match="name the target column"):
        mlcycle.evaluate(model, frame)


def test_result_to_html_without_plots() -> None:
    frame = churn_frame(80)
    result = mlcycle.evaluate(churn_pipeline(frame), frame, "churned", bootstrap=20, log=False)
    html = result.to_html(plots=False)
    assert html.startswith("<!DOCTYPE html>")
    assert "95% low" in html
    assert "<img" not in html
    assert isinstance(pd.DataFrame(result.to_dict()["per_class"]), pd.DataFrame)
