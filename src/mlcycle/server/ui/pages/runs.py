"""A run's page, and the chart data of its metrics (JSON)."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mlcycle.entities import ModelVersion, Run
from mlcycle.server.ui.buckets import DEFAULT_BUCKETS, bucketize
from mlcycle.server.ui.deps import Cache, Services, UiServices
from mlcycle.server.ui.pages.artifacts import children
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)
api = APIRouter(include_in_schema=False)

_SUMMARY_KEYS = 200  # metrics whose min/max/step the run page reads (the rest: last only)
_MODELS_SCANNED = 500
_ENV_PREFIXES = ("mlcycle.git.", "mlcycle.source", "mlcycle.env", "mlcycle.python", "mlcycle.user")


def metric_summary(ui: UiServices, run: Run) -> list[dict[str, Any]]:
    """Per metric: last, min, max, the last step and the number of points."""
    rows = []
    for i, key in enumerate(sorted(run.metrics)):
        row: dict[str, Any] = {"key": key, "last": run.metrics[key]}
        if i < _SUMMARY_KEYS:
            history = ui.tracking.get_metric_history(run.id, key)
            finite = history.values[np.isfinite(history.values)]
            row.update(
                min=float(finite.min()) if finite.size else None,
                max=float(finite.max()) if finite.size else None,
                step=int(history.steps.max()) if len(history) else None,
                points=len(history),
            )
        rows.append(row)
    return rows


def versions_of(ui: UiServices, run_id: str) -> list[ModelVersion]:
    """The model versions registered from this run."""
    found: list[ModelVersion] = []
    for model in ui.registry.list_models()[:_MODELS_SCANNED]:
        found.extend(
            v
            for v in ui.registry.list_versions(model.name, include_retired=True)
            if v.run_id == run_id
        )
    return found


@router.get("/runs/{run_id}")
def run_page(request: Request, ui: Services, run_id: str) -> HTMLResponse:
    """Everything about one run."""
    run = ui.tracking.get_run(run_id)
    experiment = ui.tracking.get_experiment(run.experiment_id)
    env = {k: v for k, v in run.tags.items() if k.startswith(_ENV_PREFIXES)}
    tags = {k: v for k, v in run.tags.items() if k not in env and not k.startswith("mlflow.")}
    note = run.description or run.tags.get("mlflow.note.content")
    child_ids = ui.tracking.child_run_ids(run.id)
    return page(
        request,
        "run.html",
        title=run.name,
        run=run,
        experiment=experiment,
        metrics=metric_summary(ui, run),
        env=env,
        tags=tags,
        note=note,
        children=child_ids,
        versions=versions_of(ui, run.id),
        inputs=ui.datasets.inputs_of(run.id),
        artifacts=children(ui.tracking.list_artifacts(run.id), ""),
    )


@api.get("/ui/api/runs/{run_id}/metric-buckets")
def metric_buckets(
    ui: Services,
    cache: Cache,
    run_id: str,
    key: str,
    start: int | None = None,
    end: int | None = None,
    buckets: int = DEFAULT_BUCKETS,
) -> Response:
    """Min, max and last per bucket of ``key`` over steps ``start``..``end`` (about
    ``buckets`` buckets), for the charts; the whole series never leaves the server.

    ``GET /ui/api/runs/RUN/metric-buckets?key=loss&start=0&end=5000&buckets=1000``
    """
    run = ui.tracking.get_run(run_id)
    series = cache.get(
        run_id,
        key,
        lambda: ui.tracking.get_metric_history(run_id, key),
        final=run.status.is_terminal,
    )
    body = bucketize(series, start=start, end=end, buckets=buckets).to_json()
    body.update(run_id=run_id, key=key, run_name=run.name, start_time=run.start_time)
    return Response(orjson.dumps(body), media_type="application/json")
