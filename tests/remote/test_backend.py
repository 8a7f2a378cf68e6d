"""The remote backend against live servers: unchanged user code, failures, big files."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest

import mlcycle
from mlcycle.entities import MetricBatch
from mlcycle.errors import (
    AlreadyExistsError,
    ConflictError,
    FilterSyntaxError,
    InvalidInputError,
    NotFoundError,
    RemoteError,
)
from mlcycle.remote import RemoteBackend, RetryPolicy
from mlcycle.remote import backend as backend_module
from mlcycle.search import parse_filter, parse_order_by
from mlcycle.settings import Settings
from mlcycle.tracking.environment import PACKAGES_ARTIFACT
from tests.server.live import ServerProcess

FAST = RetryPolicy(budget_s=1.0, initial_backoff_s=0.05, max_backoff_s=0.2)


class Forward(httpx.BaseTransport):
    """Real HTTP, except that ``lose(request)`` throws the server's answer away."""

    def __init__(self, lose: Callable[[httpx.Request], bool]) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose = lose
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = self.inner.handle_request(request)
        if self.lose(request):
            response.read()
            response.close()
            raise httpx.ReadError("the answer was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def _is_batch(request: httpx.Request) -> bool:
    return request.url.path.endswith("/metrics/batches")


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        f"sqlite:///{tmp_path / 's.db'}", tmp_path / "art", tmp_path / "server.log"
    )
    server.start()
    yield server
    server.close()


def test_user_code_runs_unchanged_with_an_http_uri(remote_server: ServerProcess) -> None:
    settings = Settings.from_env({"MLCYCLE_TRACKING_URI": remote_server.url})
    name = f"env-{uuid.uuid4().hex[:8]}"
    with mlcycle.Client(settings=settings) as client:
        assert isinstance(client.tracking, RemoteBackend)
        client.create_experiment(name, task="regression", primary_metric="rmse")
        with mlcycle.start_run(name, name="r1", client=client) as run:
            run.log_params({"lr": 0.1, "layers": 3})
            for i in range(20_000):
                run.log_metric("loss", 1 / (i + 1))
            run.log_metrics({"rmse": 0.5, "mae": float("nan")}, step=3)
            run.set_tag("stage", "dev")
            run.log_dict({"a": 1}, "config.json")
            run.flush()
            with pytest.raises(ConflictError):
                run.log_param("lr", 0.2)
        got = client.get_run(run.id)
        assert got.status is mlcycle.RunStatus.FINISHED
        assert got.params == {"lr": "0.1", "layers": "3"}
        assert got.metrics["loss"] == pytest.approx(1 / 20_000)
        assert np.isnan(got.metrics["mae"])
        history = client.get_metric_history(run.id, "loss")
        assert len(history) == 20_000
        np.testing.assert_array_equal(history.steps, np.arange(20_000))
        assert len(client.get_metric_history(run.id, "loss", max_points=100)) <= 100
        found = client.search_runs(name, filter="metrics.rmse < 1 and params.lr = '0.1'")
        assert [r.id for r in found] == [run.id]
        typed = client.tracking.search_runs(
            [got.experiment_id],
            parse_filter("tags.stage = 'dev' AND (metrics.loss < 1 OR params.x IS NULL)"),
            parse_order_by("metrics.loss DESC"),
        )
        assert [r.id for r in typed.runs] == [run.id]
        files = {f.path for f in client.list_artifacts(run.id)}
        assert {"config.json", PACKAGES_ARTIFACT} <= files

        with pytest.raises(AlreadyExistsError):
            client.create_experiment(name)
        with pytest.raises(NotFoundError):
            client.get_run("0" * 32)
        with pytest.raises(FilterSyntaxError) as bad:
            client.search_runs(name, filter="metrics.loss <")
        assert bad.value.position > 0
        with pytest.raises(InvalidInputError):
            client.search_runs(name, max_results=0)
    client.backend.close()  # Client.close leaves the connections to the finalizer


def test_flush_against_a_stopped_server_keeps_the_points(own_server: ServerProcess) -> None:
    backend = RemoteBackend(own_server.url, retry=FAST)
    client = mlcycle.Client(own_server.url, backend=backend)
    run = client.start_run("offline", capture_environment=False)
    for i in range(1000):
        run.log_metric("m", float(i))
    run.flush()
    own_server.stop()

    for i in range(1000, 1500):
        run.log_metric("m", float(i))
    started = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        run.flush()
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "could not be reached" in message
    assert "500 metric points" in message
    assert "kept in memory" in message
    with pytest.raises(RemoteError, match="500 metric points"):
        client.flush()  # still there, still unsent

    own_server.start()  # same port, same store
    run.log_metric("m", 1500.0)
    run.flush()
    run.end()
    history = client.get_metric_history(run.id, "m")
    np.testing.assert_array_equal(history.steps, np.arange(1501))
    np.testing.assert_array_equal(history.values, np.arange(1501, dtype=np.float64))
    client.close()
    backend.close()


def test_lost_answers_do_not_store_a_batch_twice(remote_server: ServerProcess) -> None:
    lost = {"left": 1_000}  # lose every answer to a batch until told otherwise
    transport = Forward(lambda r: _is_batch(r) and lost["left"] > 0)
    backend = RemoteBackend(remote_server.url, retry=FAST, transport=transport)
    client = mlcycle.Client(remote_server.url, backend=backend)
    run = client.start_run(f"lost-{uuid.uuid4().hex[:8]}", capture_environment=False)
    for i in range(300):
        run.log_metric("m", float(i))
    with pytest.raises(RemoteError, match="300 metric points"):
        run.flush()  # every attempt reached the server; no answer came back
    attempts = [r for r in transport.sent if _is_batch(r)]
    assert len(attempts) > 1
    assert len({r.headers["Idempotency-Key"] for r in attempts}) == 1

    lost["left"] = 0
    for i in range(300, 400):
        run.log_metric("m", float(i))
    run.flush()
    keys = [r.headers["Idempotency-Key"] for r in transport.sent if _is_batch(r)]
    assert keys[-2] == keys[0]  # the old batch again, under its ID
    assert keys[-1] != keys[0]  # then the new points
    history = client.get_metric_history(run.id, "m")
    np.testing.assert_array_equal(history.steps, np.arange(400))
    run.end()
    client.close()
    backend.close()


def test_large_writes_are_split_into_several_requests(
    remote_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend_module, "MAX_POINTS_PER_REQUEST", 1000)
    transport = Forward(lambda r: False)
    backend = RemoteBackend(remote_server.url, transport=transport)
    exp = backend.get_or_create_experiment(f"split-{uuid.uuid4().hex[:8]}")
    run = backend.create_run(exp.id)
    steps = np.arange(3500, dtype=np.int64)
    batches = [
        MetricBatch(key="a", steps=steps, timestamps=steps, values=steps.astype(np.float64)),
        MetricBatch(key="b", steps=steps[:700], timestamps=steps[:700], values=np.ones(700)),
    ]
    backend.log_metrics(run.id, batches)
    assert len([r for r in transport.sent if _is_batch(r)]) == 5  # 4200 points / 1000
    np.testing.assert_array_equal(backend.get_metric_history(run.id, "a").steps, steps)
    assert len(backend.get_metric_history(run.id, "b")) == 700
    backend.close()


def _peak_rss(pids: list[int], stop: threading.Event, peaks: dict[int, int]) -> None:
    processes = [psutil.Process(p) for p in pids]
    while not stop.is_set():
        for proc in processes:
            peaks[proc.pid] = max(peaks.get(proc.pid, 0), proc.memory_info().rss)
        time.sleep(0.02)


@pytest.mark.slow
def test_large_artifacts_stream_without_filling_memory(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    size = 200 * 2**20
    source = tmp_path / "big.bin"
    block = os.urandom(2**20)
    digest = hashlib.sha256()
    with open(source, "wb") as out:
        for i in range(size // len(block)):
            piece = block[:-1] + bytes([i % 256])
            digest.update(piece)
            out.write(piece)
    backend = RemoteBackend(own_server.url)
    exp = backend.get_or_create_experiment("big")
    run = backend.create_run(exp.id)
    assert own_server.process is not None
    pids = [os.getpid(), own_server.process.pid]
    before = {p: psutil.Process(p).memory_info().rss for p in pids}
    peaks: dict[int, int] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_peak_rss, args=(pids, stop, peaks))
    sampler.start()
    try:
        info = backend.log_artifact_file(run.id, source, "models/big.bin")
        dest = backend.download_artifact(run.id, "models/big.bin", tmp_path / "out" / "big.bin")
    finally:
        stop.set()
        sampler.join()
    assert info.size == size
    assert info.sha256 == digest.hexdigest()
    assert dest.stat().st_size == size
    with open(dest, "rb") as handle:
        assert hashlib.file_digest(handle, "sha256").hexdigest() == digest.hexdigest()
    for pid in pids:
        grown = (peaks[pid] - before[pid]) / 2**20
        assert grown < 64, f"process {pid} grew by {grown:.0f} MiB moving a 200 MiB file"
    backend.close()


def test_corrupted_downloads_are_refused(remote_server: ServerProcess, tmp_path: Path) -> None:
    backend = RemoteBackend(remote_server.url)
    exp = backend.get_or_create_experiment(f"corrupt-{uuid.uuid4().hex[:8]}")
    run = backend.create_run(exp.id)
    backend.log_artifact_bytes(run.id, "a.txt", b"the real bytes")
    backend.close()

    class Corrupting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if request.method == "GET" and request.url.path.endswith("/artifacts/a.txt"):
                body = response.read()
                return httpx.Response(
                    200, headers=response.headers, content=body.replace(b"real", b"fake")
                )
            return response

    tampered = RemoteBackend(remote_server.url, transport=Corrupting())
    with pytest.raises(RemoteError, match="corrupted"):
        tampered.download_artifact(run.id, "a.txt", tmp_path / "a.txt")
    assert not (tmp_path / "a.txt").exists()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RemoteError, match="corrupted"):
        tampered.open_artifact(run.id, "a.txt")
    tampered.close()
    honest = RemoteBackend(remote_server.url)
    with honest.open_artifact(run.id, "a.txt") as handle:
        assert handle.read() == b"the real bytes"
    honest.close()


def test_a_search_by_experiment_name_is_one_request(remote_server: ServerProcess) -> None:
    """The server resolves names: a search by name costs no lookup request first."""
    transport = Forward(lambda r: False)
    backend = RemoteBackend(remote_server.url, transport=transport)
    name = f"one-request-{uuid.uuid4().hex[:8]}"
    exp = backend.get_or_create_experiment(name)
    run = backend.create_run(exp.id, name="r")
    backend.log_params(run.id, {"p": "a"})
    client = mlcycle.Client(backend=backend)
    transport.sent.clear()
    found = client.search_runs(name, filter="params.p = 'a'")
    assert [r.id for r in found] == [run.id]
    assert [r.url.path for r in transport.sent] == ["/api/v1/runs/search"]
    by_id = client.search_runs([exp.id], filter="params.p = 'a'")  # an ID works as before
    assert [r.id for r in by_id] == [run.id]
    with pytest.raises(NotFoundError, match="no experiment with name or ID") as missing:
        client.search_runs(name + "x")
    assert missing.value.field == "experiment"
    assert name in str(missing.value)  # the close name is suggested
    backend.close()
