"""Permutation importance with confidence intervals, the same numbers as scikit-learn's
:func:`sklearn.inspection.permutation_importance` for the same data, metric and seed.

The importance of a feature is how much the metric drops when that feature's column is
shuffled (Breiman, 2001). The permutations are drawn exactly as scikit-learn draws them
(one seed per call, the same seed for every column, each repeat shuffling the previous
shuffle), so the two agree to floating-point precision. What is saved:

* the baseline predictions of the evaluation are reused (no baseline call of the model);
* one working copy of the features, each column put back after its repeats (scikit-learn
  copies the whole table once per column);
* each permuted prediction is scored for every slice too, so importance per slice costs
  no extra call of the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.inputs import call_model

if TYPE_CHECKING:
    import pandas as pd

#: metric name -> (higher is better, what the model is asked for)
METRICS: dict[str, tuple[bool, str]] = {
    "accuracy": (True, "predict"),
    "roc_auc": (True, "proba"),
    "r2": (True, "predict"),
    "rmse": (False, "predict"),
    "mae": (False, "predict"),
}


@dataclass(frozen=True, kw_only=True)
class Scoring:
    """How to score one prediction: the metric, the truth, and the model call it needs."""

    metric: str
    y_true: np.ndarray
    positive_index: int | None = None

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric][0]

    @property
    def method(self) -> str:
        return "predict_proba" if METRICS[self.metric][1] == "proba" else "predict"

    def output(self, raw: np.ndarray) -> np.ndarray:
        if self.metric == "roc_auc":
            assert self.positive_index is not None
            return raw[:, self.positive_index]
        return raw

    def score(self, output: np.ndarray, index: np.ndarray | None = None) -> float:
        y = self.y_true if index is None else self.y_true[index]
        out = output if index is None else output[index]
        if len(y) == 0:
            return math.nan
        if self.metric == "accuracy":
            return float(np.mean(out == y))
        if self.metric == "roc_auc":
            return _roc_auc(y, out)
        residual = y - out
        if self.metric == "rmse":
            return float(np.sqrt(np.mean(residual * residual)))
        if self.metric == "mae":
            return float(np.mean(np.abs(residual)))
        total = y - y.mean()
        denominator = float(np.dot(total, total))
        if denominator == 0:
            return math.nan
        return 1.0 - float(np.dot(residual, residual)) / denominator


def _roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic over average ranks: the value
    ``sklearn.metrics.roc_auc_score`` gives, without its per-call input checks."""
    from scipy.stats import rankdata

    n_pos = int(np.count_nonzero(positive))
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


@dataclass(frozen=True, kw_only=True)
class FeatureImportance:
    """Permutation importance of each feature: ``importances[i, r]`` is the drop of
    ``metric`` when feature ``i`` was shuffled in repeat ``r`` (a rise for metrics where
    lower is better, so larger always means more important). ``ci_low``/``ci_high`` are a
    Student-t ``confidence`` interval of the mean over the repeats. ``slices`` holds the
    mean importance per ``{column: {slice label: {feature: importance}}}``."""

    metric: str
    baseline: float
    features: tuple[str, ...]
    importances: np.ndarray
    confidence: float = 0.95
    slices: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    @property
    def repeats(self) -> int:
        return int(self.importances.shape[1])

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self.importances.mean(axis=1))

    @property
    def std(self) -> np.ndarray:
        """Standard deviation over the repeats (``ddof=0``, as scikit-learn reports it)."""
        return np.asarray(self.importances.std(axis=1))

    @property
    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        from scipy.stats import t

        n = self.repeats
        if n < 2:
            return self.mean, self.mean
        half = t.ppf(0.5 + self.confidence / 2, n - 1) * self.importances.std(axis=1, ddof=1)
        half = half / math.sqrt(n)
        return self.mean - half, self.mean + half

    def ranked(self) -> list[str]:
        """The features, most important first."""
        order = np.argsort(-self.mean, kind="stable")
        return [self.features[i] for i in order]

    def table(self) -> list[dict[str, Any]]:
        """One row per feature, most important first: feature, rank, mean, std, interval."""
        low, high = self.interval
        position = {name: i for i, name in enumerate(self.features)}
        rows = []
        for rank, name in enumerate(self.ranked(), start=1):
            i = position[name]
            rows.append(
                {
                    "feature": name,
                    "rank": rank,
                    "importance": float(self.mean[i]),
                    "std": float(self.std[i]),
                    "ci_low": float(low[i]),
                    "ci_high": float(high[i]),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "permutation",
            "metric": self.metric,
            "baseline": self.baseline,
            "repeats": self.repeats,
            "confidence": self.confidence,
            "features": self.table(),
            "slices": self.slices,
        }


def permutation_importance(
    model: object,
    X: pd.DataFrame,
    scoring: Scoring,
    *,
    repeats: int = 5,
    seed: int | None = 0,
    confidence: float = 0.95,
    baseline_output: np.ndarray | None = None,
    slices: Mapping[str, Sequence[tuple[str, np.ndarray]]] | None = None,
) -> FeatureImportance:
    """Shuffle each column of ``X`` ``repeats`` times and score the model's predictions.

    ``baseline_output`` is the model's output on ``X`` as ``scoring.output`` returns it
    (the evaluation has it already); ``slices`` maps a column to ``(label, row index)``
    pairs to score each permuted prediction on.

    >>> scoring = Scoring(metric="accuracy", y_true=y)  # doctest: +SKIP
    >>> permutation_importance(model, X, scoring, repeats=5, seed=0).ranked()  # doctest: +SKIP
    """
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise InvalidInputError(
            f"importance repeats must be a positive whole number, got {repeats!r}",
            field="importance_repeats",
        )
    n_rows, n_features = X.shape
    predict: Callable[[pd.DataFrame], np.ndarray] = lambda frame: scoring.output(  # noqa: E731
        call_model(model, scoring.method, frame)
    )
    if baseline_output is None:
        baseline_output = predict(X)
    sign = 1.0 if scoring.higher_is_better else -1.0
    groups = {column: list(pairs) for column, pairs in (slices or {}).items()}
    slice_base = {
        column: [scoring.score(baseline_output, index) for _, index in pairs]
        for column, pairs in groups.items()
    }
    slice_drop = {column: np.zeros((len(pairs), n_features)) for column, pairs in groups.items()}
    baseline = scoring.score(baseline_output)
    # scikit-learn draws one seed, then starts every column's shuffles from it
    column_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    work = X.copy()
    importances = np.empty((n_features, repeats))
    for j in range(n_features):
        shuffled = work.iloc[:, j]
        # numbers as a NumPy array; categories and other extension types as their own
        # array, so a shuffled column keeps its dtype
        original: Any = (
            shuffled.to_numpy() if isinstance(shuffled.dtype, np.dtype) else shuffled.array
        )
        values = original
        rng = np.random.RandomState(column_seed)
        order = np.arange(n_rows)
        for r in range(repeats):
            rng.shuffle(order)
            values = values.take(order)
            work.isetitem(j, values)
            output = predict(work)
            importances[j, r] = sign * (baseline - scoring.score(output))
            for column, pairs in groups.items():
                for k, (_, index) in enumerate(pairs):
                    slice_drop[column][k, j] += sign * (
                        slice_base[column][k] - scoring.score(output, index)
                    )
        work.isetitem(j, original)
    names = tuple(str(c) for c in X.columns)
    per_slice = {
        column: {
            label: {name: float(slice_drop[column][k, j] / repeats) for j, name in enumerate(names)}
            for k, (label, _) in enumerate(pairs)
        }
        for column, pairs in groups.items()
    }
    return FeatureImportance(
        metric=scoring.metric,
        baseline=baseline,
        features=names,
        importances=importances,
        confidence=confidence,
        slices=per_slice,
    )
