"""Two ``mlcycle server`` replicas on one PostgreSQL database and one bucket behave as one
server: concurrent clients on both, retried ingest stored once, artifacts written through
one replica read through the other, and an audit chain that never forks."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mlcycle
from mlcycle.governance.audit import AuditTrail
from mlcycle.store.sql.store import open_store
from tests.s3 import new_bucket
from tests.server.live import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WRITERS = 4
POINTS = 2_000


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
        with clients[1].backend.open_artifact(run_id, "notes.txt") as handle:
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
