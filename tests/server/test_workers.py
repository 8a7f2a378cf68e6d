"""Several server processes on one store: concurrent writers lose and duplicate nothing."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest

import mlcycle
from mlcycle.entities import MetricBatch
from mlcycle.remote import RemoteBackend
from mlcycle.store.sql.store import open_store
from tests.server.live import ServerProcess, empty_store

WRITERS = 6
POINTS = 20_000


def _write(url: str, index: int, shared_run: str) -> str:
    """One training process: its own run, plus one key in a run shared by everyone."""
    backend = RemoteBackend(url)
    client = mlcycle.Client(url, backend=backend)
    with client.start_run("shared-exp", name=f"w{index}", capture_environment=False) as run:
        run.log_params({"writer": index})
        for i in range(POINTS):
            run.log_metric("m", float(i))
            if i % 5000 == 4999:
                run.flush()
    steps = np.arange(1000, dtype=np.int64)
    values = np.ones(1000)
    for part in range(5):
        batch = MetricBatch(
            key=f"k{index}", steps=steps + 1000 * part, timestamps=steps, values=values
        )
        backend.log_metrics(shared_run, [batch])
    client.close()
    backend.close()
    return run.id


def _check(urls: list[str]) -> None:
    setup = RemoteBackend(urls[0])
    exp = setup.get_or_create_experiment("shared-exp")
    shared = setup.create_run(exp.id, name="shared")
    with ThreadPoolExecutor(WRITERS) as pool:
        run_ids = list(
            pool.map(lambda i: _write(urls[i % len(urls)], i, shared.id), range(WRITERS))
        )
    for run_id in run_ids:
        history = setup.get_metric_history(run_id, "m")
        np.testing.assert_array_equal(history.steps, np.arange(POINTS))
    for index in range(WRITERS):
        history = setup.get_metric_history(shared.id, f"k{index}")
        np.testing.assert_array_equal(history.steps, np.arange(5000))
    runs = setup.search_runs([exp.id], max_results=100).runs
    assert sorted(r.name for r in runs) == sorted([*(f"w{i}" for i in range(WRITERS)), "shared"])
    assert {r.params.get("writer") for r in runs} == {None, *(str(i) for i in range(WRITERS))}
    setup.close()


def test_two_workers_share_one_sqlite_store(tmp_path: Path) -> None:
    server = ServerProcess(
        f"sqlite:///{tmp_path / 's.db'}", tmp_path / "art", tmp_path / "log", workers=2
    )
    server.start()
    try:
        assert server.process is not None
        workers = psutil.Process(server.process.pid).children(recursive=True)
        assert len([w for w in workers if "python" in w.name().lower()]) >= 2
        _check([server.url])
        exposition = httpx.get(f"{server.url}/metrics").text  # summed over both workers
        batches = sum(
            float(line.rsplit(" ", 1)[1])
            for line in exposition.splitlines()
            if re.match(r'mlcycle_metric_batches_ingested_total\{result="stored"\}', line)
        )
        assert batches >= WRITERS * 5
    finally:
        server.close()


@pytest.mark.postgres
def test_two_servers_share_one_postgres_store(postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url)
    empty_store(store)
    store.close()
    servers = [
        ServerProcess(postgres_url, tmp_path / "art", tmp_path / f"log{i}") for i in range(2)
    ]
    for server in servers:
        server.start()
    try:
        _check([s.url for s in servers])
    finally:
        for server in servers:
            server.close()
