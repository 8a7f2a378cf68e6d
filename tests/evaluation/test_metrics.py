"""Every metric of ``mlcycle.evaluate`` equals scikit-learn's own function on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlcycle.entities import Task
from mlcycle.evaluation.evaluator import evaluate_model
from tests.models._models import churn_frame, churn_pipeline


def test_binary_classification_matches_sklearn() -> None:
    frame = churn_frame(300)
    model = churn_pipeline(frame)
    result = evaluate_model(model, frame, "churned")
    X = frame.drop(columns=["churned"])
    y = frame["churned"].to_numpy()
    pred = model.predict(X)
    score = model.predict_proba(X)[:, 1]
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred),
        "recall": skm.recall_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "f2": skm.fbeta_score(y, pred, beta=2),
        "roc_auc": skm.roc_auc_score(y, score),
        "pr_auc": skm.average_precision_score(y, score),
        "log_loss": skm.log_loss(y, model.predict_proba(X)),
    }
    assert result.task is Task.CLASSIFICATION
    assert list(result.metrics) == list(expected)
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-12), name
    assert result.positive_label == 1
    assert result.confusion_matrix == tuple(map(tuple, skm.confusion_matrix(y, pred).tolist()))
    assert result.per_class is not None
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, pred)
    assert result.per_class["0"]["precision"] == pytest.approx(precision[0])
    assert result.per_class["1"]["recall"] == pytest.approx(recall[1])
    assert result.per_class["1"]["f1"] == pytest.approx(f1[1])
    assert result.per_class["0"]["support"] == support[0]
    assert result.calibration is not None
    prob_true, prob_pred = calibration_curve(y, score, n_bins=10)
    np.testing.assert_allclose(result.calibration.prob_true, prob_true)
    np.testing.assert_allclose(result.calibration.prob_pred, prob_pred)
    assert set(result.plots) == {"roc", "pr", "confusion_matrix", "calibration"}


def test_string_labels_and_an_explicit_positive_label() -> None:
    frame = churn_frame(200)
    frame["churned"] = np.where(frame["churned"] == 1, "yes", "no")
    X = frame[["tenure", "charges"]]
    model = LogisticRegression().fit(X, frame["churned"])
    y = frame["churned"].to_numpy()
    pred = model.predict(X)
    result = evaluate_model(model, frame, "churned", pos_label="no")
    assert result.positive_label == "no"
    assert result.metrics["precision"] == pytest.approx(
        skm.precision_score(y, pred, pos_label="no")
    )
    assert result.metrics["recall"] == pytest.approx(skm.recall_score(y, pred, pos_label="no"))
    assert result.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y == "no", model.predict_proba(X)[:, 0])
    )
    # by default the positive class is the second one
    assert evaluate_model(model, frame, "churned").positive_label == "yes"


def test_multiclass_uses_macro_averages() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    frame["label"] = np.select([frame["a"] > 0.5, frame["b"] > 0], ["x", "y"], "z")
    model = LogisticRegression(max_iter=500).fit(frame[["a", "b"]], frame["label"])
    result = evaluate_model(model, frame, "label")
    y = frame["label"].to_numpy()
    pred = model.predict(frame[["a", "b"]])
    proba = model.predict_proba(frame[["a", "b"]])
    assert result.positive_label is None
    assert result.metrics["precision"] == pytest.approx(
        skm.precision_score(y, pred, average="macro")
    )
    assert result.metrics["f2"] == pytest.approx(skm.fbeta_score(y, pred, beta=2, average="macro"))
    assert result.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr")
    )
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert result.calibration is None
    assert set(result.plots) == {"confusion_matrix"}


def test_classifier_without_probabilities_skips_the_auc_metrics() -> None:
    from sklearn.svm import LinearSVC

    frame = churn_frame(150)
    model = LinearSVC().fit(frame[["tenure", "charges"]], frame["churned"])
    result = evaluate_model(model, frame, "churned")
    assert set(result.metrics) == {"accuracy", "precision", "recall", "f1", "f2"}


def test_regression_matches_sklearn() -> None:
    frame = churn_frame(200)
    X = frame[["tenure", "calls"]]
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, frame["charges"])
    result = evaluate_model(model, frame.drop(columns=["plan"]), "charges")
    y = frame["charges"].to_numpy()
    pred = model.predict(X)
    assert result.task is Task.REGRESSION
    assert result.metrics == pytest.approx(
        {
            "mse": skm.mean_squared_error(y, pred),
            "rmse": skm.root_mean_squared_error(y, pred),
            "mae": skm.mean_absolute_error(y, pred),
            "r2": skm.r2_score(y, pred),
            "mape": skm.mean_absolute_percentage_error(y, pred),
        }
    )
    assert set(result.plots) == {"residuals"}


def test_task_can_be_forced() -> None:
    frame = churn_frame(100)
    model = LinearRegression().fit(frame[["tenure"]], frame["churned"])
    assert evaluate_model(model, frame, "churned").task is Task.REGRESSION
    assert evaluate_model(model, frame, "churned", task="regression").task is Task.REGRESSION
