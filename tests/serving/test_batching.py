"""Micro-batching over real HTTP: concurrent requests are merged into one predict call
(seen in the batch-size histogram), and health answers while the model is busy."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.serving._models import GATE, Slow
from tests.serving.conftest import Home, log_python
from tests.serving.live import ServeProcess, metric

pytestmark = pytest.mark.slow  # real server processes (each starts in seconds)


@pytest.fixture(scope="module")
def slow(home: Home) -> Iterator[ServeProcess]:
    log_python(home.client, Slow(0.3, gate=str(home.root / "gate")), "slow")
    process = ServeProcess(
        ["serve", "models:/slow/1", "--max-batch-size", "64", "--max-latency-ms", "5"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "slow.log",
    )
    with process:
        yield process


def test_concurrent_requests_are_merged_into_batches(slow: ServeProcess) -> None:
    n = 12
    with httpx.Client(base_url=slow.url, timeout=60) as http, cf.ThreadPoolExecutor(n) as pool:
        futures = [
            pool.submit(http.post, "/invocations", json={"inputs": {"x": [float(i), 1.0]}})
            for i in range(n)
        ]
        answers = [f.result() for f in futures]
    assert all(a.status_code == 200 for a in answers)
    assert [a.json()["predictions"] for a in answers] == [[2.0 * i, 2.0] for i in range(n)]
    text = httpx.get(f"{slow.url}/metrics").text
    labels = {"deployment": "slow", "arm": "default", "version": "1"}
    batches = metric(text, "mlcycle_serving_batch_requests_count", **labels)
    merged = metric(text, "mlcycle_serving_batch_requests_sum", **labels)
    assert merged == n
    assert batches < n  # while one batch sleeps in the model, the others gather
    assert metric(text, "mlcycle_serving_batch_rows_sum", **labels) == 2 * n


def test_health_answers_while_the_model_is_busy(home: Home, slow: ServeProcess) -> None:
    gate = home.root / "gate"
    answer: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: answer.append(
            httpx.post(f"{slow.url}/invocations", json={"inputs": {"x": [GATE]}}, timeout=90)
        )
    )
    thread.start()
    try:
        # the model holds the predict call until the gate file exists: health must answer
        for _ in range(3):
            assert httpx.get(f"{slow.url}/v2/health/live", timeout=30).status_code == 200
            assert httpx.get(f"{slow.url}/ping", timeout=30).status_code == 200
            assert httpx.get(f"{slow.url}/metrics", timeout=30).status_code == 200
        assert not answer  # still waiting in the model
    finally:
        gate.touch()
        thread.join()
    assert answer[0].status_code == 200
    assert answer[0].json() == {"predictions": [2 * GATE]}
