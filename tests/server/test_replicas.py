"""Two ``mlcycle server`` replicas on one PostgreSQL database and one bucket behave as one
server: concurrent clients on both, retried ingest stored once, artifacts written through
one replica read through the other, an audit chain that never forks, and monitor runs
scheduled by both replicas that each happen once."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mlcycle
import mlcycle.monitoring as mon
from mlcycle.governance.audit import AuditTrail
from mlcycle.store.sql.store import open_store
from tests.models._models import churn_frame
from tests.monitoring._setup import DEPLOYMENT, deploy_churn, log_predictions
from tests.monitoring.test_scheduler import _CliServer
from tests.s3 import new_bucket
from tests.server.live import ServerProcess, empty_store

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WRITERS = 4
POINTS = 2_000
SCHEDULED_RUNS = 6
DEADLINE_S = 180.0  # only so a broken scheduler fails instead of hanging the suite


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with new_bucket() as bucket:
        store = open_store(postgres_url)  # migrate once, before the replicas start
        store.close()
        artifacts = f"s3://{bucket}/team"
        a = ServerProcess(postgres_url, artifacts, tmp_path / "a.log")
        b = ServerProcess(postgres_url, artifacts, tmp_path / "b.log")
        a.start()
        b.start()
        try:
            yield a, b
        finally:
            a.stop()
            b.stop()


def test_two_replicas_behave_as_one_server(
    replicas: tuple[ServerProcess, ServerProcess], postgres_url: str
) -> None:
    a, b = replicas
    clients = [mlcycle.Client(a.url), mlcycle.Client(b.url)]
    run_ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(i: int) -> None:
        client = clients[i % 2]
        try:
            with client.start_run(experiment="shared", capture_environment=False) as run:
                for step in range(POINTS):
                    run.log_metric("loss", 1.0 / (step + 1), step=step)
                run.log_param("writer", i)
                run.log_text(f"written by writer {i}", "notes.txt")
            with lock:
                run_ids.append(run.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    # One experiment, created once, whichever replica won the race.
    assert [e.name for e in clients[0].list_experiments()].count("shared") == 1
    assert len(run_ids) == WRITERS
    for run_id in run_ids:
        for client in clients:  # every replica sees every run whole
            history = client.get_metric_history(run_id, "loss")
            assert len(history.steps) == POINTS
        with clients[1].tracking.open_artifact(run_id, "notes.txt") as handle:
            assert handle.read().startswith(b"written by writer")

    # A retried ingest is stored once, even when the retry reaches the other replica.
    open_run = clients[0].start_run(experiment="shared", capture_environment=False)
    run_id = open_run.id
    key = uuid.uuid4().hex
    body = {"metrics": [{"key": "retried", "value": 1.0, "step": 0}]}
    first = httpx.post(
        f"{a.url}/api/v1/runs/{run_id}/metrics", json=body, headers={"Idempotency-Key": key}
    )
    again = httpx.post(
        f"{b.url}/api/v1/runs/{run_id}/metrics", json=body, headers={"Idempotency-Key": key}
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["duplicate"] is True
    assert len(clients[0].get_metric_history(run_id, "retried").steps) == 1
    open_run.end()

    # Both replicas appended to one audit chain; it verifies and did not fork.
    store = open_store(postgres_url)
    verification = AuditTrail(store.governance).verify()
    store.close()
    assert verification.ok, verification
    assert verification.events >= WRITERS  # every run's end, from both replicas
    for client in clients:
        client.close()


def test_two_schedulers_run_each_scheduled_monitor_run_once(
    postgres_url: str, tmp_path: Path
) -> None:
    store = open_store(postgres_url)
    empty_store(store)  # the session's database: start from no monitors
    store.close()
    artifacts = tmp_path / "artifacts"
    with mlcycle.Client(postgres_url, str(artifacts)) as client:
        setup = deploy_churn(client)
        now = int(time.time() * 1000)
        log_predictions(setup, churn_frame(100, seed=5), start_ms=now - 60_000)
        mon.create("every-1s", DEPLOYMENT, schedule="1s", client=client)
    replicas = [
        _CliServer(postgres_url, artifacts, tmp_path / "a.log"),
        _CliServer(postgres_url, artifacts, tmp_path / "b.log"),
    ]
    for replica in replicas:
        replica.start()
    try:
        with mlcycle.Client(postgres_url, str(artifacts)) as client:
            start = time.monotonic()
            while len(mon.results("every-1s", client=client)) < SCHEDULED_RUNS:
                assert time.monotonic() - start < DEADLINE_S, replicas[0].log()
                time.sleep(0.2)
    finally:
        for replica in replicas:
            replica.stop()
    for replica in replicas:
        assert "monitor scheduler on" in replica.log()
    with mlcycle.Client(postgres_url, str(artifacts)) as client:
        found = sorted(mon.results("every-1s", client=client), key=lambda r: r.created_at)
        monitor = mon.get("every-1s", client=client)
    assert len(found) >= SCHEDULED_RUNS
    assert all(r.status is not mon.ResultStatus.FAILED for r in found), found[0].message
    # Each one-second slot ran once: no two results of both schedulers within a slot.
    gaps = [b.created_at - a.created_at for a, b in itertools.pairwise(found)]
    assert min(gaps) >= 1000, gaps
    # The last claim is the last run, or a run a replica was stopped in (no result then).
    assert monitor.last_run_at is not None
    assert monitor.last_run_at >= found[-1].created_at
