"""Metric series in the SQL store: compressed chunks plus the latest value per key.

A write may carry a batch ID (a client's retry of the same batch reuses it): the ID is
recorded in ``ingest_batches`` in the same transaction as the chunks, and a batch whose ID
is recorded already is acknowledged without being stored again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, delete, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mlcycle.codec.metric_chunks import decode, encode
from mlcycle.entities import LatestMetric, MetricBatch, MetricHistory
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.runs import not_found, require_writable
from mlcycle.store.sql.schema import (
    INGEST_BATCHES,
    LATEST_METRICS,
    METRIC_CHUNKS,
    IngestBatchRow,
    LatestMetricRow,
    MetricChunkRow,
    RunRow,
)
from mlcycle.store.sql.summary import change

#: Compaction merges a key's chunks once it has this many smaller than ``_SMALL`` points.
_COMPACT_AT = 8
_SMALL = 4096


def _latest(batch: MetricBatch) -> LatestMetric:
    """The point with the highest (step, timestamp); the last logged one wins ties."""
    order = np.lexsort((np.arange(len(batch)), batch.timestamps, batch.steps))
    i = int(order[-1])
    return LatestMetric(
        key=batch.key,
        value=float(batch.values[i]),
        step=int(batch.steps[i]),
        timestamp=int(batch.timestamps[i]),
    )


def _latest_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT that keeps the point with the highest (step, timestamp)."""
    table = LATEST_METRICS
    make: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(table)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[table.c.run_id, table.c.key],
        set_={
            "value": excluded.value,
            "is_nan": excluded.is_nan,
            "step": excluded.step,
            "timestamp": excluded.timestamp,
        },
        where=or_(
            excluded.step > table.c.step,
            and_(excluded.step == table.c.step, excluded.timestamp >= table.c.timestamp),
        ),
    )


class SqlMetrics:
    """Write metric batches; read histories and latest values."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._upsert: Any = None

    def write(
        self,
        run_id: str,
        batches: Sequence[MetricBatch],
        batch_id: str | None = None,
        *,
        allow_ended: bool = False,
    ) -> bool:
        """Store every batch in one transaction (all of them or none); a finished run takes
        none unless ``allow_ended``, a deleted run never.

        With ``batch_id``, a batch stored before under the same ID is not stored again.
        Returns False when it was such a duplicate, True otherwise.
        """
        batches = [b for b in batches if len(b)]
        if not batches:
            return True
        chunks = [
            {
                "run_id": run_id,
                "key": b.key,
                "count": len(b),
                "data": encode(b.steps, b.timestamps, b.values),
            }
            for b in batches
        ]
        latest: dict[str, LatestMetric] = {}
        for b in batches:
            point = _latest(b)
            old = latest.get(b.key)
            if old is None or (point.step, point.timestamp) >= (old.step, old.timestamp):
                latest[b.key] = point
        with self._db.write() as conn:
            if batch_id is not None and self._seen(conn, batch_id):
                return False
            # locks the run first (see lock_run)
            require_writable(conn, run_id, allow_ended=allow_ended)
            if batch_id is not None and not self._claim(conn, run_id, batch_id, chunks):
                return False  # another server process stored it meanwhile
            conn.execute(insert(METRIC_CHUNKS), chunks)
            self._upsert_latest(conn, run_id, list(latest.values()))
            change(conn, run_id, metric_keys=latest)
        return True

    @staticmethod
    def _seen(conn: Connection, batch_id: str) -> bool:
        found = conn.scalar(
            select(IngestBatchRow.batch_id).where(IngestBatchRow.batch_id == batch_id)
        )
        return found is not None

    def _claim(
        self, conn: Connection, run_id: str, batch_id: str, chunks: list[dict[str, Any]]
    ) -> bool:
        """Record ``batch_id``; False when a concurrent transaction recorded it first.

        ON CONFLICT DO NOTHING waits for that transaction (PostgreSQL) instead of failing.
        """
        make: Any = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        stmt = make(INGEST_BATCHES).values(
            batch_id=batch_id, run_id=run_id, points=sum(c["count"] for c in chunks)
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=["batch_id"])
        # RETURNING, not rowcount: drivers may report -1 rows for this statement.
        return conn.execute(stmt.returning(INGEST_BATCHES.c.batch_id)).first() is not None

    def _upsert_latest(self, conn: Connection, run_id: str, points: list[LatestMetric]) -> None:
        rows = [
            {
                "run_id": run_id,
                "key": p.key,
                "value": None if math.isnan(p.value) else p.value,
                "is_nan": math.isnan(p.value),
                "step": p.step,
                "timestamp": p.timestamp,
            }
            for p in points
        ]
        if self._upsert is None:
            self._upsert = _latest_upsert(self._db.dialect)
        conn.execute(self._upsert, rows)

    def history(self, run_id: str, key: str) -> MetricHistory:
        """Every point of ``key`` ordered by step (stable: logging order within a step)."""
        with self._db.read() as conn:
            blobs = list(
                conn.scalars(
                    select(MetricChunkRow.data)
                    .where(MetricChunkRow.run_id == run_id, MetricChunkRow.key == key)
                    .order_by(MetricChunkRow.id)
                )
            )
            if not blobs and conn.scalar(select(RunRow.id).where(RunRow.id == run_id)) is None:
                raise not_found(run_id)
        return _assemble(run_id, key, blobs)

    def latest(self, run_id: str) -> dict[str, LatestMetric]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(
                    LatestMetricRow.key,
                    LatestMetricRow.value,
                    LatestMetricRow.is_nan,
                    LatestMetricRow.step,
                    LatestMetricRow.timestamp,
                ).where(LatestMetricRow.run_id == run_id)
            )
            return {
                key: LatestMetric(
                    key=key,
                    value=math.nan if is_nan or value is None else float(value),
                    step=step,
                    timestamp=ts,
                )
                for key, value, is_nan, step, ts in rows
            }

    def compact(self, run_id: str) -> int:
        """Merge each key's small chunks into one; returns how many chunks were merged.

        Slow logging (one point per epoch) writes one tiny chunk per flush; merging them at
        run end keeps the per-point storage cost low. The run's batch IDs go too: an ended
        run takes no more metrics, so there is no retry left to recognise.
        """
        merged = 0
        with self._db.write() as conn:
            conn.execute(delete(IngestBatchRow).where(IngestBatchRow.run_id == run_id))
            rows = list(
                conn.execute(
                    select(MetricChunkRow.id, MetricChunkRow.key, MetricChunkRow.data)
                    .where(MetricChunkRow.run_id == run_id, MetricChunkRow.count < _SMALL)
                    .order_by(MetricChunkRow.id)
                )
            )
            by_key: dict[str, list[tuple[int, bytes]]] = {}
            for chunk_id, key, data in rows:
                by_key.setdefault(key, []).append((chunk_id, data))
            for key, chunks in by_key.items():
                if len(chunks) < _COMPACT_AT:
                    continue
                history = _assemble(run_id, key, [d for _, d in chunks], sort=False)
                conn.execute(
                    delete(MetricChunkRow).where(MetricChunkRow.id.in_([i for i, _ in chunks]))
                )
                conn.execute(
                    insert(METRIC_CHUNKS).values(
                        run_id=run_id,
                        key=key,
                        count=len(history),
                        data=encode(history.steps, history.timestamps, history.values),
                    )
                )
                merged += len(chunks)
        return merged


def _assemble(run_id: str, key: str, blobs: Sequence[bytes], *, sort: bool = True) -> MetricHistory:
    parts = [decode(b) for b in blobs]
    if not parts:
        empty_i = np.empty(0, dtype=np.int64)
        return MetricHistory(
            run_id=run_id,
            key=key,
            steps=empty_i,
            timestamps=empty_i.copy(),
            values=np.empty(0, dtype=np.float64),
        )
    if len(parts) == 1:
        steps, timestamps, values = parts[0]
    else:
        steps = np.concatenate([p[0] for p in parts])
        timestamps = np.concatenate([p[1] for p in parts])
        values = np.concatenate([p[2] for p in parts])
    if sort and steps.size > 1 and bool(np.any(steps[1:] < steps[:-1])):
        order = np.argsort(steps, kind="stable")
        steps, timestamps, values = steps[order], timestamps[order], values[order]
    return MetricHistory(run_id=run_id, key=key, steps=steps, timestamps=timestamps, values=values)
