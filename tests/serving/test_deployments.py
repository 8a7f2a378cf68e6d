"""Stored deployments served by ``serve_deployment`` in real processes: A/B split with
sticky routing, shadow, canary to completion (moving the alias), canary rolled back by a
breached guard, and the rollback command. The four servers start in parallel."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import mlcycle
from tests.serving._models import TRUST, Broken, Flaky
from tests.serving._traffic import Traffic
from tests.serving.conftest import Home, log_python
from tests.serving.live import ServeProcess, metric

pytestmark = pytest.mark.slow  # real server processes (each starts in seconds)

NAMES = ("ab", "shadowed", "rollout", "bad-rollout")


@pytest.fixture(scope="module")
def servers(home: Home) -> Iterator[dict[str, ServeProcess]]:
    client = home.client
    log_python(client, Flaky(), "flaky")
    log_python(client, Flaky(), "flaky")
    log_python(client, Broken(), "broken")
    client.registry.set_alias("flaky", "champion", 1)
    deployments = mlcycle.deployments
    deployments.create("ab", "models:/flaky/1", routing_key="x", trusted=TRUST, client=client)
    deployments.split("ab", [("models:/flaky/1", 50), ("models:/flaky/2", 50)], client=client)
    deployments.create("shadowed", "models:/flaky/1", trusted=TRUST, client=client)
    deployments.shadow("shadowed", "models:/flaky/2", percent=100, client=client)
    deployments.create("rollout", "models:/flaky@champion", trusted=TRUST, client=client)
    deployments.canary(
        "rollout", "models:/flaky/2", steps=(50, 100), interval="1s", max_error_rate=0.5,
        client=client,
    )  # fmt: skip
    deployments.create("bad-rollout", "models:/flaky/1", trusted=TRUST, client=client)
    deployments.canary(
        "bad-rollout", "models:/broken/1", steps=(50, 100), interval="10m", max_error_rate=0.1,
        client=client,
    )  # fmt: skip
    processes = {
        name: ServeProcess(
            [name],
            tracking_uri=home.tracking_uri,
            artifact_uri=home.artifact_uri,
            log_path=home.root / f"{name}.log",
            module="tests.serving._deployment_server",
        ).launch()
        for name in NAMES
    }
    try:
        for process in processes.values():
            process.wait_ready()
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def _x(i: int) -> dict[str, Any]:
    return {"inputs": {"x": [float(i % 11) - 5.0]}}


def _wait(check: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.1)


def _actions(home: Home, name: str) -> list[str]:
    return [e.action for e in mlcycle.deployments.history(name, client=home.client)]


def test_split_is_sticky_by_routing_key_with_per_arm_metrics(
    servers: dict[str, ServeProcess],
) -> None:
    url = servers["ab"].url
    seen: dict[str, set[str]] = {}
    with httpx.Client(base_url=url, timeout=30) as http:
        for round_ in range(3):
            for k in range(40):
                response = http.post(
                    "/invocations", json=_x(k + round_), headers={"x-routing-key": f"user-{k}"}
                )
                assert response.status_code == 200
                seen.setdefault(f"user-{k}", set()).add(response.headers["x-deployment-arm"])
        # without the header, the deployment's routing_key input field (x) decides
        by_x = {
            x: {
                http.post("/invocations", json={"inputs": {"x": [x]}}).headers["x-model-version"]
                for _ in range(3)
            }
            for x in (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
        }
        text = http.get("/metrics").text
    assert all(len(arms) == 1 for arms in seen.values())  # sticky
    counts = {arm: sum(1 for arms in seen.values() if arm in arms) for arm in ("a", "b")}
    assert counts["a"] >= 5
    assert counts["b"] >= 5  # both arms get keys (an even split, by hash)
    assert all(len(versions) == 1 for versions in by_x.values())
    for arm, version in (("a", "1"), ("b", "2")):
        assert metric(text, "mlcycle_serving_requests_total", deployment="ab", arm=arm,
                      version=version, code="200") > 0  # fmt: skip


def test_shadow_answers_are_logged_never_returned_and_rollback_ends_it(
    home: Home, servers: dict[str, ServeProcess]
) -> None:
    url = servers["shadowed"].url
    with httpx.Client(base_url=url, timeout=30) as http:
        answers = [http.post("/invocations", json=_x(i)) for i in range(20)]
        assert {a.status_code for a in answers} == {200}
        assert {a.headers["x-deployment-arm"] for a in answers} == {"primary"}
        assert {a.headers["x-model-version"] for a in answers} == {"1"}
        ids = {a.headers["x-request-id"] for a in answers}

        def shadow_rows() -> Any:
            log = mlcycle.deployments.prediction_log("shadowed", client=home.client)
            return log[log["request_id"].isin(ids)]

        _wait(lambda: len(shadow_rows()) == 40)  # each request: its answer and its shadow
        rows = shadow_rows()
        shadow = rows[rows["arm"] == "shadow"]
        primary = rows[rows["arm"] == "primary"]
        assert set(shadow["request_id"]) == ids
        assert set(shadow["version"]) == {2}
        assert set(primary["version"]) == {1}
        text = http.get("/metrics").text
        assert metric(text, "mlcycle_serving_requests_total", deployment="shadowed",
                      arm="shadow", version="2") == 20  # fmt: skip

        revision = mlcycle.deployments.rollback("shadowed", client=home.client).revision

        def served_revision() -> float:
            text = http.get("/metrics").text
            return metric(text, "mlcycle_serving_deployment_revision", deployment="shadowed")

        _wait(lambda: served_revision() == revision)
        after = [http.post("/invocations", json=_x(i)) for i in range(10)]
        later = {a.headers["x-request-id"] for a in after}

        def later_rows() -> Any:
            log = mlcycle.deployments.prediction_log("shadowed", client=home.client)
            return log[log["request_id"].isin(later)]

        _wait(lambda: len(later_rows()) >= 10)
        assert set(later_rows()["arm"]) == {"primary"}
    assert "rollback" in _actions(home, "shadowed")


def test_canary_advances_to_completion_and_moves_the_alias(
    home: Home, servers: dict[str, ServeProcess]
) -> None:
    url = f"{servers['rollout'].url}/invocations"
    with Traffic(url, _x) as traffic:
        _wait(lambda: "canary_complete" in _actions(home, "rollout"))
        traffic.wait_for(lambda a: a.version == "2" and a.arm == "primary")
    assert traffic.failures == []
    assert {a.status for a in traffic.answers} == {200}
    assert {a.version for a in traffic.answers} == {"1", "2"}
    actions = _actions(home, "rollout")
    assert "canary_step" in actions
    assert actions[-1] == "canary_complete"
    assert home.client.registry.get_model("flaky").aliases["champion"] == 2
    deployment = mlcycle.deployments.get("rollout", client=home.client)
    assert deployment.model_uri == "models:/flaky@champion"
    assert deployment.canary is None


def test_breached_guard_rolls_the_canary_back(home: Home, servers: dict[str, ServeProcess]) -> None:
    server = servers["bad-rollout"]
    with Traffic(f"{server.url}/invocations", _x) as traffic:
        _wait(lambda: "rollback" in _actions(home, "bad-rollout"))
        revision = mlcycle.deployments.get("bad-rollout", client=home.client).revision

        def served_revision() -> float:
            text = httpx.get(f"{server.url}/metrics").text
            return metric(text, "mlcycle_serving_deployment_revision", deployment="bad-rollout")

        _wait(lambda: served_revision() == revision)
        mark = len(traffic.answers) + 1  # the request in flight may predate the switch
        _wait(lambda: len(traffic.answers) > mark + 20)
    assert traffic.failures == []
    candidate = [a for a in traffic.answers[:mark] if a.arm == "candidate"]
    assert len(candidate) >= 20  # the guard is judged once the step saw enough requests
    assert {a.status for a in candidate} == {500}
    after = traffic.answers[mark:]
    assert {(a.status, a.arm, a.version) for a in after} == {(200, "primary", "1")}
    event = mlcycle.deployments.history("bad-rollout", client=home.client)[-1]
    assert event.action == "rollback"
    assert event.reason is not None
    assert "error rate" in event.reason
    assert mlcycle.deployments.get("bad-rollout", client=home.client).canary is None
