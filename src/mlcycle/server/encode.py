"""Entities to JSON, straight to bytes with orjson.

The large answers (search pages of thousands of runs, histories of 100,000 points) skip
building pydantic models: plain dicts and NumPy arrays go to orjson, which is many times
faster. Entities go through the one codec (:mod:`mlcycle.entities.codec`); runs and
metric histories keep fast paths with the same shape. The shapes match
:mod:`mlcycle.server.schemas`, which documents them (and the schema tests check the two
agree).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from mlcycle.client.results import RunComparison
from mlcycle.entities import ArtifactInfo, Experiment, MetricHistory, Run
from mlcycle.entities.codec import number, to_json

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class OrjsonResponse(Response):
    """A JSON response rendered by orjson (NumPy arrays included)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)


def experiment(e: Experiment) -> dict[str, Any]:
    data: dict[str, Any] = to_json(e)
    return data


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
    data: dict[str, Any] = to_json(a)
    return data


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
