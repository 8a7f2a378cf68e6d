"""k-fold cross-validation and bootstrap confidence intervals."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import KFold, StratifiedKFold

from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.evaluator import evaluate_model
from tests.models._models import FEATURES, MeanModel, churn_frame, churn_pipeline


def test_cv_refits_per_fold_like_sklearn() -> None:
    frame = churn_frame(200)
    model = churn_pipeline(frame)
    result = evaluate_model(model, frame, "churned", cv=4, seed=7)
    assert result.cv is not None
    assert len(result.cv.folds) == 4
    X, y = frame[FEATURES], frame["churned"].to_numpy()
    expected = []
    for train, test in StratifiedKFold(4, shuffle=True, random_state=7).split(X, y):
        fitted = clone(model).fit(X.iloc[train], y[train])
        expected.append(accuracy_score(y[test], fitted.predict(X.iloc[test])))
    assert [f["accuracy"] for f in result.cv.folds] == pytest.approx(expected)
    assert result.cv.mean["accuracy"] == pytest.approx(sum(expected) / 4)
    assert result.cv.std["roc_auc"] >= 0


def test_cv_with_a_splitter_for_regression() -> None:
    frame = churn_frame(120)
    model = LinearRegression().fit(frame[["tenure"]], frame["charges"])
    result = evaluate_model(
        model, frame[["tenure", "charges"]], "charges", cv=KFold(3, shuffle=True, random_state=0)
    )
    assert result.cv is not None
    assert len(result.cv.folds) == 3
    assert set(result.cv.mean) == {"mse", "rmse", "mae", "r2", "mape"}


def test_cv_needs_a_refittable_estimator() -> None:
    frame = churn_frame(60)
    with pytest.raises(InvalidInputError, match="scikit-learn compatible") as caught:
        evaluate_model(MeanModel(1.0), frame, "charges", task="regression", cv=3)
    assert caught.value.field == "cv"
    model = churn_pipeline(frame)
    with pytest.raises(InvalidInputError, match="number of folds"):
        evaluate_model(model, frame, "churned", cv=1)


def test_bootstrap_intervals_contain_the_point_estimates() -> None:
    frame = churn_frame(300)
    model = churn_pipeline(frame)
    result = evaluate_model(model, frame, "churned", bootstrap=60, confidence=0.9)
    assert result.confidence == 0.9
    assert set(result.intervals) == set(result.metrics)
    for name, (low, high) in result.intervals.items():
        assert low <= result.metrics[name] <= high, name
        assert low < high, name
    again = evaluate_model(model, frame, "churned", bootstrap=60, confidence=0.9)
    assert again.intervals == result.intervals  # seeded: the same resamples
    assert "accuracy_ci_low" in result.flat_metrics()
