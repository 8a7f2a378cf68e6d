"""A run's params, latest metrics and tags, denormalised into one JSON column of ``runs``.

The child tables (``params``, ``latest_metrics``, ``tags``) stay the source of truth and
what filters join; the summary is a copy kept in the same transaction as every change, so
that search returns a page of complete runs by reading one column per run instead of one
row per key. JSON has no NaN or infinities: finite metric values go under ``m``, the
others under ``x`` as the strings "NaN", "Infinity" and "-Infinity", so decoding needs no
loop over values in the common case; floats are written with every digit (orjson).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from mlcycle.store.sql.schema import RUNS, LatestMetricRow, RunRow

EMPTY = "{}"


@dataclass
class Summary:
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def decode(raw: str | bytes | None) -> Summary:
    if not raw or raw == EMPTY:
        return Summary()
    data: dict[str, Any] = orjson.loads(raw)
    metrics: dict[str, float] = data.get("m", {})
    special = data.get("x")
    if special:
        metrics.update({k: float(v) for k, v in special.items()})
    return Summary(params=data.get("p", {}), metrics=metrics, tags=data.get("t", {}))


def _special(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def encode(summary: Summary) -> str:
    finite = {k: v for k, v in summary.metrics.items() if math.isfinite(v)}
    data: dict[str, Any] = {"p": summary.params, "m": finite, "t": summary.tags}
    if len(finite) < len(summary.metrics):
        data["x"] = {k: _special(v) for k, v in summary.metrics.items() if k not in finite}
    return orjson.dumps(data).decode()


def read_for_update(conn: Connection, run_id: str) -> Summary:
    """The run's summary, locking its row on PostgreSQL (SQLite writers are serial)."""
    query = select(RunRow.summary).where(RunRow.id == run_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return decode(conn.scalar(query))


def change(
    conn: Connection,
    run_id: str,
    *,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    drop_tags: Iterable[str] = (),
    metric_keys: Iterable[str] = (),
) -> None:
    """Apply changes to the run's summary (metrics are re-read from ``latest_metrics``)."""
    summary = read_for_update(conn, run_id)
    if params:
        summary.params.update(params)
    if tags:
        summary.tags.update(tags)
    for key in drop_tags:
        summary.tags.pop(key, None)
    keys = list(metric_keys)
    if keys:
        rows = conn.execute(
            select(LatestMetricRow.key, LatestMetricRow.value, LatestMetricRow.is_nan).where(
                LatestMetricRow.run_id == run_id, LatestMetricRow.key.in_(keys)
            )
        )
        for key, value, is_nan in rows:
            summary.metrics[key] = math.nan if is_nan or value is None else float(value)
    conn.execute(update(RUNS).where(RunRow.id == run_id).values(summary=encode(summary)))
