"""One run of a monitor over one window: feature drift, prediction drift, target drift,
data quality and performance, put together as a :class:`MonitorResult`.

Windows with fewer rows than the monitor's ``min_rows`` give ``insufficient_data`` with
the counts, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mlcycle.entities import Feedback, Task
from mlcycle.entities.monitoring import (
    DeployedModel,
    Monitor,
    MonitorResult,
    ResultStatus,
    issue_summary,
)
from mlcycle.monitoring.data_drift import drift
from mlcycle.monitoring.label_free import estimated_performance
from mlcycle.monitoring.monitors import WindowFrame
from mlcycle.monitoring.performance import DEFAULT_TOLERANCE, join_labels, performance
from mlcycle.monitoring.quality import data_quality
from mlcycle.monitoring.reference import Reference
from mlcycle.monitoring.weighted_drift import weigh

if TYPE_CHECKING:
    import pandas as pd

INPUT_PREFIX = "input."
PREDICTION = "prediction"


def inputs_of(log: pd.DataFrame) -> pd.DataFrame:
    """The ``input.*`` columns of a prediction log, without the prefix."""
    columns = [c for c in log.columns if str(c).startswith(INPUT_PREFIX)]
    return log[columns].rename(columns=lambda c: str(c)[len(INPUT_PREFIX) :])


def serving_rows(log: pd.DataFrame, deployed: DeployedModel) -> pd.DataFrame:
    """The rows whose answers were returned (shadow arms' rows left out)."""
    if deployed.shadow_arms and "arm" in log.columns:
        log = log[~log["arm"].isin(deployed.shadow_arms)]
    return log


def window_table(
    log: pd.DataFrame, feedback: Sequence[Feedback], deployed: DeployedModel
) -> pd.DataFrame:
    """A window for a retraining job: the model's inputs, the ``prediction`` and the
    ``label`` where feedback arrived (missing elsewhere), one row per answered row."""
    rows = serving_rows(log, deployed).reset_index(drop=True)
    table = inputs_of(rows)
    if PREDICTION in rows.columns:
        table[PREDICTION] = rows[PREDICTION].to_numpy()
    labelled = join_labels(rows.assign(_i=range(len(rows))), feedback)
    labels = [None] * len(rows)
    for i, label in zip(labelled["_i"].tolist(), labelled["label"].tolist(), strict=True):
        labels[int(i)] = label
    table["label"] = labels
    return table


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, NumPy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _one_column(reference: pd.Series, current: pd.Series, name: str) -> dict[str, Any]:
    import pandas as pd

    report = drift(pd.DataFrame({name: reference}), pd.DataFrame({name: current}))
    column: dict[str, Any] = dict(report.to_dict()["columns"][name])
    return column


def _categorical_prediction(task: Task, reference: pd.Series) -> bool:
    import pandas as pd

    if task is Task.CLASSIFICATION:
        return True
    return not pd.api.types.is_numeric_dtype(reference.dtype)


def _as_category(series: pd.Series) -> pd.Series:
    return series.map(lambda v: None if v is None else str(v)).astype(object)


def prediction_drift(reference: Reference, predictions: pd.Series, *, task: Task) -> dict[str, Any]:
    """Predictions against the reference's target (the training labels)."""
    if reference.target is None:
        return {
            "status": "no_reference",
            "drifted": None,
            "detail": "the reference holds no target column to compare predictions with",
        }
    ref = reference.frame[reference.target]
    if _categorical_prediction(task, ref):
        ref, predictions = _as_category(ref), _as_category(predictions)
    return _one_column(ref, predictions, PREDICTION)


def target_drift(reference: Reference, labels: pd.Series, *, task: Task) -> dict[str, Any]:
    """Feedback labels against the reference's target."""
    if reference.target is None:
        return {
            "status": "no_reference",
            "drifted": None,
            "detail": "the reference holds no target column",
        }
    ref = reference.frame[reference.target]
    if _categorical_prediction(task, ref):
        ref, labels = _as_category(ref), _as_category(labels)
    return _one_column(ref, labels, reference.target)


def _task(reference: Reference, log: pd.DataFrame) -> Task:
    if reference.problem.task is not Task.OTHER:
        return reference.problem.task
    if any(str(c).startswith("proba.") for c in log.columns):
        return Task.CLASSIFICATION
    return Task.REGRESSION


def evaluate(
    monitor: Monitor,
    reference: Reference,
    window: WindowFrame,
    feedback: Sequence[Feedback],
    *,
    deployed: DeployedModel,
    result_id: str,
    now: int,
    calibration: pd.DataFrame | None = None,
    calibration_feedback: Sequence[Feedback] = (),
) -> MonitorResult:
    """The result of ``monitor`` on ``window`` (rows of the prediction log).

    ``calibration`` is the log before the window with ``calibration_feedback``, its
    labels: the label-free estimate of the window's performance calibrates on them."""
    log = serving_rows(window.frame, deployed)
    base = MonitorResult(
        id=result_id,
        monitor=monitor.name,
        status=ResultStatus.INSUFFICIENT_DATA,
        created_at=now,
        window_start=window.start,
        window_end=window.end,
        rows=len(log),
        model_name=deployed.name,
        model_version=deployed.version,
        reference=reference.ref,
    )
    if len(log) < monitor.min_rows:
        return replace(
            base,
            message=f"the window holds {len(log)} row(s); at least {monitor.min_rows} are "
            "needed to judge it",
            details={"counts": {"rows": len(log), "min_rows": monitor.min_rows}},
        )
    current = inputs_of(log)
    features = list(reference.features)
    known = [f for f in features if f in reference.profile]
    feature_report: dict[str, Any] = {"columns": {}, "share": None, "drifted": None}
    if known:  # a feature missing from the window shows as missing_in_current
        feature_report = weigh(
            drift(reference.profile, current, columns=known).to_dict(), reference.baseline
        )
    task = _task(reference, log)
    details: dict[str, Any] = {
        "feature_drift": feature_report,
        "quality": data_quality(reference.stats, current, features=features),
    }
    if PREDICTION in log.columns:
        details["prediction_drift"] = prediction_drift(reference, log[PREDICTION], task=task)
    labelled = join_labels(log, feedback)
    if len(labelled) >= monitor.min_rows:
        details["target_drift"] = target_drift(reference, labelled["label"], task=task)
    else:
        details["target_drift"] = {
            "status": "insufficient_data" if len(labelled) else "no_labels",
            "drifted": None,
            "labelled_rows": len(labelled),
            "min_rows": monitor.min_rows,
        }
    perf = performance(
        log,
        feedback,
        problem=reference.problem,
        baseline=reference.baseline,
        min_rows=monitor.min_rows,
        tolerance=DEFAULT_TOLERANCE,
    )
    details["performance"] = perf
    estimated: dict[str, Any] = {"status": "no_reference", "drop": None}
    if calibration is not None:
        estimated = estimated_performance(
            log,
            feedback,
            serving_rows(calibration, deployed),
            calibration_feedback,
            problem=reference.problem,
            task=task,
            baseline=reference.baseline,
            min_rows=monitor.min_rows,
            tolerance=DEFAULT_TOLERANCE,
        )
    details["estimated_performance"] = estimated
    quality_issues = int(details["quality"]["issues"])
    dataset_drift = feature_report.get("drifted")
    share = feature_report.get("share")
    issues = bool(dataset_drift) or quality_issues > 0 or bool(perf.get("drop"))
    issues = issues or bool(details.get("prediction_drift", {}).get("drifted"))
    issues = issues or bool(estimated.get("drop"))
    return replace(
        base,
        status=ResultStatus.ISSUES if issues else ResultStatus.OK,
        message=issue_summary(details) if issues else None,
        labelled_rows=int(perf["labelled_rows"]),
        dataset_drift=dataset_drift,
        drift_share=None if share is None else float(share),
        quality_issues=quality_issues,
        performance_drop=perf.get("drop"),
        details=_clean(details),
    )
