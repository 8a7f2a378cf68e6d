"""``metrics/get-history``, ``metrics/get-history-bulk`` and
``metrics/get-history-bulk-interval``: metric series from mlcycle's columnar chunks, in
MLflow's shape (one JSON object per point)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcycle.entities import MetricHistory
from mlcycle.server.mlflow import paging
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.protocol import MlflowError, Params
from mlcycle.server.mlflow.routing import Endpoints
from mlcycle.server.mlflow.runs import run_id_of

endpoints = Endpoints()
route = endpoints.route

MAX_BULK_RUNS = 100
MAX_BULK_RESULTS = 2500
MAX_HISTORY_BULK_RESULTS = 25_000


def points(
    history: MetricHistory, start: int = 0, stop: int | None = None, *, run_id: bool = False
) -> list[dict[str, Any]]:
    """Points ``start:stop`` of a history as MLflow metric objects."""
    steps = history.steps[start:stop].tolist()
    times = history.timestamps[start:stop].tolist()
    values: list[Any] = history.values[start:stop].tolist()
    bad = ~np.isfinite(history.values[start:stop])
    if bad.any():
        for i in np.flatnonzero(bad).tolist():
            v = values[i]
            values[i] = "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    key = history.key
    if run_id:
        rid = history.run_id
        return [
            {"key": key, "value": v, "timestamp": t, "step": s, "run_id": rid}
            for s, t, v in zip(steps, times, values, strict=True)
        ]
    return [
        {"key": key, "value": v, "timestamp": t, "step": s}
        for s, t, v in zip(steps, times, values, strict=True)
    ]


@route("/metrics/get-history", "GET")
def get_metric_history(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    history = ctx.tracking.get_metric_history(run_id_of(p), p.req("metric_key"))
    size = p.integer("max_results")
    if size is None:
        start, stop, token = paging.decode(p.text("page_token")), None, None
    else:
        paging.check_size(size, name="max_results", limit=10_000_000)
        start = paging.decode(p.text("page_token"))
        stop = start + size
        token = paging.encode(stop) if stop < len(history) else None
    body: dict[str, Any] = {"metrics": points(history, start, stop)}
    if token:
        body["next_page_token"] = token
    return body


@route("/metrics/get-history-bulk", "GET")
def get_history_bulk(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    """Every point of one metric of up to 100 runs (runs by ID, points by time, step and
    value), at most ``max_results`` (25,000) in all, as MLflow's UI asks for them."""
    run_ids = p.strs("run_id")
    if not run_ids:
        raise MlflowError("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(run_ids) > MAX_BULK_RUNS:
        raise MlflowError(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_BULK_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    key = p.text("metric_key")
    if key is None:
        raise MlflowError("GetMetricHistoryBulk request must specify a metric_key.")
    limit = p.integer("max_results", default=MAX_HISTORY_BULK_RESULTS)
    limit = min(limit or MAX_HISTORY_BULK_RESULTS, MAX_HISTORY_BULK_RESULTS)
    out: list[dict[str, Any]] = []
    for run_id in sorted(set(run_ids)):
        h = ctx.tracking.get_metric_history(run_id, key)
        order = np.lexsort((h.values, h.steps, h.timestamps))
        part = MetricHistory(
            run_id=h.run_id,
            key=h.key,
            steps=h.steps[order],
            timestamps=h.timestamps[order],
            values=h.values[order],
        )
        out.extend(points(part, 0, limit - len(out), run_id=True))
        if len(out) >= limit:
            break
    return {"metrics": out}


def _sample(count: int, limit: int) -> np.ndarray[Any, Any]:
    """Indices of at most ``limit`` of ``count`` ordered points, as MLflow 3.17 samples
    them: the first point of each of ``limit`` equal buckets (SQL's NTILE), the last point
    always kept (in place of the last sampled one when there are ``limit`` already)."""
    if count <= limit:
        return np.arange(count)
    size, extra = divmod(count, limit)
    buckets = np.arange(limit)
    chosen = buckets * size + np.minimum(buckets, extra)
    if chosen[-1] != count - 1:
        chosen[-1] = count - 1
    return chosen


@route("/metrics/get-history-bulk-interval", "GET")
def get_history_bulk_interval(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    """Up to ``max_results`` points of one metric of each of up to 100 runs, sampled evenly
    over the points between ``start_step`` and ``end_step`` (first and last kept)."""
    run_ids = p.strs("run_ids")
    if not run_ids:
        raise MlflowError(
            "Missing value for required parameter 'run_ids'. See the API docs for more "
            "information about request parameters."
        )
    if len(run_ids) > MAX_BULK_RUNS:
        raise MlflowError(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_BULK_RUNS} "
            f"run_ids. Received {len(run_ids)} run_ids."
        )
    key = p.req("metric_key")
    limit = p.integer("max_results", default=MAX_BULK_RESULTS)
    if limit is None or not 1 <= limit <= MAX_BULK_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {MAX_BULK_RESULTS}.")
    start_step, end_step = p.integer("start_step"), p.integer("end_step")
    if (start_step is None) != (end_step is None):
        raise MlflowError("If either start step or end step are specified, both must be specified.")
    if start_step is not None and end_step is not None and start_step > end_step:
        raise MlflowError(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    histories = [ctx.tracking.get_metric_history(run_id, key) for run_id in run_ids]
    out: list[dict[str, Any]] = []
    for h in histories:
        keep = np.ones(len(h), dtype=bool)
        if start_step is not None and end_step is not None:
            keep = (h.steps >= start_step) & (h.steps <= end_step)
        inside = np.flatnonzero(keep)
        inside = inside[np.lexsort((h.values[inside], h.timestamps[inside], h.steps[inside]))]
        chosen = inside[_sample(inside.size, limit)]
        part = MetricHistory(
            run_id=h.run_id,
            key=h.key,
            steps=h.steps[chosen],
            timestamps=h.timestamps[chosen],
            values=h.values[chosen],
        )
        out.extend(points(part, run_id=True))
    return {"metrics": out}
