"""``mlcycle serve models:/NAME@ALIAS`` follows the alias: each move loads and warms the
new version in the background and switches with no failed request."""

from __future__ import annotations

import httpx
import pytest

from tests.serving._models import Flaky
from tests.serving._traffic import Traffic
from tests.serving.conftest import Home, log_python
from tests.serving.live import ServeProcess, metric

pytestmark = pytest.mark.slow  # real server processes (each starts in seconds)


def test_alias_moves_under_load_fail_no_request(home: Home) -> None:
    v1 = log_python(home.client, Flaky(), "hot")
    v2 = log_python(home.client, Flaky(), "hot")
    home.client.registry.set_alias("hot", "champion", v1)
    with ServeProcess(
        ["serve", "models:/hot@champion", "--poll-interval", "100ms"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "hot.log",
    ) as server:
        url = f"{server.url}/invocations"
        with Traffic(url, lambda i: {"inputs": {"x": [float(i % 7) - 3.0]}}) as traffic:
            traffic.wait_for(lambda a: a.version == str(v1))
            for target in [v2, v1, v2, v1, v2, v1]:
                home.client.registry.set_alias("hot", "champion", target)
                traffic.wait_for(lambda a, t=target: a.version == str(t))  # type: ignore[misc]
        text = httpx.get(f"{server.url}/metrics").text
    assert traffic.failures == []
    assert len(traffic.answers) > 20
    assert {a.status for a in traffic.answers} == {200}
    assert {a.version for a in traffic.answers} == {str(v1), str(v2)}
    assert metric(text, "mlcycle_serving_reloads_total", deployment="hot") == 7
