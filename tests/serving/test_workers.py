"""``--workers 2``: two processes share the port, each with its model, and ``/metrics``
adds up both workers' counters."""

from __future__ import annotations

import httpx
import pytest

from tests.serving._models import Flaky
from tests.serving.conftest import Home, log_python
from tests.serving.live import ServeProcess, metric

pytestmark = pytest.mark.slow  # real server processes (each starts in seconds)


def test_two_workers_answer_and_sum_their_metrics(home: Home) -> None:
    log_python(home.client, Flaky(), "multi")
    with ServeProcess(
        ["serve", "models:/multi/1", "--workers", "2"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "multi.log",
    ) as server:
        for i in range(40):  # a new connection each time: both workers take some
            response = httpx.post(
                f"{server.url}/invocations", json={"inputs": {"x": [float(i) - 20.0]}}
            )
            assert response.status_code == 200
            assert response.headers["x-model-version"] == "1"
        text = httpx.get(f"{server.url}/metrics").text
        assert metric(text, "mlcycle_serving_requests_total", deployment="multi", code="200") == 40
    assert server.log().count("Application startup complete") == 2
