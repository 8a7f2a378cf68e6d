"""Small builders for store tests."""

from __future__ import annotations

import numpy as np

from mlcycle.entities import Experiment, MetricBatch, Run, RunStatus
from mlcycle.store.sql.store import SqlStore


def experiment(store: SqlStore, exp_id: str = "e1", name: str | None = None) -> str:
    store.experiments.create(
        Experiment(id=exp_id, name=name or f"exp-{exp_id}", created_at=1, updated_at=1)
    )
    return exp_id


def run(
    store: SqlStore,
    run_id: str,
    exp_id: str = "e1",
    *,
    name: str | None = None,
    start: int = 1000,
    status: RunStatus = RunStatus.RUNNING,
    parent: str | None = None,
) -> str:
    store.runs.create(
        Run(
            id=run_id,
            experiment_id=exp_id,
            name=name or run_id,
            status=status,
            start_time=start,
            parent_id=parent,
        )
    )
    return run_id


def batch(key: str, values: list[float], steps: list[int] | None = None) -> MetricBatch:
    n = len(values)
    return MetricBatch(
        key=key,
        steps=np.asarray(steps if steps is not None else range(n), dtype=np.int64),
        timestamps=np.arange(n, dtype=np.int64) + 1_000,
        values=np.asarray(values, dtype=np.float64),
    )
