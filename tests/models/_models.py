"""Small data and real models for the model tests (each fits in milliseconds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def churn_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Two numeric columns, an integer column, a category-like string column, a label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.normal(24.0, 8.0, n),
            "charges": rng.normal(70.0, 20.0, n),
            "calls": rng.integers(0, 10, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )
    signal = (frame["charges"] - 70.0) / 20.0 - (frame["tenure"] - 24.0) / 8.0
    frame["churned"] = (signal + rng.normal(0.0, 0.5, n) > 0).astype(int)
    return frame


FEATURES = ["tenure", "charges", "calls", "plan"]
NUMERIC = ["tenure", "charges", "calls"]


def churn_pipeline(frame: pd.DataFrame) -> Pipeline:
    """ColumnTransformer (scaler + one-hot) and logistic regression, fitted on ``frame``."""
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
        ]
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))])
    return model.fit(frame[FEATURES], frame["churned"])


def double(x: Any) -> Any:
    """A function outside the trusted libraries, for FunctionTransformer."""
    return x * 2


class MeanModel:
    """A generic Python model: predicts a learned mean, scaled by a file artifact."""

    def __init__(self, mean: float, scale_file: Path | None = None) -> None:
        self.mean = mean
        self.weights = np.array([1.0, 2.0])
        self.artifacts: dict[str, str] = {}
        if scale_file is not None:
            self.artifacts["scale"] = str(scale_file)

    def predict(self, data: pd.DataFrame) -> Any:
        scale = 1.0
        if "scale" in self.artifacts:
            scale = float(Path(self.artifacts["scale"]).read_text())
        return np.full(len(data), self.mean * scale) + 0.0 * data["tenure"].to_numpy()


class ThresholdClassifier:
    """A generic Python classifier with predict_proba and classes_."""

    def __init__(self, column: str, cut: float) -> None:
        self.column = column
        self.cut = cut
        self.classes_ = np.array([0, 1])

    def predict_proba(self, data: pd.DataFrame) -> Any:
        p = 1.0 / (1.0 + np.exp(-(data[self.column].to_numpy() - self.cut)))
        return np.column_stack([1.0 - p, p])

    def predict(self, data: pd.DataFrame) -> Any:
        return (self.predict_proba(data)[:, 1] > 0.5).astype(int)


class NanModel:
    """Predicts NaN for every other row (for the bad-input tests)."""

    def predict(self, data: pd.DataFrame) -> Any:
        out = np.zeros(len(data))
        out[::2] = np.nan
        return out
