"""Bootstrap confidence intervals and k-fold cross-validation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.entities import Task
from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.inputs import (
    call_model,
    classification_outputs,
    has_predict_proba,
    regression_outputs,
)
from mlcycle.evaluation.metrics import Scores, classification_scores, regression_scores
from mlcycle.models.loaded import LoadedModel

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class CrossValidation:
    """Metrics of each fold, and their mean and standard deviation across folds."""

    folds: tuple[dict[str, float | None], ...]
    mean: dict[str, float]
    std: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"folds": list(self.folds), "mean": self.mean, "std": self.std}


def bootstrap_intervals(
    scores_of: Callable[[np.ndarray], Scores],
    n_rows: int,
    *,
    resamples: int,
    confidence: float,
    seed: int | None,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each metric over ``resamples`` resamples of the rows (drawn
    with replacement). A metric undefined on a resample (e.g. ROC-AUC with one class) is
    left out of that resample."""
    if not 0 < confidence < 1:
        raise InvalidInputError(
            f"confidence must be between 0 and 1, got {confidence}", field="confidence"
        )
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        scores = scores_of(rng.integers(0, n_rows, n_rows))
        for name, value in scores.items():
            draws.setdefault(name, []).append(np.nan if value is None else value)
    tail = (1.0 - confidence) / 2.0 * 100.0
    intervals = {}
    for name, values in draws.items():
        array = np.asarray(values)
        if np.isfinite(array).any():
            low, high = np.nanpercentile(array, [tail, 100.0 - tail])
            intervals[name] = (float(low), float(high))
    return intervals


def cross_validate(
    model: object,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    task: Task,
    classes: np.ndarray | None,
    positive_label: object | None,
    cv: object,
    seed: int | None,
    target: str,
) -> CrossValidation:
    """Refit a clone of the model on each training fold and score it on the held-out fold.

    ``cv`` is a number of folds (stratified for classification, shuffled with ``seed``)
    or a scikit-learn splitter. The model must be a scikit-learn compatible estimator.
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold

    estimator = model.native if isinstance(model, LoadedModel) else model
    if not (callable(getattr(estimator, "fit", None)) and hasattr(estimator, "get_params")):
        raise InvalidInputError(
            "cross-validation refits the model, so it needs a scikit-learn compatible "
            f"estimator (with fit and get_params); got {type(estimator).__name__}",
            field="cv",
        )
    if hasattr(cv, "split"):
        splitter: Any = cv
    elif isinstance(cv, int) and not isinstance(cv, bool) and cv >= 2:
        kind = StratifiedKFold if task is Task.CLASSIFICATION else KFold
        splitter = kind(n_splits=cv, shuffle=True, random_state=seed)
    else:
        raise InvalidInputError(
            f"cv must be a number of folds (2 or more) or a scikit-learn splitter, got {cv!r}",
            field="cv",
        )
    folds: list[Scores] = []
    try:
        splits = list(splitter.split(X, y))
    except ValueError as exc:
        raise InvalidInputError(f"cannot split the data into folds: {exc}", field="cv") from exc
    for train, test in splits:
        fitted = clone(estimator).fit(X.iloc[train], y[train])
        X_test = X.iloc[test]
        pred = call_model(fitted, "predict", X_test)
        if task is Task.REGRESSION:
            arrays = regression_outputs(y[test], pred, target=target).regression
            assert arrays is not None
            folds.append(regression_scores(arrays))
            continue
        proba = None
        if has_predict_proba(fitted):
            proba = _align(call_model(fitted, "predict_proba", X_test), fitted.classes_, classes)
        outputs = classification_outputs(
            y[test],
            pred,
            proba,
            classes,
            target=target,
            positive_label=positive_label,
            require_two=False,
        )
        assert outputs.classification is not None
        folds.append(classification_scores(outputs.classification)[0])
    return _summary(folds)


def _align(proba: np.ndarray, fold_classes: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """Probabilities in the columns of ``classes`` (a fold may miss a class)."""
    if classes is None or np.array_equal(np.asarray(fold_classes), classes):
        return proba
    full = np.zeros((len(proba), len(classes)))
    position = {c: i for i, c in enumerate(classes.tolist())}
    for j, label in enumerate(np.asarray(fold_classes).tolist()):
        full[:, position[label]] = proba[:, j]
    return full


def _summary(folds: list[Scores]) -> CrossValidation:
    names = list(folds[0]) if folds else []
    mean: dict[str, float] = {}
    std: dict[str, float] = {}
    for name in names:
        values = np.asarray([np.nan if f.get(name) is None else f[name] for f in folds], float)
        if np.isfinite(values).any():
            mean[name] = float(np.nanmean(values))
            std[name] = float(np.nanstd(values))
    return CrossValidation(tuple(dict(f) for f in folds), mean, std)
