"""Tracking benchmarks for the foundation issue: mlcycle against MLflow, both on SQLite.

1. ``log_metric``: per-call ``run.log_metric`` into one run, timed until ``flush()`` returns.
2. ``search``: ``search_runs`` over 5,000 runs (10 params, 10 metrics) with a filter and
   an order; MLflow searches the same data, and both answers are checked against NumPy's.
3. ``search_large``: the same search over 100,000 runs, mlcycle only.
4. ``history``: ``get_metric_history`` of a 100,000-point metric.
5. ``storage``: bytes on disk per metric point at 10,000,000 points in one run, and the
   time to read that history back.

Search stores are filled the same way for both systems: the first runs through the
system's own API (mlcycle's tracking service; MLflow's SqlAlchemyStore ``create_run`` +
``log_batch``), which also gives the API's population rate, then the rest by bulk INSERTs
of the same rows. Before that, each bulk loader is checked against its API: one run is
written both ways into a scratch store and every row of every table must match.

Every store lives in a temporary directory that is removed afterwards. MLflow uses its
defaults for SQLite (rollback journal, ``synchronous=FULL``); mlcycle uses its own (WAL,
``synchronous=NORMAL``). Timings are wall-clock (``time.perf_counter``); the load average
is printed with each benchmark because other work on the machine skews them.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import random
import sqlite3
import statistics
import struct
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

import mlcycle
from benchmarks._common import (
    Result,
    cpu_ms,
    fmt,
    log,
    perf_counter,
    repeat,
    run_benches,
    sqlite_bytes,
    temp_dir,
)
from mlcycle.codec.metric_chunks import encode
from mlcycle.entities import MetricBatch
from mlcycle.ids import new_id
from mlcycle.store.sql.schema import Base
from mlcycle.store.sql.store import SqlStore
from mlcycle.tracking.service import TrackingService

try:  # the runs table's JSON copy of params, metrics and tags (newer stores)
    from mlcycle.store.sql import summary as summary_codec
except ImportError:  # pragma: no cover - older stores
    summary_codec = None  # type: ignore[assignment]

SUITE = "tracking"
BENCHMARKS = ("log_metric", "search", "search_large", "history", "storage")

FILTER = "metrics.m1 > 0.5 and params.p1 = 'a'"
ORDER_BY = "metrics.m2 DESC"
MAX_RESULTS = 1000
N_PARAMS = 10
N_METRICS = 10
METRIC_KEYS = [f"m{j}" for j in range(N_METRICS)]
_F64 = struct.Struct("<d")
BASE_TS = 1_700_000_000_000  # ms since the epoch, for generated data


@dataclass(frozen=True)
class Sizes:
    log_points: int = 1_000_000
    log_reps: int = 5
    mlflow_calls: int = 2_000
    mlflow_budget_s: float = 8.0
    search_runs: int = 5_000
    search_api_runs: int = 500
    large_search_runs: int = 100_000
    large_search_api_runs: int = 500
    history_points: int = 100_000
    mlflow_history_points: int = 100_000
    storage_points: int = 10_000_000
    mlflow_storage_points: int = 20_000


DEFAULT = Sizes()
QUICK = Sizes(
    log_points=100_000,
    log_reps=3,
    mlflow_calls=200,
    mlflow_budget_s=2.0,
    search_runs=1_000,
    search_api_runs=100,
    large_search_runs=10_000,
    large_search_api_runs=100,
    history_points=100_000,
    mlflow_history_points=10_000,
    storage_points=1_000_000,
    mlflow_storage_points=5_000,
)


# -- helpers ------------------------------------------------------------------------------


def _mlcycle_client(tmp: Path) -> mlcycle.Client:
    return mlcycle.Client(
        tracking_uri=f"sqlite:///{tmp / 'mlcycle.db'}", artifact_uri=str(tmp / "artifacts")
    )


def _service(client: mlcycle.Client) -> TrackingService:
    backend = client.tracking
    if not isinstance(backend, TrackingService):
        raise TypeError("the benchmarks need a local (in-process) mlcycle store")
    return backend


_mlflow_module: ModuleType | None = None


def _mlflow() -> ModuleType:
    """Import MLflow quietly (no telemetry, no INFO logs from its migrations)."""
    global _mlflow_module
    if _mlflow_module is None:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("DO_NOT_TRACK", "true")
        warnings.filterwarnings("ignore", module=r"mlflow(\..*)?$")
        import mlflow

        for name in ("mlflow", "alembic"):  # after the import: MLflow sets up its loggers
            logging.getLogger(name).setLevel(logging.WARNING)
        _mlflow_module = mlflow
    return _mlflow_module


def _mlflow_uri(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'mlflow.db'}"


def _dispose_mlflow(obj: Any) -> None:
    """Close the SQLite connections an MLflow client or store holds (best effort)."""
    store = getattr(getattr(obj, "_tracking_client", None), "store", obj)
    engine = getattr(store, "engine", None)
    if engine is not None:
        engine.dispose()


def _progress(label: str, done: int, total: int, started: float) -> None:
    elapsed = perf_counter() - started
    log(f"    {label}: {done:,}/{total:,} in {elapsed:.1f} s")


# -- 1. per-call log_metric ---------------------------------------------------------------


class _NoopRun:
    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        return None


def _loss_values(n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    curve = 2.0 / (1.0 + np.arange(n) / 1000.0) + 0.01 * rng.standard_normal(n)
    return [float(v) for v in curve.tolist()]


def _mlflow_per_call(tmp: Path, values: Sequence[float], sizes: Sizes) -> dict[str, Any]:
    """Per-call ``MlflowClient.log_metric`` and ``mlflow.log_metric`` on SQLite."""
    mlflow = _mlflow()
    from mlflow import MlflowClient

    uri = _mlflow_uri(tmp)
    client = MlflowClient(tracking_uri=uri)
    exp_id = client.create_experiment("bench-log-metric", artifact_location=str(tmp / "mlart"))
    out: dict[str, Any] = {}

    run_id = client.create_run(exp_id).info.run_id
    client.log_metric(run_id, "warmup", 0.0, step=0)
    n = 0
    t0 = perf_counter()
    while n < sizes.mlflow_calls and (n % 50 or perf_counter() - t0 < sizes.mlflow_budget_s):
        client.log_metric(run_id, "loss", values[n], step=n)
        n += 1
    elapsed = perf_counter() - t0
    out["client_calls"] = n
    out["client_points_per_s"] = n / elapsed
    client.set_terminated(run_id)

    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run(experiment_id=exp_id):
            mlflow.log_metric("warmup", 0.0, step=0)
            n = 0
            t0 = perf_counter()
            while n < sizes.mlflow_calls and (
                n % 50 or perf_counter() - t0 < sizes.mlflow_budget_s
            ):
                mlflow.log_metric("loss", values[n], step=n)
                n += 1
            elapsed = perf_counter() - t0
    finally:
        mlflow.set_tracking_uri(previous_uri)
    out["fluent_calls"] = n
    out["fluent_points_per_s"] = n / elapsed
    _dispose_mlflow(client)
    return out


def bench_log_metric(sizes: Sizes) -> Result:
    n = sizes.log_points
    values = _loss_values(n, seed=1)
    rates: list[float] = []
    loop_s: list[float] = []
    flush_s: list[float] = []
    cpu_share: list[float] = []
    with temp_dir("log") as tmp:
        client = _mlcycle_client(tmp)
        try:
            for rep in range(sizes.log_reps):
                run = client.start_run(experiment="bench-log-metric", capture_environment=False)
                log_metric = run.log_metric
                gc.collect()
                c0 = time.process_time()
                t0 = perf_counter()
                for v in values:
                    log_metric("loss", v)
                t1 = perf_counter()
                run.flush()
                t2 = perf_counter()
                cpu = time.process_time() - c0
                rates.append(n / (t2 - t0))
                loop_s.append(t1 - t0)
                flush_s.append(t2 - t1)
                cpu_share.append(cpu / (t2 - t0))
                log(
                    f"    mlcycle rep {rep + 1}: {fmt(rates[-1])} points/s (calls {t1 - t0:.3f} s, "
                    f"flush {t2 - t1:.3f} s; process CPU {cpu:.3f} s, both threads)"
                )
                run.end()
                stored = len(client.get_metric_history(run.id, "loss"))
                if stored != n:
                    raise AssertionError(f"mlcycle stored {stored} of {n} points")
        finally:
            client.close()

        noop = _NoopRun().log_metric
        t0 = perf_counter()
        for v in values:
            noop("loss", v)
        floor = n / (perf_counter() - t0)
        log(f"    Python floor (a no-op method with the same signature): {fmt(floor)} calls/s")

        log("    MLflow per-call log_metric (bounded by calls and time)...")
        ml = _mlflow_per_call(tmp, values, sizes)
    median = statistics.median(rates)
    best_mlflow = max(ml["client_points_per_s"], ml["fluent_points_per_s"])
    which = (
        "MlflowClient.log_metric"
        if ml["client_points_per_s"] >= ml["fluent_points_per_s"]
        else "mlflow.log_metric"
    )
    return Result(
        name="log_metric",
        what=(
            f"per-call run.log_metric, {n:,} points into one run, timed until flush() returns; "
            f"median of {len(rates)} (best {fmt(max(rates))} points/s)"
        ),
        unit="points/s",
        value=median,
        goal=1_000_000,
        higher_is_better=True,
        mlflow=best_mlflow,
        mlflow_note=(
            f"{which}; client {fmt(ml['client_points_per_s'])}/s over {ml['client_calls']:,} "
            f"calls, fluent {fmt(ml['fluent_points_per_s'])}/s over {ml['fluent_calls']:,}"
        ),
        details={
            "points": n,
            "rates_points_per_s": rates,
            "calls_s": loop_s,
            "flush_s": flush_s,
            "process_cpu_per_wall": cpu_share,
            "python_noop_call_floor_per_s": floor,
            "mlflow": ml,
        },
    )


# -- 2 and 3. search_runs ------------------------------------------------------------------


@dataclass
class RunData:
    """Runs to log: names, start times, params (p1 in {a, b, c}) and metrics in [0, 1)."""

    names: list[str]
    start_times: list[int]
    params: list[dict[str, str]]
    p1: npt.NDArray[np.str_]
    metrics: npt.NDArray[np.float64]  # (runs, N_METRICS)

    def __len__(self) -> int:
        return len(self.names)

    def expected(self, max_results: int = MAX_RESULTS) -> tuple[int, list[str]]:
        """The number of matching runs and the names of the first page, by NumPy."""
        mask = (self.metrics[:, 1] > 0.5) & (self.p1 == "a")
        idx = np.flatnonzero(mask)
        order = idx[np.argsort(-self.metrics[idx, 2], kind="stable")]
        return int(mask.sum()), [self.names[i] for i in order[:max_results]]


def make_runs(n: int, seed: int) -> RunData:
    rng = np.random.default_rng(seed)
    metrics = rng.random((n, N_METRICS))
    p1 = rng.choice(np.array(["a", "b", "c"]), size=n)
    other = rng.integers(0, 1000, size=(n, N_PARAMS)).tolist()
    p1_list = p1.tolist()
    params = [
        {f"p{j}": (p1_list[i] if j == 1 else f"v{other[i][j]}") for j in range(N_PARAMS)}
        for i in range(n)
    ]
    return RunData(
        names=[f"run-{i:06d}" for i in range(n)],
        start_times=[BASE_TS + 1000 * i for i in range(n)],
        params=params,
        p1=p1,
        metrics=metrics,
    )


def populate_mlcycle_api(
    service: TrackingService, exp_id: str, data: RunData, start: int, stop: int
) -> list[str]:
    """Runs ``start..stop`` through the service: create_run, log_params, log_metrics."""
    zero = np.zeros(1, dtype=np.int64)
    ids = []
    for i in range(start, stop):
        run = service.create_run(exp_id, name=data.names[i], start_time=data.start_times[i])
        service.log_params(run.id, data.params[i])
        ts = np.array([data.start_times[i]], dtype=np.int64)
        service.log_metrics(
            run.id,
            [
                MetricBatch(key=key, steps=zero, timestamps=ts, values=data.metrics[i, j : j + 1])
                for j, key in enumerate(METRIC_KEYS)
            ],
        )
        ids.append(run.id)
    return ids


def _mlcycle_rows(
    exp_id: str, data: RunData, i: int, run_id: str
) -> dict[str, list[dict[str, Any]]]:
    """The rows mlcycle's service writes for run ``i`` of ``data`` (create_run, log_params,
    and log_metrics with a one-point batch per key), built by hand for bulk INSERTs.

    This knows mlcycle's table layout; :func:`check_mlcycle_rows` compares it with what
    the service writes, so a schema change makes the benchmark fail loudly instead of
    measuring a store unlike the real one.
    """
    ts = data.start_times[i]
    params = data.params[i]
    values = data.metrics[i].tolist()
    run: dict[str, Any] = {
        "id": run_id,
        "experiment_id": exp_id,
        "name": data.names[i],
        "status": "RUNNING",
        "start_time": ts,
        "end_time": None,
        "parent_id": None,
        "description": None,
        "error": None,
        "lifecycle_stage": "active",
        "deleted_at": None,
    }
    if "summary" in Base.metadata.tables["runs"].c:
        if summary_codec is None:
            raise RuntimeError("runs.summary exists but mlcycle.store.sql.summary does not")
        metrics = dict(zip(METRIC_KEYS, values, strict=True))
        run["summary"] = summary_codec.encode(
            summary_codec.Summary(params=dict(params), metrics=metrics, tags={})
        )
    # One-point chunks of one run differ only in the value, stored raw (8 bytes do not
    # compress): encode the first and splice the others, unless the codec disagrees.
    zero = np.zeros(1, dtype=np.int64)
    ts_arr = np.array([ts], dtype=np.int64)
    first = encode(zero, ts_arr, np.array(values[:1]))
    if first.endswith(_F64.pack(values[0])):
        blobs = [first[:-8] + _F64.pack(v) for v in values]
    else:
        blobs = [encode(zero, ts_arr, np.array([v])) for v in values]
    return {
        "runs": [run],
        "params": [{"run_id": run_id, "key": k, "value": v} for k, v in params.items()],
        "latest_metrics": [
            {"run_id": run_id, "key": k, "value": v, "is_nan": 0, "step": 0, "timestamp": ts}
            for k, v in zip(METRIC_KEYS, values, strict=True)
        ],
        "metric_chunks": [
            {"run_id": run_id, "key": k, "count": 1, "data": blob}
            for k, blob in zip(METRIC_KEYS, blobs, strict=True)
        ],
    }


def _executemany(
    execute: Callable[[str, list[tuple[Any, ...]]], object],
    runs: Sequence[dict[str, list[dict[str, Any]]]],
) -> None:
    """INSERT the rows of ``runs``, table by table, one executemany per table."""
    for table in runs[0]:
        rows = [row for run in runs for row in run[table]]
        if not rows:
            continue
        columns = list(rows[0])
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        execute(sql, [tuple(row[c] for c in columns) for row in rows])


def _run_rows(con: sqlite3.Connection, id_column: str, run_id: str) -> dict[str, list[Any]]:
    """Every row of every table that belongs to ``run_id`` (via ``id_column`` or
    ``runs.<primary key>``), with the run ID masked, sorted, comparable."""
    found: dict[str, list[Any]] = {}
    tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        columns = [c[1] for c in con.execute(f"PRAGMA table_info({table})")]
        if table == "runs":
            key = "id" if "id" in columns else id_column
        elif id_column in columns:
            key = id_column
        else:
            continue
        rows = []
        for row in con.execute(f"SELECT * FROM {table} WHERE {key} = ?", (run_id,)):
            item: dict[str, Any] = {}
            for column, value in zip(columns, row, strict=True):
                if column == "id" and table != "runs":
                    continue  # an autoincrement key
                if isinstance(value, str):
                    value = value.replace(run_id, "*")
                    if value.startswith("{"):
                        value = orjson.loads(value)  # JSON: compare content, not spelling
                item[column] = value
            rows.append(item)
        if rows:
            found[table] = sorted(rows, key=repr)
    return found


def _compare_rows(system: str, api: dict[str, list[Any]], bulk: dict[str, list[Any]]) -> None:
    if api != bulk:
        diffs = [
            f"  {table}: the API wrote {api.get(table)!r}, the bulk loader {bulk.get(table)!r}"
            for table in sorted(set(api) | set(bulk))
            if api.get(table) != bulk.get(table)
        ]
        raise AssertionError(
            f"the {system} bulk loader no longer writes what the {system} API writes; update "
            "it in benchmarks/tracking.py\n" + "\n".join(diffs)
        )


def check_mlcycle_rows(tmp: Path, data: RunData) -> None:
    """Write run 0 of ``data`` through the service and through the bulk loader into a
    scratch store; raise if the stored rows differ in any table or column."""
    client = _mlcycle_client(tmp)
    try:
        service = _service(client)
        store = service.store
        if not isinstance(store, SqlStore):
            raise TypeError("bulk population needs the SQL store")
        exp_id = service.get_or_create_experiment("bulk-check").id
        (api_id,) = populate_mlcycle_api(service, exp_id, data, 0, 1)
        bulk_id = new_id()
        populate_mlcycle_bulk(service, exp_id, data, 0, 1, ids=[bulk_id])
    finally:
        client.close()
    con = sqlite3.connect(tmp / "mlcycle.db")
    try:
        _compare_rows(
            "mlcycle", _run_rows(con, "run_id", api_id), _run_rows(con, "run_id", bulk_id)
        )
    finally:
        con.close()


def populate_mlcycle_bulk(
    service: TrackingService,
    exp_id: str,
    data: RunData,
    start: int,
    stop: int,
    *,
    ids: Sequence[str] | None = None,
    batch: int = 5_000,
) -> list[str]:
    """Runs ``start..stop`` as bulk INSERTs through mlcycle's own engine, ``batch`` runs
    per transaction: the rows the service writes (see :func:`check_mlcycle_rows`)."""
    store = service.store
    if not isinstance(store, SqlStore):
        raise TypeError("bulk population needs the SQL store")
    run_ids = list(ids) if ids is not None else [new_id() for _ in range(start, stop)]
    started = perf_counter()
    for lo in range(start, stop, batch):
        hi = min(stop, lo + batch)
        runs = [_mlcycle_rows(exp_id, data, i, run_ids[i - start]) for i in range(lo, hi)]
        with store.db.write() as conn:
            _executemany(conn.exec_driver_sql, runs)
        if hi < stop and (hi - start) % 25_000 < batch:
            _progress("mlcycle bulk INSERT", hi - start, stop - start, started)
    return run_ids


@dataclass
class Loaded:
    """How a store was filled: the first runs through the API, the rest in bulk."""

    api_runs: int
    api_s: float
    bulk_runs: int
    bulk_s: float

    @property
    def api_rate(self) -> float:
        return self.api_runs / self.api_s if self.api_s else math.nan

    def text(self, system: str, api: str) -> str:
        total = self.api_runs + self.bulk_runs
        return (
            f"    {system} population: {self.api_runs:,} runs via {api} in {self.api_s:.1f} s "
            f"({fmt(self.api_rate)} runs/s, so all {total:,} would take "
            f"~{total / self.api_rate:.0f} s), then {self.bulk_runs:,} by bulk INSERT in "
            f"{self.bulk_s:.1f} s"
        )

    def details(self) -> dict[str, Any]:
        return {
            "api_runs": self.api_runs,
            "api_s": self.api_s,
            "api_runs_per_s": self.api_rate,
            "bulk_runs": self.bulk_runs,
            "bulk_s": self.bulk_s,
        }


def load_mlcycle(
    client: mlcycle.Client, experiment: str, data: RunData, api_runs: int
) -> tuple[Loaded, list[str]]:
    """Fill ``experiment``: the first ``api_runs`` through the service, the rest in bulk.
    Returns the timings and the IDs of the bulk-written runs."""
    service = _service(client)
    exp_id = service.get_or_create_experiment(experiment).id
    api_runs = min(api_runs, len(data))
    t0 = perf_counter()
    populate_mlcycle_api(service, exp_id, data, 0, api_runs)
    t1 = perf_counter()
    bulk_ids = populate_mlcycle_bulk(service, exp_id, data, api_runs, len(data))
    t2 = perf_counter()
    loaded = Loaded(api_runs, t1 - t0, len(data) - api_runs, t2 - t1)
    log(loaded.text("mlcycle", "the service (create_run, log_params, log_metrics)"))
    return loaded, bulk_ids


def _mlflow_rows(
    exp_id: str, artifact_location: str, data: RunData, i: int, run_uuid: str
) -> dict[str, list[dict[str, Any]]]:
    """The rows MLflow's SqlAlchemyStore writes for run ``i`` (create_run with a run name,
    then log_batch of 10 params and 10 metrics); checked by :func:`check_mlflow_rows`."""
    ts = data.start_times[i]
    values = data.metrics[i].tolist()
    metrics = [
        {"key": k, "value": v, "timestamp": ts, "step": 0, "is_nan": 0, "run_uuid": run_uuid}
        for k, v in zip(METRIC_KEYS, values, strict=True)
    ]
    return {
        "runs": [
            {
                "run_uuid": run_uuid,
                "name": data.names[i],
                "source_type": "UNKNOWN",
                "source_name": "",
                "entry_point_name": "",
                "user_id": "bench",
                "status": "RUNNING",
                "start_time": ts,
                "end_time": None,
                "source_version": "",
                "lifecycle_stage": "active",
                "artifact_uri": f"{artifact_location}/{run_uuid}/artifacts",
                "experiment_id": int(exp_id),
                "deleted_time": None,
            }
        ],
        "tags": [{"key": "mlflow.runName", "value": data.names[i], "run_uuid": run_uuid}],
        "params": [{"key": k, "value": v, "run_uuid": run_uuid} for k, v in data.params[i].items()],
        "metrics": metrics,
        "latest_metrics": [dict(m) for m in metrics],
    }


def _mlflow_store(tmp: Path) -> Any:
    _mlflow()
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    return SqlAlchemyStore(_mlflow_uri(tmp), str(tmp / "mlart"))  # type: ignore[no-untyped-call]


def populate_mlflow_api(store: Any, exp_id: str, data: RunData, start: int, stop: int) -> list[str]:
    """Runs ``start..stop`` through MLflow's SqlAlchemyStore: create_run, then one
    log_batch with the 10 params and 10 metrics."""
    from mlflow.entities import Metric, Param

    ids = []
    for i in range(start, stop):
        run = store.create_run(
            exp_id, user_id="bench", start_time=data.start_times[i], tags=[], run_name=data.names[i]
        )
        ts = data.start_times[i]
        values = data.metrics[i].tolist()
        store.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in zip(METRIC_KEYS, values, strict=True)],
            params=[Param(k, v) for k, v in data.params[i].items()],
            tags=[],
        )
        ids.append(run.info.run_id)
    return ids


def populate_mlflow_bulk(
    db_path: Path,
    exp_id: str,
    artifact_location: str,
    data: RunData,
    start: int,
    stop: int,
    *,
    ids: Sequence[str] | None = None,
) -> None:
    """Runs ``start..stop`` as bulk INSERTs into MLflow's tables, one transaction."""
    run_ids = list(ids) if ids is not None else [uuid.uuid4().hex for _ in range(start, stop)]
    runs = [
        _mlflow_rows(exp_id, artifact_location, data, i, run_ids[i - start])
        for i in range(start, stop)
    ]
    if not runs:
        return
    con = sqlite3.connect(db_path)
    try:
        with con:
            _executemany(con.executemany, runs)
    finally:
        con.close()


def check_mlflow_rows(tmp: Path, data: RunData) -> None:
    """Write run 0 of ``data`` through MLflow's store and through the bulk loader into a
    scratch database; raise if the stored rows differ in any table or column."""
    store = _mlflow_store(tmp)
    try:
        exp_id: str = store.create_experiment("bulk-check")
        location = store.get_experiment(exp_id).artifact_location
        (api_id,) = populate_mlflow_api(store, exp_id, data, 0, 1)
    finally:
        _dispose_mlflow(store)
    bulk_id = uuid.uuid4().hex
    populate_mlflow_bulk(tmp / "mlflow.db", exp_id, location, data, 0, 1, ids=[bulk_id])
    con = sqlite3.connect(tmp / "mlflow.db")
    try:
        _compare_rows(
            "MLflow", _run_rows(con, "run_uuid", api_id), _run_rows(con, "run_uuid", bulk_id)
        )
    finally:
        con.close()


def load_mlflow(tmp: Path, experiment: str, data: RunData, api_runs: int) -> tuple[Loaded, str]:
    """Fill an MLflow store in ``tmp``: the first ``api_runs`` runs through its
    SqlAlchemyStore (MLflow's defaults), the rest in bulk. Returns the experiment ID."""
    store = _mlflow_store(tmp)
    api_runs = min(api_runs, len(data))
    try:
        exp_id: str = store.create_experiment(experiment)
        location = store.get_experiment(exp_id).artifact_location
        t0 = perf_counter()
        populate_mlflow_api(store, exp_id, data, 0, api_runs)
        t1 = perf_counter()
    finally:
        _dispose_mlflow(store)
    t1b = perf_counter()
    populate_mlflow_bulk(tmp / "mlflow.db", exp_id, location, data, api_runs, len(data))
    t2 = perf_counter()
    loaded = Loaded(api_runs, t1 - t0, len(data) - api_runs, t2 - t1b)
    log(loaded.text("MLflow", "SqlAlchemyStore (create_run, log_batch)"))
    return loaded, exp_id


def _mlcycle_search(client: mlcycle.Client, experiment: str) -> Callable[[], list[str]]:
    def search() -> list[str]:
        runs = client.search_runs(
            [experiment], filter=FILTER, order_by=[ORDER_BY], max_results=MAX_RESULTS
        )
        return [r.name for r in runs]

    return search


def search_breakdown(client: mlcycle.Client, experiment: str, db_path: Path) -> dict[str, Any]:
    """Where one search's time goes, each part timed alone in CPU ms (medians): parsing
    the filter, building the SELECT, running it as the search does (on SQLite, the
    compiled SQL on the driver's connection; SQLAlchemy's execute + fetch beside it),
    building the Run entities, and encoding the page as the server's JSON response; and
    the floor: the same SQL (literal values) run by the plain ``sqlite3`` module on the
    same file, which no implementation on this store and schema can beat."""
    from mlcycle.search import parse_filter, parse_order_by
    from mlcycle.server import encode as server_encode
    from mlcycle.store.sql import search as sql_search

    service = _service(client)
    store = service.store
    if not isinstance(store, SqlStore):
        raise TypeError("the breakdown needs the SQL store")
    exp_id = client.get_experiment(experiment).id
    typed = parse_filter(FILTER)
    orders = parse_order_by(ORDER_BY)
    query, params = sql_search.search_query([exp_id], typed, orders, MAX_RESULTS)

    def execute() -> list[Any]:
        with store.db.read() as conn:
            return list(conn.execute(query, params).all())

    # On SQLite a first page runs on the driver's connection (see store.sql.search)
    plain = sql_search._plain_sql(query, 1, store.db.engine.dialect)

    def execute_plain() -> list[Any]:
        assert plain is not None
        with store.db.read() as conn:
            return plain.run(conn, [exp_id])

    rows = execute()
    page = sql_search.page_of(rows, MAX_RESULTS)
    sql = str(query.params(params).compile(store.db.engine, compile_kwargs={"literal_binds": True}))
    raw = sqlite3.connect(db_path)
    try:
        floor_rows = raw.execute(sql).fetchall()
        if [tuple(r) for r in rows] != floor_rows:
            raise AssertionError("the raw SQL floor returned other rows than the search")
        parts = {
            "whole search (Client.search_runs)": cpu_ms(_mlcycle_search(client, experiment)),
            "experiment name -> ID": cpu_ms(lambda: client.get_experiment(experiment)),
            "parse filter and order": cpu_ms(
                lambda: (parse_filter(FILTER), parse_order_by(ORDER_BY))
            ),
            "build the SELECT (cached after the first)": cpu_ms(
                lambda: sql_search.search_query([exp_id], typed, orders, MAX_RESULTS)
            ),
            "SQL as the search runs it (driver rows)": cpu_ms(execute_plain)
            if plain is not None
            else float("nan"),
            "SQL via SQLAlchemy rows, for comparison": cpu_ms(execute),
            "row building (Run entities)": cpu_ms(lambda: sql_search.page_of(rows, MAX_RESULTS)),
            "JSON encoding (server response)": cpu_ms(
                lambda: (
                    server_encode.OrjsonResponse(
                        {"runs": [server_encode.run(r) for r in page.runs], "next_page_token": None}
                    ).body
                )
            ),
            "floor: the same SQL in plain sqlite3": cpu_ms(lambda: raw.execute(sql).fetchall()),
        }
    finally:
        raw.close()
    log(f"    where a search's CPU time goes ({len(page.runs):,} runs returned; medians):")
    for label, ms in parts.items():
        log(f"      {label:<42} {fmt(ms)} ms")
    whole = parts["whole search (Client.search_runs)"]
    floor = parts["floor: the same SQL in plain sqlite3"]
    log(
        f"      overhead above the SQL floor: {fmt(whole - floor)} ms "
        f"({fmt(whole / floor)}x the floor)"
    )
    return {"cpu_ms": parts, "floor_cpu_ms": floor, "whole_cpu_ms": whole}


def _after_analyze(
    db_path: Path, search: Callable[[], list[str]], names: list[str]
) -> dict[str, Any]:
    """Diagnostic, not a result: the same search once SQLite has planner statistics
    (``ANALYZE``), which mlcycle does not gather itself (no ANALYZE or PRAGMA optimize)."""
    con = sqlite3.connect(db_path)
    try:
        con.execute("ANALYZE")
    finally:
        con.close()
    same = search() == names
    timing = repeat(search, warmup=1, min_reps=5, max_reps=20, budget_s=2.0)
    log(
        f"    diagnostic (not the result): after SQLite ANALYZE the same search takes "
        f"{timing.text()}; same answer: {'yes' if same else 'NO'}"
    )
    return {**timing.summary(), "same_answer": same}


def _check(label: str, names: list[str], expected_count: int, expected: list[str]) -> bool:
    same = names == expected
    want = min(expected_count, MAX_RESULTS)
    log(
        f"    cross-check {label}: {len(names):,} runs returned, {want:,} expected; "
        f"same order of run names as NumPy's answer: {'yes' if same else 'NO'}"
    )
    return same


def bench_search(sizes: Sizes) -> Result:
    n = sizes.search_runs
    data = make_runs(n, seed=2)
    expected_count, expected = data.expected()
    with temp_dir("bulk-check") as scratch:
        check_mlcycle_rows(scratch, data)
        check_mlflow_rows(scratch, data)
    log("    bulk loaders checked: each writes the same rows as its system's API")
    with temp_dir("search") as tmp:
        client = _mlcycle_client(tmp)
        try:
            ml_loaded, _ = load_mlcycle(client, "bench-search", data, sizes.search_api_runs)
            search = _mlcycle_search(client, "bench-search")
            mlcycle_names = search()
            mlcycle_ok = _check("mlcycle", mlcycle_names, expected_count, expected)
            timing = repeat(search, warmup=2, min_reps=10, max_reps=30, budget_s=3.0)
            log(f"    mlcycle search: {timing.text()}")
            breakdown = search_breakdown(client, "bench-search", tmp / "mlcycle.db")
            analyzed = _after_analyze(tmp / "mlcycle.db", search, mlcycle_names)
        finally:
            client.close()

        mf_loaded, mlflow_exp = load_mlflow(tmp, "bench-search", data, sizes.search_api_runs)
        _mlflow()
        from mlflow import MlflowClient

        ml_client = MlflowClient(tracking_uri=_mlflow_uri(tmp))

        def ml_search() -> list[str]:
            runs = ml_client.search_runs(
                experiment_ids=[mlflow_exp],
                filter_string=FILTER,
                order_by=[ORDER_BY],
                max_results=MAX_RESULTS,
            )
            return [r.info.run_name for r in runs]

        try:
            mlflow_names = ml_search()
            mlflow_ok = _check("MLflow", mlflow_names, expected_count, expected)
            ml_timing = repeat(ml_search, warmup=1, min_reps=3, max_reps=7, budget_s=6.0)
            log(f"    MLflow search: {ml_timing.text()}")
        finally:
            _dispose_mlflow(ml_client)
    agree = mlcycle_names == mlflow_names
    log(
        f"    cross-check mlcycle vs MLflow: {len(mlcycle_names):,} vs {len(mlflow_names):,} "
        f"runs, same order of run names: {'yes' if agree else 'NO'}"
    )
    return Result(
        name="search",
        what=(
            f"search_runs over {n:,} runs (10 params, 10 metrics): {FILTER!r}, "
            f"order {ORDER_BY!r}, up to {MAX_RESULTS:,} ({len(expected):,} match); "
            f"median (min {fmt(timing.min)} ms; CPU {fmt(breakdown['whole_cpu_ms'])} ms, "
            f"raw-SQL floor {fmt(breakdown['floor_cpu_ms'])} ms)"
        ),
        unit="ms",
        value=timing.median,
        goal=10.0,
        higher_is_better=False,
        mlflow=ml_timing.median,
        mlflow_note=f"median; min {fmt(ml_timing.min)} ms",
        details={
            "runs": n,
            "matching_runs": expected_count,
            "returned": len(mlcycle_names),
            "mlcycle": timing.summary(),
            "mlflow_timing": ml_timing.summary(),
            "mlcycle_population": ml_loaded.details(),
            "mlflow_population": mf_loaded.details(),
            "mlcycle_matches_numpy": mlcycle_ok,
            "mlflow_matches_numpy": mlflow_ok,
            "mlcycle_matches_mlflow": agree,
            "diagnostic_mlcycle_after_analyze": analyzed,
            "breakdown": breakdown,
        },
    )


def bench_search_large(sizes: Sizes) -> Result:
    n = sizes.large_search_runs
    t0 = perf_counter()
    data = make_runs(n, seed=3)
    expected_count, expected = data.expected()
    gen_s = perf_counter() - t0
    with temp_dir("bulk-check") as scratch:
        check_mlcycle_rows(scratch, data)
    log("    bulk loader checked: it writes the same rows as mlcycle's service")
    with temp_dir("search-large") as tmp:
        client = _mlcycle_client(tmp)
        try:
            loaded, bulk_ids = load_mlcycle(
                client, "bench-search-large", data, sizes.large_search_api_runs
            )
            if bulk_ids:  # a bulk-written run reads back as written
                i = random.Random(0).randrange(len(bulk_ids))
                run = client.get_run(bulk_ids[i])
                want = dict(
                    zip(METRIC_KEYS, data.metrics[loaded.api_runs + i].tolist(), strict=True)
                )
                if (
                    dict(run.params) != data.params[loaded.api_runs + i]
                    or dict(run.metrics) != want
                ):
                    raise AssertionError("a bulk-written run does not read back as written")
            search = _mlcycle_search(client, "bench-search-large")
            names = search()
            ok = _check("mlcycle", names, expected_count, expected)
            timing = repeat(search, warmup=1, min_reps=5, max_reps=20, budget_s=4.0)
            log(f"    mlcycle search: {timing.text()}")
            breakdown = search_breakdown(client, "bench-search-large", tmp / "mlcycle.db")
            analyzed = _after_analyze(tmp / "mlcycle.db", search, names)
        finally:
            client.close()
    return Result(
        name="search_large",
        what=(
            f"the same search over {n:,} runs ({expected_count:,} match, first "
            f"{len(expected):,} returned); median (min {fmt(timing.min)} ms; CPU "
            f"{fmt(breakdown['whole_cpu_ms'])} ms, raw-SQL floor "
            f"{fmt(breakdown['floor_cpu_ms'])} ms)"
        ),
        unit="ms",
        value=timing.median,
        goal=100.0,
        higher_is_better=False,
        mlflow_note="mlcycle only",
        details={
            "runs": n,
            "matching_runs": expected_count,
            "returned": len(names),
            "mlcycle": timing.summary(),
            "data_generation_s": gen_s,
            "mlcycle_population": loaded.details(),
            "mlcycle_matches_numpy": ok,
            "diagnostic_mlcycle_after_analyze": analyzed,
            "breakdown": breakdown,
        },
    )


# -- 4. metric history --------------------------------------------------------------------


def make_series(
    n: int, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """A noisy loss curve: steps 0..n-1, timestamps 5-15 ms apart."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=np.int64)
    timestamps = BASE_TS + np.cumsum(rng.integers(5, 15, size=n, dtype=np.int64))
    values = 2.0 * np.exp(-steps / max(1.0, n / 5)) + 0.05 * rng.standard_normal(n)
    return steps, timestamps, values


def _mlflow_log_series(
    client: Any,
    run_id: str,
    key: str,
    steps: Iterable[int],
    timestamps: Iterable[int],
    values: Iterable[float],
) -> None:
    """Log a series with MlflowClient.log_batch, 1,000 metrics per call (MLflow's limit)."""
    from mlflow.entities import Metric

    batch: list[Any] = []
    for s, t, v in zip(steps, timestamps, values, strict=True):
        batch.append(Metric(key, v, t, s))
        if len(batch) == 1000:
            client.log_batch(run_id, metrics=batch)
            batch = []
    if batch:
        client.log_batch(run_id, metrics=batch)


def bench_history(sizes: Sizes) -> Result:
    n = sizes.history_points
    steps, timestamps, values = make_series(n, seed=4)
    with temp_dir("history") as tmp:
        client = _mlcycle_client(tmp)
        try:
            run = client.start_run(experiment="bench-history", capture_environment=False)
            t0 = perf_counter()
            for s, t, v in zip(steps.tolist(), timestamps.tolist(), values.tolist(), strict=True):
                run.log_metric("loss", v, step=s, timestamp=t)
            run.end()
            log_s = perf_counter() - t0
            history = client.get_metric_history(run.id, "loss")
            exact = (
                np.array_equal(history.steps, steps)
                and np.array_equal(history.timestamps, timestamps)
                and np.array_equal(history.values, values)
            )
            log(
                f"    mlcycle: logged {n:,} points per call (step and timestamp given) and "
                f"ended the run in {log_s:.2f} s; read back bit-exact: {'yes' if exact else 'NO'}"
            )
            timing = repeat(
                lambda: client.get_metric_history(run.id, "loss"),
                warmup=2,
                min_reps=10,
                max_reps=50,
                budget_s=3.0,
            )
            log(f"    mlcycle get_metric_history: {timing.text()}")
        finally:
            client.close()

        _mlflow()
        from mlflow import MlflowClient

        m = min(n, sizes.mlflow_history_points)
        ml = MlflowClient(tracking_uri=_mlflow_uri(tmp))
        try:
            exp = ml.create_experiment("bench-history", artifact_location=str(tmp / "mlart"))
            run_id = ml.create_run(exp).info.run_id
            t0 = perf_counter()
            _mlflow_log_series(
                ml, run_id, "loss", steps[:m].tolist(), timestamps[:m].tolist(), values[:m].tolist()
            )
            ml_log_s = perf_counter() - t0
            log(
                f"    MLflow: logged {m:,} points with log_batch (1,000 per call) in "
                f"{ml_log_s:.1f} s ({fmt(m / ml_log_s)} points/s)"
            )
            ml_len = len(ml.get_metric_history(run_id, "loss"))
            ml_timing = repeat(
                lambda: ml.get_metric_history(run_id, "loss"),
                warmup=0,
                min_reps=3,
                max_reps=5,
                budget_s=8.0,
            )
            log(f"    MLflow get_metric_history ({ml_len:,} points): {ml_timing.text()}")
        finally:
            _dispose_mlflow(ml)
    return Result(
        name="history",
        what=f"get_metric_history of a {n:,}-point metric (NumPy arrays); median",
        unit="ms",
        value=timing.median,
        goal=10.0,
        higher_is_better=False,
        mlflow=ml_timing.median,
        mlflow_note=(
            f"median, {ml_len:,} points"
            + ("" if m == n else f"; at {n:,} points it would take ~{n / m:.0f}x longer")
        ),
        details={
            "points": n,
            "mlcycle": timing.summary(),
            "mlcycle_log_and_end_s": log_s,
            "bit_exact": exact,
            "mlflow_points": ml_len,
            "mlflow_timing": ml_timing.summary(),
            "mlflow_log_batch_s": ml_log_s,
        },
    )


# -- 5. storage ---------------------------------------------------------------------------


def _chunk_column_bytes(db_path: Path) -> dict[str, Any]:
    """Sum the column sizes inside the stored chunks (see mlcycle.codec.metric_chunks):
    where the bytes of the encoded payload go."""
    header = struct.Struct("<3sI")
    column = struct.Struct("<BI")
    sums = [0, 0, 0]
    codecs: set[tuple[int, int, int]] = set()
    chunks = 0
    con = sqlite3.connect(db_path)
    try:
        for (blob,) in con.execute("SELECT data FROM metric_chunks"):
            chunks += 1
            offset = header.size
            used = []
            for c in range(3):
                codec, length = column.unpack_from(blob, offset)
                offset += column.size + length
                sums[c] += length
                used.append(codec)
            codecs.add((used[0], used[1], used[2]))
    finally:
        con.close()
    return {
        "chunks": chunks,
        "steps_bytes": sums[0],
        "timestamps_bytes": sums[1],
        "values_bytes": sums[2],
        "codecs_seen": sorted(codecs),
    }


def bench_storage(sizes: Sizes) -> Result:
    n = sizes.storage_points
    piece = 1_000_000
    rng = np.random.default_rng(5)
    with temp_dir("storage") as tmp:
        db_path = tmp / "mlcycle.db"
        client = _mlcycle_client(tmp)
        try:
            run = client.start_run(experiment="bench-storage", capture_environment=False)
            client.flush()
            empty_bytes, _ = sqlite_bytes(db_path)
            log_metric = run.log_metric
            t0 = perf_counter()
            for lo in range(0, n, piece):
                hi = min(n, lo + piece)
                x = np.arange(lo, hi, dtype=np.float64)
                chunk = 2.0 * np.exp(-x / (n / 5)) + 0.05 * rng.standard_normal(hi - lo)
                for v in chunk.tolist():
                    log_metric("loss", v)
            t1 = perf_counter()
            run.flush()
            t2 = perf_counter()
            run.end()
            t3 = perf_counter()
            log(
                f"    logged {n:,} points per call in {t1 - t0:.1f} s, flush {t2 - t1:.2f} s "
                f"({fmt(n / (t2 - t0))} points/s incl. data generation), end {t3 - t2:.2f} s"
            )
            total, checkpoint = sqlite_bytes(db_path)
            per_point = total / n
            columns = _chunk_column_bytes(db_path)
            per = {k: columns[f"{k}_bytes"] / n for k in ("steps", "timestamps", "values")}
            log(
                f"    file {total / 1e6:.1f} MB after checkpoint {checkpoint} (empty store "
                f"{empty_bytes / 1e3:.0f} kB); {columns['chunks']} chunks; payload per point: "
                f"steps {per['steps']:.3f} B, timestamps {per['timestamps']:.3f} B, "
                f"values {per['values']:.3f} B"
            )
            gc.collect()
            t0 = perf_counter()
            history = client.get_metric_history(run.id, "loss")
            first_read_ms = (perf_counter() - t0) * 1000
            if len(history) != n:
                raise AssertionError(f"read back {len(history)} of {n} points")
            del history
            read = repeat(
                lambda: client.get_metric_history(run.id, "loss"),
                warmup=0,
                min_reps=3,
                max_reps=5,
                budget_s=5.0,
            )
            log(f"    read back {n:,} points: first {fmt(first_read_ms)} ms; {read.text()}")
        finally:
            client.close()

        # Realistic timestamps (5-15 ms apart) instead of the tight loop's near-constant ones.
        sample = min(n, 1_000_000)
        s_steps, s_ts, s_values = make_series(sample, seed=6)
        realistic_bpp = len(encode(s_steps, s_ts, s_values)) / sample

        m = sizes.mlflow_storage_points
        _mlflow()
        from mlflow import MlflowClient

        ml_db = tmp / "mlflow.db"
        ml = MlflowClient(tracking_uri=_mlflow_uri(tmp))
        try:
            exp = ml.create_experiment("bench-storage", artifact_location=str(tmp / "mlart"))
            run_id = ml.create_run(exp).info.run_id
            ml_empty, _ = sqlite_bytes(ml_db)
            m_steps, m_ts, m_values = make_series(m, seed=7)
            _mlflow_log_series(
                ml, run_id, "loss", m_steps.tolist(), m_ts.tolist(), m_values.tolist()
            )
        finally:
            _dispose_mlflow(ml)
        ml_total, _ = sqlite_bytes(ml_db)
        ml_per_point = (ml_total - ml_empty) / m
        log(
            f"    MLflow: {m:,} points via log_batch grew its database by "
            f"{(ml_total - ml_empty) / 1e6:.2f} MB = {fmt(ml_per_point)} bytes/point"
        )
    return Result(
        name="storage",
        what=(
            f"bytes on disk per metric point, {n:,} points in one run (per-call log_metric; "
            f"database + WAL after checkpoint)"
        ),
        unit="bytes/point",
        value=per_point,
        goal=24.0,
        higher_is_better=False,
        mlflow=ml_per_point,
        mlflow_note=f"growth of its database over {m:,} points",
        details={
            "points": n,
            "file_bytes": total,
            "empty_store_bytes": empty_bytes,
            "net_bytes_per_point": (total - empty_bytes) / n,
            "checkpoint": checkpoint,
            "chunk_payload": columns,
            "codec_bytes_per_point_with_realistic_timestamps": realistic_bpp,
            "log_calls_s": t1 - t0,
            "flush_s": t2 - t1,
            "end_s": t3 - t2,
            "read_back_first_ms": first_read_ms,
            "read_back": read.summary(),
            "mlflow_points": m,
            "mlflow_db_growth_bytes": ml_total - ml_empty,
        },
    )


# -- the suite ----------------------------------------------------------------------------

_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "log_metric": bench_log_metric,
    "search": bench_search,
    "search_large": bench_search_large,
    "history": bench_history,
    "storage": bench_storage,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``tracking.json``.

    Returns False when a benchmark raised (its traceback is printed and recorded).
    """
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
