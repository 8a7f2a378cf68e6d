"""MLflow's wire format over plain HTTP: paths and their ajax twins, query parameters, page
tokens, limits and the error shape (only on MLflow's routes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.live import ServerProcess

API = "/api/2.0/mlflow"


@pytest.fixture
def http(live: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


def mlflow_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code
    message: str = body["message"]
    assert message
    return message


def new_run(http: httpx.Client) -> dict[str, Any]:
    created = http.post(f"{API}/experiments/create", json={"name": f"wire-{uuid.uuid4().hex}"})
    assert created.status_code == 200, created.text
    experiment_id = created.json()["experiment_id"]
    run = http.post(f"{API}/runs/create", json={"experiment_id": experiment_id, "start_time": 5})
    assert run.status_code == 200, run.text
    body: dict[str, Any] = run.json()["run"]
    return body


def test_ajax_twin_and_query_parameters(http: httpx.Client) -> None:
    name = f"wire-{uuid.uuid4().hex}"
    created = http.post("/ajax-api/2.0/mlflow/experiments/create", json={"name": name})
    experiment_id = created.json()["experiment_id"]
    got = http.get(f"{API}/experiments/get-by-name", params={"experiment_name": name})
    assert got.json()["experiment"]["experiment_id"] == experiment_id
    assert got.json()["experiment"]["lifecycle_stage"] == "active"
    again = http.get(
        "/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id}
    )
    assert again.json()["experiment"]["name"] == name


def test_errors_have_mlflow_shape_and_status(http: httpx.Client) -> None:
    mlflow_error(
        http.get(f"{API}/runs/get", params={"run_id": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    message = mlflow_error(http.get(f"{API}/runs/get"), 400, "INVALID_PARAMETER_VALUE")
    assert "run_id" in message
    mlflow_error(http.post(f"{API}/no/such/endpoint", json={}), 404, "ENDPOINT_NOT_FOUND")
    mlflow_error(http.get(f"{API}/experiments/create"), 404, "ENDPOINT_NOT_FOUND")
    mlflow_error(http.post(f"{API}/experiments/create", content=b"{not json"), 400, "BAD_REQUEST")
    run = new_run(http)
    too_many = [{"key": "m", "value": 1.0, "timestamp": 0, "step": i} for i in range(1001)]
    response = http.post(
        f"{API}/runs/log-batch", json={"run_id": run["info"]["run_id"], "metrics": too_many}
    )
    assert "at most 1000" in mlflow_error(response, 400, "INVALID_PARAMETER_VALUE")
    # mlcycle's own API keeps its error shape
    own = http.get("/api/v1/runs/nope")
    assert own.status_code == 404
    assert set(own.json()) == {"error"}


def test_run_shape_and_metric_history_pages(http: httpx.Client) -> None:
    run = new_run(http)
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert info["status"] == "RUNNING"
    assert info["start_time"] == 5
    assert (
        info["artifact_uri"]
        == f"mlflow-artifacts:/{info['experiment_id']}/{info['run_id']}/artifacts"
    )
    run_id = info["run_id"]
    metrics = [
        {"key": "loss", "value": v, "timestamp": 100 + i, "step": i}
        for i, v in enumerate([1.5, "NaN", "Infinity", 0.5, 0.25])
    ]
    assert (
        http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).json() == {}
    )
    page = http.get(
        f"{API}/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss", "max_results": 2},
    ).json()
    assert [m["value"] for m in page["metrics"]] == [1.5, "NaN"]
    seen = list(page["metrics"])
    while "next_page_token" in page:
        page = http.get(
            f"{API}/metrics/get-history",
            params={
                "run_id": run_id,
                "metric_key": "loss",
                "max_results": 2,
                "page_token": page["next_page_token"],
            },
        ).json()
        seen.extend(page["metrics"])
    assert [m["step"] for m in seen] == [0, 1, 2, 3, 4]
    assert seen[2]["value"] == "Infinity"
    bulk = http.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={"run_ids": [run_id], "metric_key": "loss", "start_step": 1, "end_step": 3},
    ).json()
    assert [(m["step"], m["run_id"]) for m in bulk["metrics"]] == [
        (1, run_id),
        (2, run_id),
        (3, run_id),
    ]
    fetched = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert fetched["data"]["metrics"] == [
        {"key": "loss", "value": 0.25, "timestamp": 104, "step": 4}
    ]


def test_artifact_proxy_paths(http: httpx.Client) -> None:
    run = new_run(http)
    root = f"{run['info']['experiment_id']}/{run['info']['run_id']}/artifacts"
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    assert http.put(f"{proxy}/{root}/dir/a.txt", content=b"abc").json() == {}
    assert http.put(f"{proxy}/elsewhere/b.txt", content=b"xyz").status_code == 200
    listed = http.get(proxy, params={"path": root}).json()
    assert listed == {"files": [{"path": "dir", "is_dir": True}]}
    assert http.get(proxy, params={"path": f"{root}/dir/a.txt"}).json() == {"files": []}
    assert http.get(f"{proxy}/{root}/dir/a.txt").content == b"abc"
    assert http.get(f"{proxy}/elsewhere/b.txt").content == b"xyz"
    runs_view = http.get(
        f"{API}/artifacts/list", params={"run_id": run["info"]["run_id"], "path": "dir"}
    ).json()
    assert runs_view["files"] == [{"path": "dir/a.txt", "is_dir": False, "file_size": 3}]
    assert http.delete(f"{proxy}/{root}/dir").json() == {}
    assert http.get(proxy, params={"path": root}).json() == {"files": []}
    mlflow_error(http.get(f"{proxy}/{root}/dir/a.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    mlflow_error(http.get(f"{proxy}/{root}/%2E%2E/x"), 400, "INVALID_PARAMETER_VALUE")
    info = http.get("/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is False
    mlflow_error(
        http.post(f"/api/2.0/mlflow-artifacts/mpu/create/{root}/big.bin"), 501, "NOT_IMPLEMENTED"
    )
