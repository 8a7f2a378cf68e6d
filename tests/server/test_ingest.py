"""Bulk metric ingest: the binary body, idempotent retries, malformed bodies, body limits."""

from __future__ import annotations

import socket
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from mlcycle.codec.metric_batches import BATCHES_MEDIA_TYPE, encode_batches
from mlcycle.entities import MetricBatch
from mlcycle.server import ServerConfig
from mlcycle.settings import Settings
from tests.server.conftest import error_of, new_run
from tests.server.live import ThreadServer

HEADERS = {"Content-Type": BATCHES_MEDIA_TYPE}


def _batch(key: str, n: int, start: int = 0) -> MetricBatch:
    steps = np.arange(start, start + n, dtype=np.int64)
    values = steps.astype(np.float64) * 0.5
    return MetricBatch(key=key, steps=steps, timestamps=steps + 1_700_000_000_000, values=values)


def _history(api: httpx.Client, run_id: str, key: str) -> list[int]:
    body = api.get(f"/api/v1/runs/{run_id}/metrics/history", params={"key": key}).json()
    steps: list[int] = body["steps"]
    return steps


def test_binary_batches_are_stored(api: httpx.Client) -> None:
    rid = new_run(api)["id"]
    body = encode_batches([_batch("a", 1000), _batch("b", 10), _batch("a", 5, start=1000)])
    response = api.post(f"/api/v1/runs/{rid}/metrics/batches", content=body, headers=HEADERS)
    assert response.status_code == 200
    assert response.json() == {"points": 1015, "duplicate": False}
    assert _history(api, rid, "a") == list(range(1005))
    assert api.get(f"/api/v1/runs/{rid}").json()["metrics"] == {"a": 502.0, "b": 4.5}


def test_a_retried_batch_is_stored_once(api: httpx.Client) -> None:
    rid = new_run(api)["id"]
    body = encode_batches([_batch("loss", 100)])
    key = {"Idempotency-Key": uuid.uuid4().hex, **HEADERS}
    url = f"/api/v1/runs/{rid}/metrics/batches"
    first = api.post(url, content=body, headers=key)
    second = api.post(url, content=body, headers=key)
    assert first.json() == {"points": 100, "duplicate": False}
    assert second.json() == {"points": 100, "duplicate": True}
    assert _history(api, rid, "loss") == list(range(100))
    other = api.post(url, content=body, headers={"Idempotency-Key": uuid.uuid4().hex, **HEADERS})
    assert other.json()["duplicate"] is False
    assert len(_history(api, rid, "loss")) == 200  # a new ID is a new batch

    json_key = {"Idempotency-Key": uuid.uuid4().hex}
    points = {"metrics": [{"key": "j", "value": 1.0, "step": 0}]}
    for _ in range(3):
        api.post(f"/api/v1/runs/{rid}/metrics", json=points, headers=json_key)
    assert _history(api, rid, "j") == [0]


def test_concurrent_retries_of_one_batch_store_it_once(api: httpx.Client) -> None:
    rid = new_run(api)["id"]
    body = encode_batches([_batch("m", 500)])
    headers = {"Idempotency-Key": uuid.uuid4().hex, **HEADERS}
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: api.post(
                    f"/api/v1/runs/{rid}/metrics/batches", content=body, headers=headers
                ).json(),
                range(8),
            )
        )
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 7
    assert _history(api, rid, "m") == list(range(500))


def test_ended_runs_take_no_metrics(api: httpx.Client) -> None:
    rid = new_run(api)["id"]
    api.post(f"/api/v1/runs/{rid}/end", json={})
    late = api.post(
        f"/api/v1/runs/{rid}/metrics/batches",
        content=encode_batches([_batch("m", 1)]),
        headers=HEADERS,
    )
    assert late.status_code == 400
    assert error_of(late)["field"] == "run_id"


def _chunk_of(n: int) -> bytes:
    return encode_batches([_batch("k", n)])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"MB1",
        b"XXXX\x01\x00\x00\x00",
        struct.pack("<3sI", b"MB1", 1),  # promises a batch, has none
        struct.pack("<3sI", b"MB1", 1) + struct.pack("<H", 1) + b"k" + struct.pack("<I", 5),
        _chunk_of(10) + b"trailing",
        _chunk_of(10)[:-3],
        struct.pack("<3sI", b"MB1", 1) + struct.pack("<H", 1) + b"\xff" + _chunk_of(1)[10:],
        # a chunk declaring 1 point whose compressed column inflates to a megabyte
        struct.pack("<3sI", b"MB1", 1)
        + struct.pack("<H", 1)
        + b"k"
        + (
            lambda bomb: (
                struct.pack("<I", 7 + 3 * (5 + len(bomb)))
                + struct.pack("<3sI", b"MC1", 1)
                + (struct.pack("<BI", 1, len(bomb)) + bomb) * 3
            )
        )(zlib.compress(b"\x00" * (1 << 20))),
    ],
)
def test_malformed_batches_are_400(api: httpx.Client, body: bytes) -> None:
    rid = new_run(api)["id"]
    response = api.post(f"/api/v1/runs/{rid}/metrics/batches", content=body, headers=HEADERS)
    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == "body"


def test_batches_need_their_content_type_and_a_sane_key(api: httpx.Client) -> None:
    rid = new_run(api)["id"]
    url = f"/api/v1/runs/{rid}/metrics/batches"
    body = encode_batches([_batch("m", 1)])
    wrong = api.post(url, content=body, headers={"Content-Type": "application/json"})
    assert wrong.status_code == 400
    assert error_of(wrong)["field"] == "Content-Type"
    key = api.post(url, content=body, headers={"Idempotency-Key": "no spaces!", **HEADERS})
    assert key.status_code == 400
    assert error_of(key)["field"] == "Idempotency-Key"


def test_oversized_bodies_are_413_with_the_limit(tmp_path: Path) -> None:
    settings = Settings(
        tracking_uri=f"sqlite:///{tmp_path / 's.db'}", artifact_uri=str(tmp_path / "art")
    )
    with (
        ThreadServer(
            settings, ServerConfig(max_body_bytes=100_000, max_artifact_bytes=200_000)
        ) as server,
        httpx.Client(base_url=server.url) as api,
    ):
        rid = new_run(api)["id"]
        big = encode_batches(
            [
                MetricBatch(
                    key="m",
                    steps=np.arange(50_000),
                    timestamps=np.arange(50_000),
                    values=np.random.default_rng(0).random(50_000),
                )
            ]
        )
        assert len(big) > 100_000
        declared = api.post(f"/api/v1/runs/{rid}/metrics/batches", content=big, headers=HEADERS)
        assert declared.status_code == 413
        error = error_of(declared)
        assert "100000 bytes" in error["message"]
        assert error["field"] == "body"

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(big), 10_000):
                yield big[start : start + 10_000]

        streamed = api.post(
            f"/api/v1/runs/{rid}/metrics/batches",
            content=pieces(),
            headers=HEADERS,
        )
        assert streamed.status_code == 413
        assert "100000 bytes" in error_of(streamed)["message"]
        json_body = api.post(
            f"/api/v1/runs/{rid}/metrics",
            json={"metrics": [{"key": "m", "value": 1.0}] * 5000},
        )
        assert json_body.status_code == 413

        small = api.put(f"/api/v1/runs/{rid}/artifacts/ok.bin", content=b"x" * 150_000)
        assert small.status_code == 201  # artifacts have their own limit
        large = api.put(f"/api/v1/runs/{rid}/artifacts/big.bin", content=b"x" * 250_000)
        assert large.status_code == 413
        assert "200000 bytes" in error_of(large)["message"]
        listed = api.get(f"/api/v1/runs/{rid}/artifacts").json()["files"]
        assert [f["path"] for f in listed] == ["ok.bin"]
        assert _history(api, rid, "m") == []


def test_an_upload_cut_short_leaves_nothing(tmp_path: Path) -> None:
    settings = Settings(tracking_uri=f"sqlite:///{tmp_path / 's.db'}", artifact_uri=str(tmp_path))
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url) as api:
        rid = new_run(api)["id"]
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                f"PUT /api/v1/runs/{rid}/artifacts/cut.bin HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: 1000000\r\n\r\n".encode()
                + b"x" * 50_000
            )
            time.sleep(0.3)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and list(tmp_path.rglob(".tmp-*")):
            time.sleep(0.05)
        assert list(tmp_path.rglob(".tmp-*")) == []
        assert api.get(f"/api/v1/runs/{rid}/artifacts").json() == {"files": []}
        assert api.get("/health").status_code == 200
