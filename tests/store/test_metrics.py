"""Metric chunks and latest values on every SQL backend."""

from __future__ import annotations

import math

import numpy as np
from sqlalchemy import func, select

from mlcycle.entities import MetricBatch
from mlcycle.store.sql.schema import MetricChunkRow
from mlcycle.store.sql.store import SqlStore
from tests.store.helpers import batch, experiment, run


def test_history_round_trips_nan_and_infinities(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    values = [1.0, math.nan, math.inf, -math.inf, -0.0, 1e-300]
    store.metrics.write("r1", [batch("m", values)])
    h = store.metrics.history("r1", "m")
    assert h.steps.tolist() == list(range(6))
    assert h.timestamps.tolist() == [1000 + i for i in range(6)]
    assert np.array_equal(h.values, np.array(values), equal_nan=True)
    assert math.copysign(1.0, float(h.values[4])) == -1.0


def test_latest_is_the_highest_step_then_latest_time(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    store.metrics.write("r1", [batch("m", [5.0, 6.0, 7.0], steps=[10, 30, 20])])
    assert store.metrics.latest("r1")["m"].value == 6.0
    store.metrics.write("r1", [batch("m", [1.0], steps=[29])])  # older step: no change
    assert store.metrics.latest("r1")["m"].value == 6.0
    later = MetricBatch(
        key="m",
        steps=np.array([30], dtype=np.int64),
        timestamps=np.array([99_999], dtype=np.int64),
        values=np.array([8.0]),
    )
    store.metrics.write("r1", [later])
    assert store.metrics.latest("r1")["m"].value == 8.0
    assert store.runs.get("r1").metrics == {"m": 8.0}


def test_latest_nan_reads_back_as_nan(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    store.metrics.write("r1", [batch("m", [1.0, math.nan])])
    assert math.isnan(store.runs.get("r1").metrics["m"])
    assert math.isnan(store.metrics.latest("r1")["m"].value)


def test_history_is_ordered_by_step_across_chunks(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    store.metrics.write("r1", [batch("m", [3.0, 4.0], steps=[3, 4])])
    store.metrics.write("r1", [batch("m", [1.0, 2.0], steps=[1, 2])])
    h = store.metrics.history("r1", "m")
    assert h.steps.tolist() == [1, 2, 3, 4]
    assert h.values.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_unknown_key_has_an_empty_history(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    h = store.metrics.history("r1", "never")
    assert len(h) == 0
    assert h.values.dtype == np.float64


def test_compaction_merges_small_chunks_and_keeps_every_point(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    for i in range(20):
        store.metrics.write("r1", [batch("m", [float(i)], steps=[i]), batch("k", [1.0])])
    merged = store.metrics.compact("r1")
    assert merged == 40
    with store.db.read() as conn:
        chunks = conn.execute(select(func.count()).select_from(MetricChunkRow)).scalar_one()
    assert chunks == 2
    h = store.metrics.history("r1", "m")
    assert h.values.tolist() == [float(i) for i in range(20)]
    assert store.metrics.compact("r1") == 0


def test_a_million_points_round_trip(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    n = 1_000_000
    rng = np.random.default_rng(0)
    values = rng.random(n)
    big = MetricBatch(
        key="big",
        steps=np.arange(n, dtype=np.int64),
        timestamps=np.arange(n, dtype=np.int64) + 1_700_000_000_000,
        values=values,
    )
    store.metrics.write("r1", [big])
    h = store.metrics.history("r1", "big")
    assert len(h) == n
    assert np.array_equal(h.values, values)
    assert store.metrics.latest("r1")["big"].value == values[-1]
