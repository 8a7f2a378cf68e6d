"""Metrics per task, computed with scikit-learn's metric functions (never rewritten here).

Classification works on integer class codes (``0..k-1`` in the model's class order), so
every scikit-learn call sorts small integers rather than labels, and slices, bootstrap
samples and folds index the same arrays.

Binary tasks report precision, recall, F1 and F2 of the positive class and ROC-AUC and
PR-AUC (average precision) of its probability; multiclass tasks report their macro
averages (ROC-AUC one-vs-rest). ``log_loss`` and the AUCs need ``predict_proba``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "f2",
    "roc_auc",
    "pr_auc",
    "log_loss",
)
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2", "mape")

Scores = dict[str, float | None]


@dataclass(frozen=True)
class ClassificationArrays:
    """What classification metrics are computed from; ``pos`` is the positive class's code
    for binary tasks (None for multiclass)."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    n_classes: int
    pos: int | None

    def subset(self, index: np.ndarray | None) -> ClassificationArrays:
        if index is None:
            return self
        return ClassificationArrays(
            self.y_true[index],
            self.y_pred[index],
            None if self.proba is None else self.proba[index],
            self.n_classes,
            self.pos,
        )


@dataclass(frozen=True)
class RegressionArrays:
    y_true: np.ndarray
    y_pred: np.ndarray

    def subset(self, index: np.ndarray | None) -> RegressionArrays:
        if index is None:
            return self
        return RegressionArrays(self.y_true[index], self.y_pred[index])


@dataclass(frozen=True)
class ClassReport:
    """Per-class precision, recall, F1, F2 and support, and the confusion matrix."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    f2: np.ndarray
    support: np.ndarray
    confusion_matrix: np.ndarray


def classification_scores(
    arrays: ClassificationArrays, *, report: bool = False
) -> tuple[Scores, ClassReport | None]:
    """The classification metrics of ``arrays`` (and the per-class report when asked).

    AUCs are None when the rows hold a single class; every metric is None on no rows.
    """
    from sklearn import config_context  # scikit-learn loads on first use

    # The inputs are checked already (finite, valid arguments): skip scikit-learn's own
    # re-validation, which costs more than small metrics themselves.
    with config_context(assume_finite=True, skip_parameter_validation=True):
        return _classification_scores(arrays, report=report)


def _classification_scores(
    arrays: ClassificationArrays, *, report: bool
) -> tuple[Scores, ClassReport | None]:
    from sklearn import metrics as skm

    t, p, proba, k, pos = arrays.y_true, arrays.y_pred, arrays.proba, arrays.n_classes, arrays.pos
    if len(t) == 0:
        return dict.fromkeys(CLASSIFICATION_METRICS), None
    labels = np.arange(k)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        t, p, labels=labels, average=None, zero_division=0
    )
    _, _, f2, _ = skm.precision_recall_fscore_support(
        t, p, beta=2.0, labels=labels, average=None, zero_division=0
    )
    scores: Scores = {"accuracy": float(skm.accuracy_score(t, p))}
    if pos is not None:  # binary: the positive class
        scores.update(
            precision=float(precision[pos]),
            recall=float(recall[pos]),
            f1=float(f1[pos]),
            f2=float(f2[pos]),
        )
    else:  # multiclass: macro averages, as average="macro" computes them
        scores.update(
            precision=float(np.mean(precision)),
            recall=float(np.mean(recall)),
            f1=float(np.mean(f1)),
            f2=float(np.mean(f2)),
        )
    if proba is not None:
        scores.update(_probability_scores(skm, t, proba, k, pos, support))
    details = None
    if report:
        details = ClassReport(
            precision=precision,
            recall=recall,
            f1=f1,
            f2=f2,
            support=support,
            confusion_matrix=skm.confusion_matrix(t, p, labels=labels),
        )
    return scores, details


def _probability_scores(
    skm: Any, t: np.ndarray, proba: np.ndarray, k: int, pos: int | None, support: np.ndarray
) -> Scores:
    every_class = bool(np.all(support > 0))
    scores: Scores = {"log_loss": float(skm.log_loss(t, proba, labels=np.arange(k)))}
    if pos is not None:
        if not every_class:
            return {"roc_auc": None, "pr_auc": None, **scores}
        positive = t == pos
        score = proba[:, pos]
        return {
            "roc_auc": float(skm.roc_auc_score(positive, score)),
            "pr_auc": float(skm.average_precision_score(positive, score)),
            **scores,
        }
    if not every_class:
        return {"roc_auc": None, "pr_auc": None, **scores}
    from sklearn.preprocessing import label_binarize

    return {
        "roc_auc": float(skm.roc_auc_score(t, proba, multi_class="ovr", labels=np.arange(k))),
        "pr_auc": float(
            skm.average_precision_score(
                label_binarize(t, classes=np.arange(k)), proba, average="macro"
            )
        ),
        **scores,
    }


def regression_scores(arrays: RegressionArrays) -> Scores:
    """MSE, RMSE, MAE, R2 and MAPE (R2 is None below two rows)."""
    from sklearn import config_context
    from sklearn import metrics as skm

    t, p = arrays.y_true, arrays.y_pred
    if len(t) == 0:
        return dict.fromkeys(REGRESSION_METRICS)
    with config_context(assume_finite=True, skip_parameter_validation=True):
        return {
            "mse": float(skm.mean_squared_error(t, p)),
            "rmse": float(skm.root_mean_squared_error(t, p)),
            "mae": float(skm.mean_absolute_error(t, p)),
            "r2": float(skm.r2_score(t, p)) if len(t) >= 2 else None,
            "mape": float(skm.mean_absolute_percentage_error(t, p)),
        }


def ordered(scores: Scores) -> Scores:
    """Scores in the documented metric order."""
    order = {name: i for i, name in enumerate(CLASSIFICATION_METRICS + REGRESSION_METRICS)}
    return dict(sorted(scores.items(), key=lambda item: order.get(item[0], len(order))))
