"""Metrics per slice (values and numeric bins) and fairness across a sensitive column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression

from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.evaluator import evaluate_model
from tests.models._models import ThresholdClassifier, churn_frame, churn_pipeline


class FixedPredictions:
    """Predicts the ``pred`` column given with the data (to construct exact cases)."""

    classes_ = np.array([0, 1])

    def predict(self, data: pd.DataFrame) -> Any:
        return data["pred"].to_numpy()


def test_categorical_slices_match_sklearn_on_each_subset() -> None:
    frame = churn_frame(300)
    model = churn_pipeline(frame)
    result = evaluate_model(model, frame, "churned", slices=["plan"])
    assert list(result.slices) == ["plan"]
    assert list(result.slices["plan"]) == ["basic", "plus", "pro"]
    for plan, scores in result.slices["plan"].items():
        part = frame[frame["plan"] == plan]
        y = part["churned"].to_numpy()
        pred = model.predict(part)
        assert scores["n"] == len(part)
        assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
        assert scores["f1"] == pytest.approx(skm.f1_score(y, pred))
        assert scores["roc_auc"] == pytest.approx(
            skm.roc_auc_score(y, model.predict_proba(part)[:, 1])
        )


def test_numeric_columns_are_binned() -> None:
    frame = churn_frame(400)
    model = churn_pipeline(frame)
    frame["charges"] = frame["charges"].clip(1.0, 250.0)
    result = evaluate_model(
        model, frame, "churned", slices={"tenure": None, "charges": [0, 60, 80, 200]}
    )
    quartiles = result.slices["tenure"]
    assert len(quartiles) == 4
    assert sum(s["n"] or 0 for s in quartiles.values()) == 400
    outside = int((frame["charges"] > 200).sum())
    assert list(result.slices["charges"])[:3] == ["[0, 60)", "[60, 80)", "[80, 200]"]
    if outside:
        assert result.slices["charges"]["other"]["n"] == outside
    low = frame[frame["charges"] < 60]
    got = result.slices["charges"]["[0, 60)"]
    assert got["n"] == len(low)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(low["churned"], model.predict(low)))


def test_few_distinct_numbers_missing_values_and_single_class_slices() -> None:
    frame = churn_frame(200)
    frame["calls"] = frame["calls"].astype(float)
    frame.loc[:9, "calls"] = np.nan
    frame["flag"] = np.where(frame["churned"] == 1, "churner", "stayer")
    model = churn_pipeline(frame.fillna({"calls": 0.0}))
    data = frame.fillna({"calls": 0.0}).assign(calls_seen=frame["calls"])
    result = evaluate_model(model, data, "churned", slices=["calls_seen", "flag"])
    assert "missing" in result.slices["calls_seen"]
    assert result.slices["calls_seen"]["missing"]["n"] == 10
    assert len(result.slices["calls_seen"]) == 11  # ten values (<= 10: categories) + missing
    churners = result.slices["flag"]["churner"]
    assert churners["roc_auc"] is None  # one class in the slice: no AUC
    assert churners["recall"] is not None


def test_regression_slices() -> None:
    frame = churn_frame(200)
    model = LinearRegression().fit(frame[["tenure"]], frame["charges"])
    result = evaluate_model(model, frame[["tenure", "charges", "plan"]], "charges", slices="plan")
    part = frame[frame["plan"] == "pro"]
    assert result.slices["plan"]["pro"]["mae"] == pytest.approx(
        skm.mean_absolute_error(part["charges"], model.predict(part[["tenure"]]))
    )


def test_fairness_on_a_constructed_example() -> None:
    # group a: 4 positives (3 predicted), 4 negatives (1 predicted) -> sel 0.5, tpr .75, fpr .25
    # group b: 2 positives (2 predicted), 2 negatives (0 predicted)  -> sel 0.5, tpr 1, fpr 0
    # group c: 2 positives (0 predicted), 2 negatives (2 predicted)  -> sel 0.5, tpr 0, fpr 1
    truth = [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]
    pred = [1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1]
    group = ["a"] * 8 + ["b"] * 4 + ["c"] * 4
    data = pd.DataFrame({"y": truth, "pred": pred, "group": group})
    result = evaluate_model(FixedPredictions(), data, "y", sensitive="group")
    report = result.fairness["group"]
    assert report.demographic_parity_difference == pytest.approx(0.0)
    assert report.equalized_odds_difference == pytest.approx(1.0)
    assert report.groups["a"]["tpr"] == pytest.approx(0.75)
    assert report.groups["a"]["fpr"] == pytest.approx(0.25)
    assert report.groups["b"]["selection_rate"] == pytest.approx(0.5)
    assert report.groups["c"]["accuracy"] == pytest.approx(0.0)

    # selection rates 0.75 vs 0.25: demographic parity difference 0.5
    data2 = pd.DataFrame(
        {"y": [1, 0, 1, 0, 1, 0, 1, 0], "pred": [1, 1, 1, 0, 1, 0, 0, 0], "group": list("aaaabbbb")}
    )
    report2 = evaluate_model(FixedPredictions(), data2, "y", sensitive=["group"]).fairness["group"]
    assert report2.demographic_parity_difference == pytest.approx(0.5)
    assert report2.equalized_odds_difference == pytest.approx(0.5)


def test_python_classifier_and_bad_slice_columns() -> None:
    frame = churn_frame(100)
    model = ThresholdClassifier("tenure", 24.0)
    result = evaluate_model(model, frame, "churned", slices=["plan"])
    assert "roc_auc" in result.metrics
    with pytest.raises(InvalidInputError, match="no such column") as caught:
        evaluate_model(model, frame, "churned", slices=["region"])
    assert caught.value.field == "slices"
    with pytest.raises(InvalidInputError, match="not numeric"):
        evaluate_model(model, frame, "churned", slices={"plan": 3})
