"""``metrics/get-history`` and ``metrics/get-history-bulk-interval``: metric series from
mlcycle's columnar chunks, in MLflow's shape (one JSON object per point)."""

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


def _sample(steps: np.ndarray[Any, Any], limit: int) -> np.ndarray[Any, Any]:
    """Indices of at most ``limit`` points spread evenly, first and last included."""
    if steps.size <= limit:
        return np.arange(steps.size)
    return np.unique(np.linspace(0, steps.size - 1, limit).round().astype(np.int64))


@route("/metrics/get-history-bulk-interval", "GET")
def get_history_bulk_interval(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    run_ids = p.strs("run_ids")
    if not run_ids:
        raise MlflowError("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > MAX_BULK_RUNS:
        raise MlflowError(f"GetMetricHistoryBulkInterval takes at most {MAX_BULK_RUNS} run_ids")
    key = p.req("metric_key")
    limit = p.integer("max_results", default=MAX_BULK_RESULTS) or MAX_BULK_RESULTS
    paging.check_size(limit, name="max_results", limit=MAX_BULK_RESULTS)
    start_step, end_step = p.integer("start_step"), p.integer("end_step")
    out: list[dict[str, Any]] = []
    for run_id in run_ids:
        h = ctx.tracking.get_metric_history(run_id, key)
        keep = np.ones(len(h), dtype=bool)
        if start_step is not None:
            keep &= h.steps >= start_step
        if end_step is not None:
            keep &= h.steps <= end_step
        inside = np.flatnonzero(keep)
        chosen = inside[_sample(h.steps[inside], limit)]
        part = MetricHistory(
            run_id=h.run_id,
            key=h.key,
            steps=h.steps[chosen],
            timestamps=h.timestamps[chosen],
            values=h.values[chosen],
        )
        out.extend(points(part, run_id=True))
    return {"metrics": out}
