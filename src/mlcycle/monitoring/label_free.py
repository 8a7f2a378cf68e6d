"""The ``estimated_performance`` section of a monitor result: a window's performance
estimated before its labels arrive (CBPE for classifiers, DLE for regressors; see
:mod:`mlcycle.monitoring.estimation`), calibrated on the labelled rows the deployment
logged before the window, and put beside the realised metrics once the window's own
labels are in, so the reader sees how good the estimate was."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.entities import Direction, Feedback, Problem, Task
from mlcycle.errors import InvalidInputError
from mlcycle.monitoring.estimation import CBPE, DLE, Estimate, realised_classification
from mlcycle.monitoring.performance import PROBA_PREFIX, join_labels

if TYPE_CHECKING:
    import pandas as pd

INPUT_PREFIX = "input."
#: Labelled rows before the window kept to calibrate on (the most recent ones).
CALIBRATION_ROWS = 100_000
CLASSIFIER_METHOD = "CBPE (confidence-based performance estimation)"
REGRESSOR_METHOD = "DLE (direct loss estimation: a gradient-boosted model of the loss)"
_LOWER_IS_BETTER = frozenset({"mae", "rmse"})


def _positive_column(log: pd.DataFrame) -> str | None:
    """The probability column of the positive class (the second of two, as the realised
    performance scores it); None when the log holds no binary probabilities."""
    columns = [c for c in log.columns if str(c).startswith(PROBA_PREFIX)]
    return str(columns[1]) if len(columns) == 2 else None


def _inputs(log: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in log.columns if str(c).startswith(INPUT_PREFIX)]
    return log[columns].rename(columns=lambda c: str(c)[len(INPUT_PREFIX) :])


def estimated_performance(
    window: pd.DataFrame,
    window_feedback: Sequence[Feedback],
    calibration: pd.DataFrame,
    calibration_feedback: Sequence[Feedback],
    *,
    problem: Problem,
    task: Task,
    baseline: Mapping[str, float],
    min_rows: int,
    tolerance: float,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """The section: ``status`` (``ok``, ``drop``, ``no_reference``: too few labelled rows
    before the window, or ``not_applicable``), ``method``, ``metrics`` ``{name: {value,
    low, high}}``, ``realised`` (when the window has ``min_rows`` labels) with
    ``within`` saying whether each realised value fell inside its interval, the
    ``baseline`` and whether the primary metric's estimate dropped below it."""
    out: dict[str, Any] = {
        "status": "not_applicable",
        "method": None,
        "confidence": confidence,
        "rows": len(window),
        "reference_rows": 0,
        "metrics": {},
        "realised": {},
        "within": {},
        "baseline": {},
        "primary_metric": problem.primary_metric,
        "direction": problem.direction.value,
        "drop": None,
    }
    if not len(window):
        return out
    labelled = join_labels(calibration, calibration_feedback).tail(CALIBRATION_ROWS)
    out["reference_rows"] = len(labelled)
    try:
        if task is Task.CLASSIFICATION:
            column = _positive_column(window)
            if column is None or column not in labelled.columns:
                out["detail"] = "the log holds no probabilities of a binary classifier"
                return out
            out["method"] = CLASSIFIER_METHOD
            if len(labelled) < min_rows:
                out["status"] = "no_reference"
                return out
            positive = column[len(PROBA_PREFIX) :]
            truth = labelled["label"].map(str).to_numpy() == positive
            estimator = CBPE(confidence=confidence).fit(
                labelled[column].to_numpy(dtype=float),
                truth,
                labelled["prediction"].map(str).to_numpy() == positive,
            )
            estimates = estimator.estimate(
                window[column].to_numpy(dtype=float),
                window["prediction"].map(str).to_numpy() == positive,
            )
            realised = _realised_classification(window, window_feedback, column, positive)
            reference_realised = estimator.reference_realised_
        else:
            out["method"] = REGRESSOR_METHOD
            if len(labelled) < max(min_rows, 20):
                out["status"] = "no_reference"
                return out
            dle = DLE(confidence=confidence).fit(
                _inputs(labelled), labelled["prediction"], _numbers(labelled["label"])
            )
            estimates = dle.estimate(_inputs(window), window["prediction"])
            realised = _realised_regression(window, window_feedback)
            reference_realised = _regression_metrics(
                _numbers(labelled["label"]), _numbers(labelled["prediction"])
            )
    except InvalidInputError as exc:  # one class only in the reference, and the like
        out["status"] = "no_reference"
        out["detail"] = str(exc)
        return out
    out["metrics"] = {name: e.to_dict() for name, e in estimates.items()}
    labelled_window = realised is not None and realised[1] >= min_rows
    if realised is not None and labelled_window:
        out["realised"] = {k: _finite(v) for k, v in realised[0].items() if k in estimates}
        out["within"] = {
            k: estimates[k].contains(v) for k, v in out["realised"].items() if v is not None
        }
    out["labelled_rows"] = 0 if realised is None else realised[1]
    out["baseline"] = {
        name: float(baseline[name]) if name in baseline else _finite(reference_realised[name])
        for name in estimates
    }
    metric = problem.primary_metric if problem.primary_metric in estimates else None
    metric = metric or ("roc_auc" if task is Task.CLASSIFICATION else "rmse")
    out["judged_metric"] = metric
    out["drop"] = _dropped(
        estimates[metric], out["baseline"].get(metric), metric, problem, tolerance
    )
    out["status"] = "drop" if out["drop"] else "ok"
    return out


def _dropped(
    estimate: Estimate, base: float | None, metric: str, problem: Problem, tolerance: float
) -> bool | None:
    if base is None or not math.isfinite(estimate.value):
        return None
    lower = (
        problem.direction is Direction.MINIMIZE
        if metric == problem.primary_metric
        else metric in _LOWER_IS_BETTER
    )
    if lower:
        return bool(estimate.value > base + tolerance)
    return bool(estimate.value < base - tolerance)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _numbers(values: Any) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)


def _realised_classification(
    window: pd.DataFrame, feedback: Sequence[Feedback], column: str, positive: str
) -> tuple[dict[str, float], int] | None:
    labelled = join_labels(window, feedback)
    if not len(labelled):
        return None
    scores = realised_classification(
        labelled["label"].map(str).to_numpy() == positive,
        labelled[column].to_numpy(dtype=float),
        labelled["prediction"].map(str).to_numpy() == positive,
    )
    return scores, len(labelled)


def _regression_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    keep = np.isfinite(y) & np.isfinite(p)
    error = y[keep] - p[keep]
    if not len(error):
        return {"mae": math.nan, "rmse": math.nan}
    return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error * error).mean()))}


def _realised_regression(
    window: pd.DataFrame, feedback: Sequence[Feedback]
) -> tuple[dict[str, float], int] | None:
    labelled = join_labels(window, feedback)
    if not len(labelled):
        return None
    return (
        _regression_metrics(_numbers(labelled["label"]), _numbers(labelled["prediction"])),
        len(labelled),
    )
