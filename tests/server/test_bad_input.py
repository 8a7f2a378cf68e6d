"""Bad input is a 4xx naming the field and the rule on both stores, never a 500 or a 503
(which tells clients to retry), and a refused batch leaves nothing behind."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.conftest import error_of, new_run, unique

M = "/api/2.0/mlflow"
HUGE = 2**70


def _refused(response: httpx.Response, *fragments: str) -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    text = response.text
    for fragment in fragments:
        assert fragment in text, text
    return text


def _mlflow_run(api: httpx.Client) -> str:
    exp = api.post(f"{M}/experiments/create", json={"name": unique()}).json()["experiment_id"]
    created = api.post(f"{M}/runs/create", json={"experiment_id": exp})
    run_id: str = created.json()["run"]["info"]["run_id"]
    return run_id


@pytest.mark.parametrize("field", ["step", "timestamp"])
def test_integers_past_64_bits_in_metrics(api: httpx.Client, field: str) -> None:
    run_id = _mlflow_run(api)
    metric: dict[str, Any] = {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}
    metric[field] = HUGE
    _refused(api.post(f"{M}/runs/log-metric", json=metric), field, "64-bit")
    item: dict[str, Any] = {"key": "m", "value": 1, "timestamp": 1, field: HUGE}
    batch = {"run_id": run_id, "metrics": [item]}
    _refused(api.post(f"{M}/runs/log-batch", json=batch), field)
    item[field] = str(2**63)  # proto3 JSON writes int64 as strings
    _refused(api.post(f"{M}/runs/log-batch", json=batch), field)


def test_integers_past_64_bits_in_run_times_and_versions(api: httpx.Client) -> None:
    run_id = _mlflow_run(api)
    exp = api.post(f"{M}/experiments/create", json={"name": unique()}).json()["experiment_id"]
    _refused(
        api.post(f"{M}/runs/create", json={"experiment_id": exp, "start_time": HUGE}),
        "start_time",
    )
    _refused(
        api.post(
            f"{M}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": HUGE}
        ),
        "end_time",
    )
    run = api.get(f"{M}/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["info"]["status"] == "RUNNING"  # the refused update changed nothing
    _refused(
        api.get(f"{M}/model-versions/get", params={"name": "m", "version": str(2**40)}),
        "version",
    )
    created = api.post(
        "/api/v1/runs", json={"experiment_id": run["info"]["experiment_id"], "start_time": HUGE}
    )
    assert created.status_code == 422, created.text


def test_deep_and_wide_filters_are_refused_with_a_position(api: httpx.Client) -> None:
    exp = api.post("/api/v1/experiments", json={"name": unique()}).json()["id"]
    deep = "(" * 400 + "metrics.a > 1" + ")" * 400
    wide = " OR ".join(["metrics.a > 1"] * 1000)
    for text in (deep, wide, "NOT " * 400 + "metrics.a > 1"):
        native = api.post("/api/v1/runs/search", json={"experiment_ids": [exp], "filter": text})
        assert native.status_code == 400, native.text
        assert error_of(native)["type"] == "FilterSyntaxError"
        assert isinstance(error_of(native)["position"], int)
        _refused(
            api.post(f"{M}/runs/search", json={"experiment_ids": [exp], "filter": text}),
            "Invalid filter at position",
        )


def test_nul_characters_are_refused_everywhere(api: httpx.Client) -> None:
    run_id = _mlflow_run(api)
    _refused(api.post(f"{M}/experiments/create", json={"name": "a\x00b"}), "NUL")
    _refused(api.post(f"{M}/registered-models/create", json={"name": "a\x00b"}), "NUL")
    _refused(
        api.post(f"{M}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "\x00"}),
        "NUL",
    )
    _refused(
        api.post(f"{M}/runs/set-tag", json={"run_id": run_id, "key": "t", "value": "a\x00"}),
        "NUL",
    )
    _refused(
        api.post(f"{M}/runs/search", json={"experiment_ids": ["1"], "filter": "tags.t = '\x00'"}),
        "NUL",
    )
    data = api.get(f"{M}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["params"] == []


def test_too_many_ids_in_one_search(api: httpx.Client) -> None:
    ids = [str(i) for i in range(100_000)]
    _refused(api.post(f"{M}/runs/search", json={"experiment_ids": ids}), "at most 1000")
    _refused(api.post("/api/v1/runs/search", json={"experiment_ids": ids}), "1000")


def test_a_refused_log_batch_stores_nothing(api: httpx.Client) -> None:
    run_id = _mlflow_run(api)
    batches: list[dict[str, Any]] = [
        {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": "x"}]},
        {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": HUGE}]},
        {"tags": [{"key": "t", "value": "\x00"}]},
        {"tags": [{"key": "bad key!", "value": "v"}]},
        {"params": [{"key": "p2", "value": "\x00"}]},
    ]
    for extra in batches:
        body = {
            "run_id": run_id,
            "params": [{"key": "p", "value": "1"}],
            "tags": [{"key": "good", "value": "v"}],
            "metrics": [{"key": "ok", "value": 2, "timestamp": 1, "step": 0}],
        }
        for field, items in extra.items():
            body[field] = body[field] + items
        _refused(api.post(f"{M}/runs/log-batch", json=body))
    data = api.get(f"{M}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["params"] == []
    assert data["metrics"] == []
    assert not [t for t in data["tags"] if t["key"] == "good"]
    # a batch that conflicts with the stored state is refused whole, too
    api.post(f"{M}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"})
    conflict = {
        "run_id": run_id,
        "params": [{"key": "p", "value": "2"}],
        "tags": [{"key": "good", "value": "v"}],
    }
    _refused(api.post(f"{M}/runs/log-batch", json=conflict))
    data = api.get(f"{M}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert not [t for t in data["tags"] if t["key"] == "good"]


def test_booleans_are_not_numbers(api: httpx.Client) -> None:
    response = api.post("/api/v1/gc", json={"older_than_ms": False})
    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == "older_than_ms"
    run = new_run(api)
    response = api.post(
        f"/api/v1/runs/{run['id']}/metrics", json={"metrics": [{"key": "m", "value": True}]}
    )
    assert response.status_code == 422, response.text


def test_405_lists_every_allowed_method(api: httpx.Client) -> None:
    response = api.put("/api/v1/experiments")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    response = api.post(f"/api/v1/experiments/{unique()}")
    assert response.status_code == 405
    assert {"GET", "PATCH", "DELETE"} <= set(response.headers["allow"].split(", "))
