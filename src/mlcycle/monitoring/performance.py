"""Performance of a window from delayed labels: the logged predictions joined with the
feedback received for their requests, scored with the task's usual metrics (those of
:mod:`mlcycle.evaluation.metrics`) and compared with the version's evaluation baseline
(the metrics its run logged)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.entities import Direction, Feedback, Problem, Task
from mlcycle.evaluation.metrics import (
    ClassificationArrays,
    RegressionArrays,
    classification_scores,
    regression_scores,
)

if TYPE_CHECKING:
    import pandas as pd

PROBA_PREFIX = "proba."
#: How far the primary metric may fall behind its baseline before a result says "drop".
DEFAULT_TOLERANCE = 0.05


def label_frame(feedback: Sequence[Feedback]) -> pd.DataFrame:
    """Labels as rows ``(request_id, row, label)``: a list label gives one label per row of
    its request; a single label applies to every row of its request (``row`` None)."""
    import pandas as pd

    ids: list[str] = []
    rows: list[int | None] = []
    labels: list[Any] = []
    for item in feedback:
        if isinstance(item.label, list | tuple):
            for i, value in enumerate(item.label):
                ids.append(item.request_id)
                rows.append(i)
                labels.append(value)
        else:
            ids.append(item.request_id)
            rows.append(None)
            labels.append(item.label)
    return pd.DataFrame({"request_id": ids, "row": pd.array(rows, dtype="Int64"), "label": labels})


def join_labels(window: pd.DataFrame, feedback: Sequence[Feedback]) -> pd.DataFrame:
    """The window's rows that have a label, with a ``label`` column."""
    import pandas as pd

    if not len(window) or not feedback or "request_id" not in window.columns:
        return window.iloc[0:0].assign(label=pd.Series(dtype=object))
    labels = label_frame(feedback).drop_duplicates(["request_id", "row"], keep="last")
    per_row = labels[labels["row"].notna()]
    whole = labels[labels["row"].isna()].drop(columns="row")
    left = window.assign(_row=window["row"].astype("Int64") if "row" in window else 0)
    a = left.merge(per_row.rename(columns={"row": "_row"}), on=["request_id", "_row"], how="inner")
    b = left.merge(whole, on="request_id", how="inner")
    joined = pd.concat([a, b], ignore_index=True).drop(columns="_row")
    return joined[joined["label"].notna()].reset_index(drop=True)


def _task(problem: Problem, frame: pd.DataFrame) -> Task:
    if problem.task is not Task.OTHER:
        return problem.task
    import pandas as pd

    if any(str(c).startswith(PROBA_PREFIX) for c in frame.columns):
        return Task.CLASSIFICATION
    if "prediction" in frame.columns and pd.api.types.is_float_dtype(frame["prediction"].dtype):
        return Task.REGRESSION
    return Task.CLASSIFICATION


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def score(labelled: pd.DataFrame, task: Task) -> dict[str, float | None]:
    """The task's metrics of labelled rows (``prediction``, ``label``, ``proba.*``)."""
    if task is Task.REGRESSION:
        import pandas as pd

        y = pd.to_numeric(labelled["label"], errors="coerce").to_numpy(dtype=float)
        p = pd.to_numeric(labelled["prediction"], errors="coerce").to_numpy(dtype=float)
        keep = np.isfinite(y) & np.isfinite(p)
        return regression_scores(RegressionArrays(y[keep], p[keep]))
    proba_columns = [c for c in labelled.columns if str(c).startswith(PROBA_PREFIX)]
    classes = [str(c)[len(PROBA_PREFIX) :] for c in proba_columns]
    truth = labelled["label"].map(str).tolist()
    predicted = labelled["prediction"].map(str).tolist()
    known = set(classes)
    extra = sorted({*truth, *predicted} - known)
    if not classes:
        classes = extra
    elif extra:  # a class the model has no probability for: no probability metrics
        classes, proba_columns = classes + extra, []
    code = {c: i for i, c in enumerate(classes)}
    proba = None
    if proba_columns:
        proba = labelled[proba_columns].to_numpy(dtype=float)
        if not np.all(np.isfinite(proba)):
            proba = None
    k = max(len(classes), 2)
    arrays = ClassificationArrays(
        np.array([code[t] for t in truth], dtype=np.int64),
        np.array([code[p] for p in predicted], dtype=np.int64),
        proba if proba is not None and proba.shape[1] == k else None,
        k,
        1 if k == 2 else None,
    )
    scores, _ = classification_scores(arrays)
    return scores


def performance(
    window: pd.DataFrame,
    feedback: Sequence[Feedback],
    *,
    problem: Problem,
    baseline: Mapping[str, float],
    min_rows: int,
    tolerance: float = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """The performance section of a result.

    ``status`` is ``ok``, ``drop`` (the primary metric is worse than its baseline by more
    than ``tolerance``), ``insufficient_data`` (fewer than ``min_rows`` labelled rows; the
    counts say how many) or ``no_labels``.
    """
    labelled = join_labels(window, feedback)
    task = _task(problem, window) if len(window) else problem.task
    out: dict[str, Any] = {
        "task": task.value,
        "rows": len(window),
        "labelled_rows": len(labelled),
        "min_rows": min_rows,
        "primary_metric": problem.primary_metric,
        "direction": problem.direction.value,
        "tolerance": tolerance,
        "metrics": {},
        "baseline": {},
        "delta": {},
        "drop": None,
    }
    if not len(labelled):
        out["status"] = "no_labels"
        return out
    if len(labelled) < min_rows:
        out["status"] = "insufficient_data"
        return out
    scores = {k: _finite(v) for k, v in score(labelled, task).items()}
    out["metrics"] = scores
    out["baseline"] = {k: float(baseline[k]) for k in scores if k in baseline}
    out["delta"] = {
        k: v - out["baseline"][k]
        for k, v in scores.items()
        if v is not None and k in out["baseline"]
    }
    out["drop"] = metric_drop(out, problem.primary_metric, tolerance)
    out["status"] = "drop" if out["drop"] else "ok"
    return out


def metric_drop(section: Mapping[str, Any], metric: str | None, tolerance: float) -> bool | None:
    """Whether ``metric`` of a performance section is worse than its baseline by more than
    ``tolerance`` (None when either value is unknown)."""
    if metric is None:
        return None
    value = section.get("metrics", {}).get(metric)
    base = section.get("baseline", {}).get(metric)
    if value is None or base is None:
        return None
    if _lower_is_better(metric, section.get("direction"), section.get("primary_metric")):
        return bool(value > base + tolerance)
    return bool(value < base - tolerance)


_LOWER_IS_BETTER = frozenset({"log_loss", "mse", "rmse", "mae", "mape"})


def _lower_is_better(metric: str, direction: object, primary: object) -> bool:
    if metric == primary:
        return direction == Direction.MINIMIZE.value
    return metric in _LOWER_IS_BETTER
