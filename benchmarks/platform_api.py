"""Team-platform benchmarks: the native REST API of ``mlcycle server`` for the stages
beyond tracking.

1. ``dataset_upload``: registering a Parquet file of N rows x 20 columns (1,000,000 rows;
   quick: 100,000) through the server (``mlcycle.Client(URL).datasets.register``: the
   file streams to the server, which spools it to disk and registers it) against
   registering the same file in-process on a local SQLite store. The figure is the ratio
   remote / local (goal: at most 1.5).
2. ``versions_page``: listing 10,000 versions of one registered model (quick: 2,000) on
   the server, a page of 1,000 at a time with keyset tokens; the figure is the median
   milliseconds per page seen by the client (goal: under 50 ms); the details add the
   server process's CPU milliseconds per page, which a loaded machine does not inflate.
3. ``alerts_page``: listing 100,000 alerts (quick: 10,000) the same way.

Every server is a subprocess on 127.0.0.1 over SQLite in a temporary folder, stopped in a
``finally``. The stores are filled before the server starts: model versions through the
registry service, alerts by bulk INSERTs (a monitor and rule first, through the service).
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert

import mlcycle
from benchmarks._common import Result, fmt, log, perf_counter, run_benches, temp_dir
from benchmarks.server import Server
from mlcycle.backends.local import LocalBackend
from mlcycle.entities.models import ModelSource
from mlcycle.store.sql.schema_monitoring import ALERTS, MONITORS
from mlcycle.store.sql.store import SqlStore

SUITE = "platform"
BENCHMARKS = ("dataset_upload", "versions_page", "alerts_page")
PAGE = 1000
UPLOAD_GOAL = 1.5
PAGE_GOAL_MS = 50.0


@dataclass(frozen=True)
class Sizes:
    rows: int = 1_000_000
    versions: int = 10_000
    alerts: int = 100_000


DEFAULT = Sizes()
QUICK = Sizes(rows=100_000, versions=2_000, alerts=10_000)


def _parquet(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    columns: dict[str, pa.Array] = {}
    for i in range(14):
        columns[f"x{i}"] = pa.array(rng.normal(size=rows))
    for i in range(3):
        columns[f"n{i}"] = pa.array(rng.integers(0, 1000, rows))
    for i in range(3):
        columns[f"c{i}"] = pa.array(rng.choice(["red", "green", "blue", "cyan"], rows))
    pq.write_table(pa.table(columns), path)
    return path


def bench_dataset_upload(sizes: Sizes) -> Result:
    with temp_dir("mlcycle-bench-platform-") as root:
        data = _parquet(root / "data.parquet", sizes.rows)
        log(f"    {sizes.rows:,} rows x 20 columns, {data.stat().st_size / 2**20:.1f} MiB")
        local = mlcycle.Client(f"sqlite:///{root / 'local.db'}", str(root / "local-artifacts"))
        local.datasets  # noqa: B018 - opens the store and loads the dataset service first
        t0 = perf_counter()
        local.datasets.register("bench", data)
        local_s = perf_counter() - t0
        local.close()
        server = Server("mlcycle", root / "server")
        server.start()
        try:
            remote = mlcycle.Client(server.url)
            remote.datasets.list_datasets()  # the connection and the server's services, warm
            t0 = perf_counter()
            version = remote.datasets.register("bench", data)
            remote_s = perf_counter() - t0
            assert version.num_rows == sizes.rows
            remote.close()
        finally:
            server.stop()
    ratio = remote_s / local_s
    log(f"    local {fmt(local_s)} s, through the server {fmt(remote_s)} s: ratio {ratio:.2f}")
    return Result(
        name="dataset_upload",
        what=f"register a {sizes.rows:,} x 20 Parquet through the server / locally",
        unit="x",
        value=ratio,
        goal=UPLOAD_GOAL,
        higher_is_better=False,
        details={"local_s": local_s, "remote_s": remote_s, "rows": sizes.rows},
    )


def _server_cpu_s(server: Server) -> float:
    """CPU seconds the server process (and its workers) have used so far."""
    assert server.proc is not None
    root = psutil.Process(server.proc.pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _pages(server: Server, path: str, field: str) -> tuple[int, list[float], float]:
    """Walk a paged listing; the count of items, the milliseconds of each page, and the
    server's CPU milliseconds per page (what the machine's load does not inflate)."""
    times: list[float] = []
    count = 0
    token: str | None = None
    with httpx.Client(base_url=server.url, timeout=60.0) as http:
        http.get(path, params={"max_results": 1})  # warm: connection, services
        cpu_before = _server_cpu_s(server)
        while True:
            params: dict[str, str | int] = {"max_results": PAGE}
            if token:
                params["page_token"] = token
            t0 = perf_counter()
            response = http.get(path, params=params)
            body = response.json()
            times.append((perf_counter() - t0) * 1000)
            response.raise_for_status()
            count += len(body[field])
            token = body.get("next_page_token")
            if not token:
                cpu_ms = (_server_cpu_s(server) - cpu_before) * 1000 / len(times)
                return count, times, cpu_ms


def _page_result(name: str, what: str, count: int, times: list[float], cpu_ms: float) -> Result:
    median = statistics.median(times)
    log(
        f"    {count:,} items in {len(times)} pages: median {median:.1f} ms, "
        f"max {max(times):.1f}; server CPU {cpu_ms:.1f} ms a page"
    )
    return Result(
        name=name,
        what=what,
        unit="ms",
        value=median,
        goal=PAGE_GOAL_MS,
        higher_is_better=False,
        details={
            "items": count,
            "pages": len(times),
            "max_ms": max(times),
            "server_cpu_ms_per_page": cpu_ms,
        },
    )


def bench_versions_page(sizes: Sizes) -> Result:
    with temp_dir("mlcycle-bench-platform-") as root:
        server = Server("mlcycle", root / "server")
        fill = mlcycle.Client(f"sqlite:///{server.db}", str(server.store_dir / "artifacts"))
        with fill.start_run("bench", capture_environment=False) as run:
            source = ModelSource(run_id=run.id, artifact_path="model")
        for _ in range(sizes.versions):
            fill.registry.add_version("bench", source, flavor="sklearn")
        fill.close()
        server.start()
        try:
            count, times, cpu_ms = _pages(server, "/api/v1/models/bench/versions", "versions")
        finally:
            server.stop()
    assert count == sizes.versions
    what = f"a page of {PAGE} of {sizes.versions:,} model versions"
    return _page_result("versions_page", what, count, times, cpu_ms)


def bench_alerts_page(sizes: Sizes) -> Result:
    with temp_dir("mlcycle-bench-platform-") as root:
        server = Server("mlcycle", root / "server")
        fill = mlcycle.Client(f"sqlite:///{server.db}", str(server.store_dir / "artifacts"))
        backend = fill.backend
        assert isinstance(backend, LocalBackend)
        store = backend.store
        monitor_id = _monitor(store)
        rows = [
            {
                "id": uuid.uuid4().hex,
                "monitor_id": monitor_id,
                "rule_id": None,
                "rule_name": "drift",
                "result_id": uuid.uuid4().hex,
                "condition": "dataset_drift",
                "severity": "warning",
                "message": "drift in 2 of 4 columns",
                "details": "{}",
                "status": "open",
                "created_at": 1_700_000_000_000 + i,
                "acked_at": None,
                "acked_by": None,
                "resolved_at": None,
            }
            for i in range(sizes.alerts)
        ]
        with store.db.engine.begin() as conn:
            conn.execute(ALERTS.insert(), rows)
        fill.close()
        server.start()
        try:
            count, times, cpu_ms = _pages(server, "/api/v1/alerts", "alerts")
        finally:
            server.stop()
    assert count == sizes.alerts
    what = f"a page of {PAGE} of {sizes.alerts:,} alerts"
    return _page_result("alerts_page", what, count, times, cpu_ms)


def _monitor(store: SqlStore) -> str:
    """A monitor row for the alerts to belong to (no deployment needed for listing)."""
    monitor_id = uuid.uuid4().hex
    with store.db.engine.begin() as conn:
        conn.execute(
            insert(MONITORS).values(
                id=monitor_id,
                name="bench",
                deployment="bench",
                window_kind="time",
                window_size=3_600_000,
                reference_name=None,
                reference_version=None,
                schedule_ms=None,
                min_rows=30,
                retrain=None,
                description=None,
                created_at=0,
                updated_at=0,
                last_run_at=None,
            )
        )
    return monitor_id


_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "dataset_upload": bench_dataset_upload,
    "versions_page": bench_versions_page,
    "alerts_page": bench_alerts_page,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``platform.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
