"""A real serving process (``mlcycle serve``) under faults: SIGTERM with a request in
flight (it finishes, new connections are refused, the prediction log keeps it), bodies
past the cap (413 while the body streams in), a malformed-body corpus over every POST
route (never a 5xx) and an RSS soak with repeated large requests. Counts and figures
are printed (``pytest -s``)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import psutil
import pytest

import mlcycle
from tests.serving.conftest import Home, churn_rows, log_churn, make_home
from tests.serving.live import ServeProcess, metric

pytestmark = pytest.mark.slow  # real serving processes

MiB = 1 << 20


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    made = make_home(tmp_path_factory.mktemp("serving-reliability"))
    log_churn(made.client, "churn")
    yield made
    made.client.close()


def _serve(home: Home, name: str, *args: str) -> ServeProcess:
    return ServeProcess(
        ["serve", "models:/churn/1", "--name", name, "--max-latency-ms", "1", *args],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / f"{name}.log",
    )


def _records_body(rows: list[dict[str, object]]) -> bytes:
    return orjson.dumps({"dataframe_records": rows})


# -- SIGTERM -----------------------------------------------------------------------------


def test_sigterm_drains_the_request_in_flight_and_keeps_its_log(home: Home) -> None:
    server = _serve(home, "drain", "--graceful-timeout", "30").start()
    rows = churn_rows(40, seed=3)
    parts = [b'{"dataframe_records": [']
    parts += [orjson.dumps(r) + (b"," if i < len(rows) - 1 else b"") for i, r in enumerate(rows)]
    parts.append(b"]}")
    sending = threading.Event()
    result: dict[str, object] = {}

    def slow_body() -> Iterator[bytes]:
        for part in parts:
            yield part
            sending.set()
            time.sleep(0.1)  # about 4 s in all: the signal lands while the body streams

    def predict() -> None:
        try:
            response = httpx.post(
                f"{server.url}/invocations",
                content=slow_body(),
                headers={"content-type": "application/json", "x-request-id": "in-flight"},
                timeout=60,
            )
            result["status"] = response.status_code
            result["predictions"] = len(response.json()["predictions"])
        except httpx.HTTPError as exc:
            result["error"] = repr(exc)

    thread = threading.Thread(target=predict)
    thread.start()
    assert sending.wait(30)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    refused = False
    while thread.is_alive() and not refused:  # new connections are refused at once
        try:
            httpx.get(f"{server.url}/ping", timeout=1.0)
        except httpx.ConnectError:
            refused = True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    thread.join(60)
    code = server.stop()
    print(f"SIGTERM drain: in-flight answer {result}, new connections refused: {refused}")
    assert result == {"status": 200, "predictions": len(rows)}
    assert refused
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a clean stop
    log = mlcycle.deployments.prediction_log("drain", client=home.client)
    assert log[log["request_id"] == "in-flight"]["row"].tolist() == list(range(len(rows)))
    assert "Traceback" not in server.log()


# -- body cap, malformed bodies ------------------------------------------------------------


@pytest.fixture(scope="module")
def capped(home: Home) -> Iterator[ServeProcess]:
    with _serve(home, "capped", "--max-body-mib", "1") as server:
        yield server


def test_a_body_past_the_cap_is_413_even_when_chunked(capped: ServeProcess) -> None:
    big = b'{"dataframe_records": [' + b" " * (2 * MiB) + b"]}"
    declared = httpx.post(
        f"{capped.url}/invocations",
        content=big,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert declared.status_code == 413
    assert "at most 1048576" in declared.json()["message"]

    def chunks() -> Iterator[bytes]:  # no content-length: counted while it streams
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = httpx.post(
        f"{capped.url}/v2/models/capped/infer",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert streamed.status_code == 413
    assert streamed.json()["field"] == "body"
    assert "larger than 1048576" in streamed.json()["error"]
    ok = httpx.post(f"{capped.url}/invocations", content=_records_body(churn_rows(2)), timeout=30)
    assert ok.status_code == 200


def _corpus() -> list[tuple[str, bytes, str]]:
    """(label, body, content type) for every POST route's body."""
    row = churn_rows(1)[0]
    tensors: list[dict[str, object]] = [
        {"name": k, "shape": [1], "datatype": t, "data": [row[k]]}
        for k, t in (("tenure", "FP64"), ("charges", "FP64"), ("calls", "INT64"), ("plan", "BYTES"))
    ]
    good_oip = {"inputs": tensors}
    values: list[object] = [
        None,
        True,
        -1,
        2**64,
        -(2**63) - 1,
        10**400,
        1e308,
        "",
        "x" * 10_000,
        "\x00",
        [],
        {},
        [[]],
        [None],
        {"a": None},
    ]
    bodies: list[tuple[str, object]] = [(f"value {v!r:.30}", v) for v in values]
    for key in ("dataframe_split", "dataframe_records", "instances", "inputs"):
        for v in values:
            bodies.append((f"{key}={v!r:.30}", {key: v}))
    for column in row:
        for v in values:
            bodies.append(
                (f"records {column}={v!r:.30}", {"dataframe_records": [{**row, column: v}]})
            )
            split = {"columns": list(row), "data": [[v if k == column else row[k] for k in row]]}
            bodies.append((f"split {column}={v!r:.30}", {"dataframe_split": split}))
    for i, tensor in enumerate(tensors):
        for field in ("name", "shape", "datatype", "data"):
            for v in values:
                inputs = [dict(t) for t in tensors]
                inputs[i][field] = v
                bodies.append((f"oip {tensor['name']}.{field}={v!r:.30}", {"inputs": inputs}))
    for v in values:
        bodies.append((f"oip outputs={v!r:.30}", {**good_oip, "outputs": v}))
        bodies.append((f"oip parameters={v!r:.30}", {**good_oip, "parameters": v}))
    corpus: list[tuple[str, bytes, str]] = []
    for label, body in bodies:  # the standard library writes integers past 64 bits
        corpus.append((label, json.dumps(body).encode(), "application/json"))
    whole = orjson.dumps({"dataframe_records": [row]})
    corpus += [
        ("empty", b"", "application/json"),
        ("empty csv", b"", "text/csv"),
        ("truncated", whole[: len(whole) // 2], "application/json"),
        ("not utf-8", b"\xff\xfe{", "application/json"),
        ("nested", b"[" * 10_000 + b"]" * 10_000, "application/json"),
        (
            "huge int",
            b'{"dataframe_records": [{"calls": 1' + b"0" * 5000 + b"}]}",
            "application/json",
        ),
        ("NaN", b'{"dataframe_records": [{"tenure": NaN}]}', "application/json"),
        ("form", b"a=1&b=2", "application/x-www-form-urlencoded"),
        ("xml", b"<a/>", "application/xml"),
        ("csv ragged", b"tenure,charges\n1,2,3\n4\n", "text/csv"),
        ("csv header only", b"tenure,charges,calls,plan\n", "text/csv"),
        ("csv binary", b"\x00\x01\x02", "text/csv"),
        ("csv huge int", b"tenure,charges,calls,plan\n1,2,1" + b"0" * 40 + b",pro\n", "text/csv"),
        ("json as csv", whole, "text/csv"),
        ("parquet garbage", b"PAR1garbage", "application/x-parquet"),
        ("bad charset", whole, "application/json; charset=klingon"),
    ]
    return corpus


def test_a_malformed_body_corpus_never_gets_a_5xx(home: Home, capped: ServeProcess) -> None:
    corpus = _corpus()
    routes = ["/invocations", "/v2/models/capped/infer", "/v2/models/capped/explain", "/feedback"]
    statuses: dict[int, int] = {}
    failures: list[str] = []
    with httpx.Client(base_url=capped.url, timeout=60) as api:
        for route in routes:
            # /explain runs SHAP on what passes validation: a share of the corpus is enough
            cases = corpus if not route.endswith("/explain") else corpus[::4]
            for label, body, content_type in cases:
                response = api.post(route, content=body, headers={"content-type": content_type})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{route} {label}: {response.status_code} {response.text}")
        served = metric(api.get("/metrics").text, "mlcycle_serving_requests_total", code="500")
    print(f"serving corpus: {sum(statuses.values())} requests, statuses {sorted(statuses.items())}")
    assert not failures, "\n".join(failures[:20])
    assert served == 0
    assert "Traceback" not in capped.log()


# -- memory ------------------------------------------------------------------------------


def test_rss_stays_flat_under_repeated_large_requests(home: Home) -> None:
    rounds, warmup = 12, 4
    rows = churn_rows(2_000, seed=7)
    body = _records_body(rows * 50)  # 100,000 rows, about 8 MB of JSON
    with _serve(home, "soak", "--max-body-mib", "64") as server:
        assert server.process is not None
        process = psutil.Process(server.process.pid)
        start = process.memory_info().rss
        figures: list[int] = []
        with httpx.Client(base_url=server.url, timeout=300) as api:
            for _ in range(rounds):
                response = api.post(
                    "/invocations", content=body, headers={"content-type": "application/json"}
                )
                assert response.status_code == 200
                figures.append(process.memory_info().rss)
    bound = int(max(figures[:warmup]) * 1.10) + 16 * MiB
    print(
        f"RSS soak: {len(body) / MiB:.1f} MiB bodies x {rounds}; RSS at start "
        f"{start / MiB:.0f} MiB, per round "
        + ", ".join(f"{f / MiB:.0f}" for f in figures)
        + f" MiB; bound after warm-up {bound / MiB:.0f} MiB"
    )
    assert max(figures[warmup:]) <= bound
