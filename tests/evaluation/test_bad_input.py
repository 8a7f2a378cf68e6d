"""Bad input gets a clear InvalidInputError, never a scikit-learn traceback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.evaluator import evaluate_model
from tests.models._models import NanModel, ThresholdClassifier, churn_frame, churn_pipeline


class NanProbabilities(ThresholdClassifier):
    def predict_proba(self, data: pd.DataFrame) -> Any:
        proba = super().predict_proba(data)
        proba[3] = np.nan
        return proba


def test_missing_target_column() -> None:
    frame = churn_frame(50)
    with pytest.raises(InvalidInputError, match="no target column 'label'") as caught:
        evaluate_model(churn_pipeline(frame), frame, "label")
    assert caught.value.field == "target"


def test_missing_target_values() -> None:
    frame = churn_frame(50)
    model = churn_pipeline(frame)
    frame["churned"] = frame["churned"].astype(float)
    frame.loc[3, "churned"] = np.nan
    with pytest.raises(InvalidInputError, match="1 missing value"):
        evaluate_model(model, frame, "churned")


def test_one_class_only() -> None:
    frame = churn_frame(80)
    model = churn_pipeline(frame)
    ones = frame[frame["churned"] == 1]
    with pytest.raises(InvalidInputError, match="one class only") as caught:
        evaluate_model(model, ones, "churned")
    assert caught.value.field == "target"


def test_nan_predictions_and_probabilities() -> None:
    frame = churn_frame(40)
    with pytest.raises(
        InvalidInputError, match=r"NaN predictions for 20 row\(s\) \(first: row 0\)"
    ):
        evaluate_model(NanModel(), frame, "charges", task="regression")
    with pytest.raises(InvalidInputError, match="NaN predictions"):
        evaluate_model(NanModel(), frame, "churned", task="classification")
    with pytest.raises(
        InvalidInputError, match=r"NaN probabilities for 1 row\(s\) \(first: row 3\)"
    ):
        evaluate_model(NanProbabilities("tenure", 24.0), frame, "churned")


def test_labels_the_model_does_not_know() -> None:
    frame = churn_frame(60)
    model = churn_pipeline(frame)
    frame.loc[0, "churned"] = 7
    with pytest.raises(InvalidInputError, match="labels the model does not know: 7"):
        evaluate_model(model, frame, "churned")


def test_other_refusals() -> None:
    frame = churn_frame(40)
    model = churn_pipeline(frame)
    with pytest.raises(InvalidInputError, match="numeric target"):
        evaluate_model(NanModel(), frame, "plan", task="regression")
    with pytest.raises(InvalidInputError, match="task must be"):
        evaluate_model(model, frame, "churned", task="ranking")
    with pytest.raises(InvalidInputError, match="no rows"):
        evaluate_model(model, frame.iloc[:0], "churned")
    with pytest.raises(InvalidInputError, match="data must be a pandas DataFrame"):
        evaluate_model(model, [1, 2, 3], "churned")
    with pytest.raises(InvalidInputError, match="positive label 'yes'"):
        evaluate_model(model, frame, "churned", pos_label="yes")
    with pytest.raises(InvalidInputError, match="column 'plan' is missing"):
        evaluate_model(model, frame.drop(columns=["plan"]), "churned")
    with pytest.raises(InvalidInputError, match="bootstrap"):
        evaluate_model(model, frame, "churned", bootstrap=-1)
