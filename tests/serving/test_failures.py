"""A model that raises (500, the worker stays up), a retired version (410, and refusal to
start), a missing one (refusal to start)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Cli
from tests.serving._models import TRIGGER, Flaky
from tests.serving.conftest import Home, log_churn, log_python
from tests.serving.live import ServeProcess, metric

pytestmark = pytest.mark.slow  # real server processes (each starts in seconds)


@pytest.fixture(scope="module")
def flaky(home: Home) -> Iterator[ServeProcess]:
    log_python(home.client, Flaky(), "flaky")
    process = ServeProcess(
        ["serve", "models:/flaky/1", "--poll-interval", "100ms"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "flaky.log",
    )
    with process:
        yield process


def test_a_model_that_raises_is_500_with_the_request_id(flaky: ServeProcess) -> None:
    body = {"inputs": {"x": [TRIGGER]}}
    response = httpx.post(
        f"{flaky.url}/invocations", json=body, headers={"x-request-id": "boom-1"}, timeout=30
    )
    assert response.status_code == 500
    error = response.json()
    assert error["request_id"] == "boom-1"
    assert "boom-1" in error["message"]
    assert error["error_code"] == "INTERNAL_ERROR"
    log = flaky.log()
    assert "request boom-1" in log
    assert "Traceback" in log
    assert "the trigger value reached the model" in log
    # the worker stays up and answers the next request
    fine = httpx.post(f"{flaky.url}/invocations", json={"inputs": {"x": [1.0, -1.0]}})
    assert fine.status_code == 200
    assert fine.json() == {"predictions": [1, 0]}
    text = httpx.get(f"{flaky.url}/metrics").text
    assert metric(text, "mlcycle_serving_errors_total", kind="model", deployment="flaky") >= 1


def test_a_failing_request_does_not_fail_its_batch_mates(flaky: ServeProcess) -> None:
    with httpx.Client(base_url=flaky.url, timeout=30) as http:
        import concurrent.futures as cf

        with cf.ThreadPoolExecutor(8) as pool:
            values = [TRIGGER if i == 3 else float(i) for i in range(8)]
            futures = [
                pool.submit(http.post, "/invocations", json={"inputs": {"x": [v]}}) for v in values
            ]
            codes = [f.result().status_code for f in futures]
    assert codes == [500 if i == 3 else 200 for i in range(8)]


def test_a_version_retired_while_served_answers_410(home: Home, flaky: ServeProcess) -> None:
    """Runs last in this module: it retires the version the module's server serves."""
    body = {"inputs": {"x": [1.0]}}
    assert httpx.post(f"{flaky.url}/invocations", json=body).status_code == 200
    home.client.registry.set_status("flaky", 1, "retired")
    deadline = time.monotonic() + 60
    status = 200
    while status == 200 and time.monotonic() < deadline:
        status = httpx.post(f"{flaky.url}/invocations", json=body).status_code
        time.sleep(0.02)
    assert status == 410
    response = httpx.post(f"{flaky.url}/v2/models/flaky/infer", json={
        "inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]}]
    })  # fmt: skip
    assert response.status_code == 410
    assert "retired" in response.json()["error"]
    assert httpx.get(f"{flaky.url}/v2/health/live").status_code == 200


def test_serve_refuses_a_retired_or_missing_version(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    with cli.client() as client:
        version = log_churn(client, "old")
        client.registry.set_status("old", version, "retired")
    for uri, words in [
        (f"models:/old/{version}", "retired"),
        ("models:/old/9", "9"),
        ("models:/nobody@champion", "nobody"),
        ("no/such/dir", "no/such/dir"),
    ]:
        assert words in cli("serve", uri, "--port", "0").error_line()
