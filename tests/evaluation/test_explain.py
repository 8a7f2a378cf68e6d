"""``mlcycle.evaluate(..., explain=True)``: permutation importance equal to scikit-learn's,
SHAP values equal to the shap library's, attributions that add up, and what is logged."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier

import mlcycle
from mlcycle import Client
from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.evaluator import evaluate_model
from mlcycle.evaluation.explainers import (
    ExplanationBudgetError,
    ShapUnavailableError,
    require_shap,
    shap_explainer,
)
from tests.models._models import FEATURES, churn_frame, churn_pipeline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _data(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series[int]]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=["a", "b", "c", "d", "e"])
    signal = 1.5 * X["a"] + 0.7 * X["b"] - 0.3 * X["c"]
    y = (signal + rng.normal(0.0, 0.7, n) > 0).astype(int)
    return X, y


def _shap() -> Any:
    return require_shap()


@pytest.mark.parametrize(
    ("metric", "scoring"),
    [("roc_auc", "roc_auc"), ("accuracy", "accuracy")],
)
def test_permutation_importance_equals_scikit_learn_for_classifiers(
    metric: str, scoring: str
) -> None:
    X, y = _data()
    model = RandomForestClassifier(n_estimators=10, random_state=0, n_jobs=1).fit(X, y)
    result = evaluate_model(
        model, X.assign(y=y), "y", explain=True, importance_metric=metric, seed=7
    )
    assert result.explanation is not None
    ours = result.explanation.importance
    theirs = permutation_importance(model, X, y, scoring=scoring, n_repeats=5, random_state=7)
    np.testing.assert_allclose(ours.importances, theirs.importances, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.std, theirs.importances_std, atol=1e-12)
    assert ours.ranked()[0] == "a"
    low, high = ours.interval
    assert np.all(low <= ours.mean)
    assert np.all(ours.mean <= high)


@pytest.mark.parametrize(
    ("metric", "scoring"), [("r2", "r2"), ("rmse", "neg_root_mean_squared_error")]
)
def test_permutation_importance_equals_scikit_learn_for_regressors(
    metric: str, scoring: str
) -> None:
    X, _ = _data()
    target = 2.0 * X["a"] - X["d"] + np.random.default_rng(1).normal(0.0, 0.1, len(X))
    model = Ridge().fit(X, target)
    result = evaluate_model(
        model,
        X.assign(t=target),
        "t",
        task="regression",
        explain=True,
        importance_metric=metric,
        importance_repeats=3,
        seed=11,
    )
    assert result.explanation is not None
    theirs = permutation_importance(model, X, target, scoring=scoring, n_repeats=3, random_state=11)
    np.testing.assert_allclose(
        result.explanation.importance.importances, theirs.importances, rtol=1e-9, atol=1e-12
    )


def test_tree_shap_values_equal_shap_and_add_up_to_the_margin() -> None:
    shap = _shap()
    X, y = _data()
    model = xgb.XGBClassifier(n_estimators=30, max_depth=3).fit(X, y)
    explainer = shap_explainer(model, X, positive_index=1, positive_label=1, classifier=True)
    found = explainer.explain(X.iloc[:50])
    reference = shap.TreeExplainer(model)
    np.testing.assert_allclose(found.values, reference.shap_values(X.iloc[:50]), atol=1e-6)
    assert found.method == "tree"
    assert found.output == "log-odds of class 1"
    margin = model.predict(X.iloc[:50], output_margin=True)
    np.testing.assert_allclose(found.values.sum(axis=1) + found.base_value, margin, atol=1e-4)


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_boosting_is_explained_by_shaps_extension_equal_to_the_library(family: str) -> None:
    shap = _shap()
    X, y = _data()
    model: Any = (
        xgb.XGBClassifier(n_estimators=40, max_depth=4, n_jobs=1)
        if family == "xgboost"
        else lgb.LGBMClassifier(n_estimators=40, verbose=-1)
    ).fit(X, y)
    explainer = shap_explainer(model, X, positive_index=1, positive_label=1, classifier=True)
    assert explainer.engine == "shap"
    assert explainer.takes_arrays
    rows = X.iloc[:60]
    found = explainer.explain(rows)
    # shap's own tree SHAP over the same trees (what the explainer runs)...
    extension = shap.TreeExplainer(model)
    extension.model.model_type = "internal"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        np.testing.assert_allclose(
            found.values, extension.shap_values(rows, check_additivity=False), rtol=0, atol=1e-12
        )
        # ...and what shap answers by default, through the library's code (float32 sums)
        library = shap.TreeExplainer(model)
        np.testing.assert_allclose(found.values, library.shap_values(rows), atol=1e-5)
    # a float array in the features' order gives the same values as the DataFrame
    np.testing.assert_array_equal(explainer.explain(rows.to_numpy()).values, found.values)
    with pytest.raises(InvalidInputError) as excinfo:
        explainer.explain(rows.to_numpy()[:, :3])
    assert excinfo.value.field == "rows"


def test_tree_shap_of_the_first_class_is_the_negated_log_odds() -> None:
    X, y = _data()
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y)
    explainer = shap_explainer(model, X, positive_index=0, positive_label=0, classifier=True)
    found = explainer.explain(X.iloc[:20])
    proba = np.asarray(model.predict_proba(X.iloc[:20]))[:, 0]
    log_odds = np.log(proba / (1 - proba))
    np.testing.assert_allclose(found.values.sum(axis=1) + found.base_value, log_odds, atol=1e-6)


def test_random_forest_shap_adds_up_to_the_probability() -> None:
    X, y = _data(300)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    explainer = shap_explainer(model, X, positive_index=1, classifier=True)
    found = explainer.explain(X.iloc[:30])
    assert found.output == "probability"
    total = found.values.sum(axis=1) + found.base_value
    np.testing.assert_allclose(total, model.predict_proba(X.iloc[:30])[:, 1], atol=1e-9)


def test_linear_shap_values_equal_shap_and_add_up_to_the_decision_function() -> None:
    shap = _shap()
    X, y = _data()
    model = LogisticRegression().fit(X, y)
    background = X.iloc[:100]  # at most BACKGROUND_ROWS: the explainer keeps them all
    explainer = shap_explainer(model, background, positive_index=1, classifier=True)
    found = explainer.explain(X.iloc[:40])
    reference = shap.LinearExplainer(model, background)
    np.testing.assert_allclose(found.values, reference.shap_values(X.iloc[:40]), atol=1e-10)
    assert found.method == "linear"
    total = found.values.sum(axis=1) + found.base_value
    np.testing.assert_allclose(total, model.decision_function(X.iloc[:40]), atol=1e-8)


def test_model_agnostic_shap_adds_up_and_handles_text_columns() -> None:
    frame = churn_frame(200)
    model = churn_pipeline(frame)
    X = frame[FEATURES]
    explainer = shap_explainer(model, X, positive_index=1, classifier=True)
    found = explainer.explain(X.iloc[:5])
    assert found.method == "kernel"
    total = found.values.sum(axis=1) + found.base_value
    np.testing.assert_allclose(total, model.predict_proba(X.iloc[:5])[:, 1], atol=1e-8)


def test_a_tree_model_shap_misreads_is_explained_model_agnostically() -> None:
    X, y = _data(300)
    X["region"] = (X["e"] > 0).astype(int)
    # shap's tree explainer shifts the features of histogram boosting with categories
    model = HistGradientBoostingClassifier(max_iter=10, categorical_features=[5]).fit(X, y)
    explainer = shap_explainer(model, X, positive_index=1, classifier=True)
    assert explainer.method == "kernel"
    found = explainer.explain(X.iloc[:3])
    total = found.values.sum(axis=1) + found.base_value
    np.testing.assert_allclose(total, model.predict_proba(X.iloc[:3])[:, 1], atol=1e-8)


def test_model_agnostic_explainer_refuses_beyond_its_budget() -> None:
    X, y = _data(200)
    model = KNeighborsClassifier().fit(X, y)
    explainer = shap_explainer(model, X, positive_index=1, classifier=True)
    with pytest.raises(ExplanationBudgetError, match="budget"):
        explainer.explain(X, budget_s=1e-9)
    partial = explainer.explain(X, budget_s=1e-9, partial=True)
    assert len(partial.values) < len(X)


@pytest.mark.slow
def test_evaluation_explains_with_plots_table_and_slices(tmp_path: Path) -> None:
    X, y = _data(800)
    X["region"] = (X["e"] > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1).fit(X, y)
    frame = X.assign(y=y)
    result = evaluate_model(model, frame, "y", explain=True, slices=["region"], seed=0)
    explanation = result.explanation
    assert explanation is not None
    assert explanation.shap is not None
    assert explanation.shap.method == "tree"
    assert next(iter(explanation.shap.mean_abs)) == "a"
    assert set(explanation.importance.slices["region"]) == {"0", "1"}
    assert explanation.importance.slices["region"]["1"]["a"] > 0
    names = set(result.plots)
    assert {"importance", "shap_summary", "shap_dependence_a"} <= names
    written = result.save(tmp_path)
    assert (tmp_path / "importance.csv") in written
    header, first = (tmp_path / "importance.csv").read_text().splitlines()[:2]
    assert header.startswith("feature,rank,importance")
    assert first.startswith("a,1,")
    for name in ("importance", "shap_summary", "shap_dependence_a"):
        assert (tmp_path / "plots" / f"{name}.png").read_bytes().startswith(PNG_MAGIC)
    assert "Feature importance" in (tmp_path / "evaluation.html").read_text()
    flat = result.flat_metrics()
    assert flat["importance/a"] == pytest.approx(explanation.importance.mean[0])
    assert flat["importance/a_ci_low"] <= flat["importance/a"] <= flat["importance/a_ci_high"]
    assert "shap/a" in flat
    assert "importance/slice/region/1/a" in flat


@pytest.mark.slow
def test_evaluate_explain_is_logged_to_the_run(client: Client, tmp_path: Path) -> None:
    frame = churn_frame(150)
    model = churn_pipeline(frame)
    with mlcycle.start_run(experiment="explain") as run:
        result = mlcycle.evaluate(
            model, frame, "churned", explain=True, explain_budget_s=1, importance_repeats=2
        )
    stored = client.get_run(run.id)
    assert result.explanation is not None
    assert stored.metrics["importance/charges"] == pytest.approx(
        result.flat_metrics()["importance/charges"]
    )
    files = {a.path for a in client.list_artifacts(run.id, "evaluation")}
    assert "evaluation/importance.csv" in files
    assert "evaluation/plots/importance.png" in files


def test_bad_explain_options_name_the_field() -> None:
    X, y = _data(100)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(InvalidInputError, match="importance_metric") as caught:
        evaluate_model(model, X.assign(y=y), "y", explain=True, importance_metric="r2")
    assert caught.value.field == "importance_metric"
    with pytest.raises(InvalidInputError) as caught:
        evaluate_model(model, X.assign(y=y), "y", explain=True, importance_repeats=0)
    assert caught.value.field == "importance_repeats"
    with pytest.raises(InvalidInputError) as caught:
        evaluate_model(model, X.assign(y=y), "y", explain=True, explain_budget_s=-1)
    assert caught.value.field == "explain_budget_s"


def test_without_shap_importance_is_computed_and_the_note_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)  # as if the package were not installed
    with pytest.raises(ShapUnavailableError, match=r"pip install 'mlcycle\[explain\]'"):
        require_shap()
    X, y = _data(100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = evaluate_model(LogisticRegression().fit(X, y), X.assign(y=y), "y", explain=True)
    assert result.explanation is not None
    assert result.explanation.shap is None
    assert "pip install 'mlcycle[explain]'" in result.explanation.notes[0]
