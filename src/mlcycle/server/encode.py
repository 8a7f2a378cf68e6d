"""Entities to JSON, straight to bytes with orjson.

The large answers (search pages of thousands of runs, histories of 100,000 points) skip
building pydantic models: plain dicts and NumPy arrays go to orjson, which is many times
faster. The shapes match :mod:`mlcycle.server.schemas`, which documents them (and the
schema tests check the two agree).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from mlcycle.client.results import RunComparison
from mlcycle.entities import ArtifactInfo, Experiment, MetricHistory, Run

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class OrjsonResponse(Response):
    """A JSON response rendered by orjson (NumPy arrays included)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)


def number(value: float) -> float | str:
    """A float for JSON: non-finite values as "NaN", "Infinity" or "-Infinity"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def experiment(e: Experiment) -> dict[str, Any]:
    p = e.problem
    return {
        "id": e.id,
        "name": e.name,
        "problem": {
            "task": p.task.value,
            "target": p.target,
            "primary_metric": p.primary_metric,
            "direction": p.direction.value,
            "threshold": p.threshold,
        },
        "description": e.description,
        "tags": dict(e.tags),
        "lifecycle_stage": e.lifecycle_stage.value,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "deleted_at": e.deleted_at,
    }


def run(r: Run) -> Run | dict[str, Any]:
    """A run for orjson: the dataclass itself (orjson writes dataclasses and enums natively,
    several times faster than building a dict), or a dict when a metric is not finite or a
    mapping is not a plain dict."""
    metrics = r.metrics
    plain = type(metrics) is dict and type(r.params) is dict and type(r.tags) is dict
    if plain and all(math.isfinite(v) for v in metrics.values()):
        return r
    return {
        "id": r.id,
        "experiment_id": r.experiment_id,
        "name": r.name,
        "status": r.status.value,
        "start_time": r.start_time,
        "end_time": r.end_time,
        "parent_id": r.parent_id,
        "description": r.description,
        "error": r.error,
        "lifecycle_stage": r.lifecycle_stage.value,
        "deleted_at": r.deleted_at,
        "params": dict(r.params),
        "metrics": {k: number(v) for k, v in metrics.items()},
        "tags": dict(r.tags),
    }


def history(h: MetricHistory) -> dict[str, Any]:
    values: Any = h.values
    if not bool(np.isfinite(values).all()):
        values = [number(v) for v in values.tolist()]
    return {
        "run_id": h.run_id,
        "key": h.key,
        "steps": h.steps,
        "timestamps": h.timestamps,
        "values": values,
    }


def artifact(a: ArtifactInfo) -> dict[str, Any]:
    return {"path": a.path, "is_dir": a.is_dir, "size": a.size, "sha256": a.sha256}


def comparison(c: RunComparison) -> dict[str, Any]:
    return {
        "run_ids": [r.id for r in c.runs],
        "params": c.params,
        "metrics": {
            k: [None if v is None else number(v) for v in values] for k, values in c.metrics.items()
        },
        "same_params": c.same_params,
        "same_metrics": {k: number(v) for k, v in c.same_metrics.items()},
    }
