"""SIGTERM to a tracking server while a client's metric batch is still streaming in: the
request is answered, new connections are refused meanwhile, the process exits with the
signal's status, and the batch is in the store (read without the server)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

import mlcycle
from tests.server.live import ServerProcess

POINTS = 300


@pytest.mark.slow
def test_sigterm_drains_a_metric_batch_in_flight(store_url: str, tmp_path: Path) -> None:
    server = ServerProcess(store_url, tmp_path / "a", tmp_path / "server.log")
    server.start()
    with httpx.Client(base_url=server.url) as api:
        exp = api.post("/api/v1/experiments", json={"name": "drain"}).json()
        run_id = api.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()["id"]
    points = [orjson.dumps({"key": "loss", "value": float(i), "step": i}) for i in range(POINTS)]
    parts = [b'{"metrics": [', b",".join(points[:100]), b","]
    parts += [b",".join(points[100:200]), b",", b",".join(points[200:]), b"]}"]
    sending = threading.Event()
    result: dict[str, object] = {}

    def slow_body() -> Iterator[bytes]:
        for part in parts:
            yield part
            sending.set()
            time.sleep(0.8)  # about 4 s in all: the signal lands while the body streams

    def send() -> None:
        try:
            response = httpx.post(
                f"{server.url}/api/v1/runs/{run_id}/metrics",
                content=slow_body(),
                headers={"content-type": "application/json"},
                timeout=60,
            )
            result["status"] = response.status_code
        except httpx.HTTPError as exc:
            result["error"] = repr(exc)

    thread = threading.Thread(target=send)
    thread.start()
    assert sending.wait(30)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    refused = False
    while thread.is_alive() and not refused:
        try:
            httpx.get(f"{server.url}/health", timeout=1.0)
        except httpx.ConnectError:
            refused = True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    thread.join(60)
    code = server.stop()
    with mlcycle.Client(store_url, str(tmp_path / "a")) as client:
        steps = client.get_metric_history(run_id, "loss").steps.tolist()
    print(
        f"server SIGTERM drain: answer {result}, exit {code}, new connections refused: "
        f"{refused}, {len(steps)} of {POINTS} points stored"
    )
    assert result.get("status") in (200, 201, 204), result
    assert refused
    assert code in (0, -signal.SIGTERM)
    assert sorted(steps) == list(range(POINTS))
