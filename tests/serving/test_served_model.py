"""ServedModel's batches: a classifier whose prediction is its most probable class answers
from one ``predict_proba`` call, and still exactly what its own ``predict`` says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlcycle
from mlcycle.serving.decode import Inputs
from mlcycle.serving.model import ServedModel

COLUMNS = [f"f{i}" for i in range(5)]


def _served(tmp_path: Path, model: Any, X: pd.DataFrame) -> ServedModel:
    mlcycle.models.save(model, tmp_path / "m", input_example=X.head(5))
    loaded = mlcycle.models.load(tmp_path / "m")
    return ServedModel(loaded, key="m/1", name="m", version=1, label="1")


def _data(classes: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(600, len(COLUMNS))), columns=COLUMNS)
    score = X["f0"].to_numpy() + 0.5 * X["f1"].to_numpy()
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, np.array(["low", "mid", "high"])[y] if classes == 3 else y


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogisticRegression(max_iter=500),
        lambda: RandomForestClassifier(n_estimators=10, random_state=0),
        lambda: HistGradientBoostingClassifier(max_iter=10),
        lambda: make_pipeline(StandardScaler(), LogisticRegression()),
    ],
    ids=["logistic", "forest", "hist-gbm", "pipeline"],
)
@pytest.mark.parametrize("classes", [2, 3])
def test_predictions_from_probabilities_equal_the_models_own(
    tmp_path: Path, make: Any, classes: int
) -> None:
    X, y = _data(classes)
    model = make().fit(X, y)
    served = _served(tmp_path, model, X)
    assert served._argmax is not None
    rows = pd.DataFrame(np.random.default_rng(1).normal(size=(300, 5)) * 3, columns=COLUMNS)
    rows.iloc[:3] = 0.0  # rows at the decision boundary of a linear model
    inputs = Inputs(rows=len(rows), columns={c: rows[c].to_numpy() for c in COLUMNS})
    with_proba = served.predict([served.check(inputs)], proba=True)
    without = served.predict([served.check(inputs)], proba=False)
    expected = model.predict(rows)
    assert with_proba.predictions.dtype == expected.dtype
    assert with_proba.predictions.tolist() == expected.tolist()
    assert without.predictions.tolist() == expected.tolist()
    assert with_proba.proba is not None
    np.testing.assert_allclose(with_proba.proba, model.predict_proba(rows))


def test_a_tie_of_probabilities_is_settled_by_the_models_predict(tmp_path: Path) -> None:
    X, y = _data(2)
    model = LogisticRegression().fit(X, y)
    served = _served(tmp_path, model, X)
    assert served._argmax is not None
    asked: list[list[int]] = []

    def predict_rows(rows: np.ndarray) -> np.ndarray:
        asked.append(rows.tolist())
        return np.array([1] * len(rows))

    proba = np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]])
    assert served._argmax.predictions(proba, predict_rows).tolist() == [1, 1, 0]
    assert asked == [[0]]


def test_other_classifiers_call_their_own_predict(tmp_path: Path) -> None:
    X, y = _data(2)
    model = KNeighborsClassifier(n_neighbors=4).fit(X, y)  # a vote: ties go its own way
    served = _served(tmp_path, model, X)
    assert served._argmax is None
    inputs = Inputs(rows=len(X), columns={c: X[c].to_numpy() for c in COLUMNS})
    prediction = served.predict([served.check(inputs)], proba=True)
    assert prediction.predictions.tolist() == model.predict(X).tolist()
