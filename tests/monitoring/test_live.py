"""A monitor on a live deployment: a real serving process answers normal, then shifted,
traffic over HTTP and logs it; feedback arrives through its /feedback endpoint; the
monitor finds no drift in the normal window, then finds the injected drift and fires a
signed webhook to a local receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import mlcycle
import mlcycle.monitoring as mon
from mlcycle.monitoring.webhooks import SIGNATURE_HEADER, RetryPolicy, verify
from tests.conftest import local_backend
from tests.models._models import FEATURES, churn_frame
from tests.monitoring._receiver import Receiver
from tests.monitoring._setup import DEPLOYMENT, deploy_churn, shifted
from tests.serving.live import ServeProcess

ROWS_PER_REQUEST = 20


@pytest.fixture
def live_client(tmp_path: Path) -> Iterator[mlcycle.Client]:
    c = mlcycle.Client(f"sqlite:///{tmp_path / 'live.db'}", str(tmp_path / "artifacts"))
    local_backend(c).monitoring_service.delivery.retry = RetryPolicy(attempts=3, backoff_s=0.01)
    yield c
    c.close()


def _send(url: str, frame: pd.DataFrame) -> list[tuple[str, list[int]]]:
    """POST the rows in requests of 20; returns each request's ID and the labels."""
    sent = []
    with httpx.Client(timeout=30) as http:
        for start in range(0, len(frame), ROWS_PER_REQUEST):
            chunk = frame.iloc[start : start + ROWS_PER_REQUEST]
            body = {"dataframe_records": chunk[FEATURES].to_dict(orient="records")}
            response = http.post(f"{url}/invocations", json=body)
            assert response.status_code == 200, response.text
            sent.append((response.headers["x-request-id"], chunk["churned"].tolist()))
    return sent


@pytest.mark.slow
def test_a_monitor_detects_drift_injected_into_live_traffic(
    live_client: mlcycle.Client, tmp_path: Path
) -> None:
    deploy_churn(live_client)
    server = ServeProcess(
        ["deployments", "serve", DEPLOYMENT],
        tracking_uri=live_client.settings.tracking_uri,
        artifact_uri=live_client.settings.artifact_uri,
        log_path=tmp_path / "serve.log",
        trust=False,
    )
    with server:
        normal = _send(server.url, churn_frame(200, seed=11))
        between = int(time.time() * 1000) + 1
        time.sleep(0.01)
        drifted = _send(server.url, shifted(churn_frame(200, seed=12)))
        feedback = [{"request_id": rid, "label": labels} for rid, labels in normal + drifted]
        answer = httpx.post(f"{server.url}/feedback", json=feedback, timeout=30)
        assert answer.status_code == 200, answer.text
    # The server flushed its prediction log when it stopped.
    log = mlcycle.deployments.prediction_log(DEPLOYMENT, client=live_client)
    assert len(log) == 400
    assert set(log["version"]) == {1}

    mon.create("live-watch", DEPLOYMENT, window="200rows", client=live_client)
    with Receiver() as receiver:
        mon.add_alert_rule(
            "live-watch",
            "dataset_drift",
            severity="critical",
            webhook=receiver.url,
            secret="k3y",
            client=live_client,
        )
        calm = live_client.monitoring.run("live-watch", now=between)
        assert calm.status is mon.ResultStatus.OK, calm.details
        assert (calm.rows, calm.labelled_rows) == (200, 200)
        assert receiver.requests == []

        result = live_client.monitoring.run("live-watch")
        assert result.dataset_drift is True
        assert result.rows == 200
        drifted_columns = {
            name for name, c in result.section("feature_drift")["columns"].items() if c["drifted"]
        }
        assert drifted_columns == {"tenure", "charges"}
        assert result.section("performance")["labelled_rows"] == 200
        (request,) = receiver.requests
        assert verify("k3y", request.body, request.headers[SIGNATURE_HEADER])
        assert request.json()["alert"]["condition"] == "dataset_drift"
    (alert,) = mon.list_alerts(client=live_client)
    assert alert.deliveries[-1].status is mon.DeliveryStatus.DELIVERED
