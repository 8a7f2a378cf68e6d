"""Every REST route over real HTTP, on SQLite and PostgreSQL, with its error codes."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import numpy as np
import pytest

from mlcycle.codec.metric_batches import SERIES_MEDIA_TYPE, decode_series
from tests.server.conftest import error_of, new_run, unique

API = "/api/v1"


def test_experiment_lifecycle(api: httpx.Client) -> None:
    name = unique()
    problem = {
        "task": "classification",
        "target": "churned",
        "primary_metric": "auc",
        "direction": "maximize",
        "threshold": 0.8,
    }
    created = api.post(
        f"{API}/experiments",
        json={"name": name, "problem": problem, "description": "d", "tags": {"team": "a"}},
    )
    assert created.status_code == 201
    exp = created.json()
    assert exp["problem"] == problem
    assert exp["tags"] == {"team": "a"}
    assert exp["lifecycle_stage"] == "active"

    assert api.get(f"{API}/experiments/{exp['id']}").json() == exp
    by_name = api.get(f"{API}/experiments", params={"name": name}).json()["experiments"]
    assert [e["id"] for e in by_name] == [exp["id"]]
    assert api.get(f"{API}/experiments", params={"name": unique()}).json() == {"experiments": []}
    listed = api.get(f"{API}/experiments").json()["experiments"]
    assert exp["id"] in [e["id"] for e in listed]

    again = api.post(f"{API}/experiments/get-or-create", json={"name": name})
    assert again.json()["id"] == exp["id"]
    other = api.post(f"{API}/experiments/get-or-create", json={"name": unique()})
    assert other.status_code == 200
    assert other.json()["id"] != exp["id"]

    renamed = api.patch(f"{API}/experiments/{exp['id']}", json={"name": name + "-2"})
    assert renamed.json()["name"] == name + "-2"
    assert (
        api.post(f"{API}/experiments/{exp['id']}/tags", json={"tags": {"x": "1"}}).status_code
        == 204
    )
    assert api.get(f"{API}/experiments/{exp['id']}").json()["tags"] == {"team": "a", "x": "1"}

    deleted = api.delete(f"{API}/experiments/{exp['id']}").json()
    assert deleted["lifecycle_stage"] == "deleted"
    assert deleted["deleted_at"] is not None
    active = api.get(f"{API}/experiments").json()["experiments"]
    assert exp["id"] not in [e["id"] for e in active]
    everything = api.get(f"{API}/experiments", params={"include_deleted": "true"}).json()
    assert exp["id"] in [e["id"] for e in everything["experiments"]]
    restored = api.post(f"{API}/experiments/{exp['id']}/restore").json()
    assert restored["lifecycle_stage"] == "active"


def test_experiment_errors(api: httpx.Client) -> None:
    name = unique()
    assert api.post(f"{API}/experiments", json={"name": name}).status_code == 201
    taken = api.post(f"{API}/experiments", json={"name": name})
    assert taken.status_code == 409
    assert error_of(taken) == {
        "type": "AlreadyExistsError",
        "message": error_of(taken)["message"],
        "field": "name",
    }
    missing = api.get(f"{API}/experiments/{'0' * 32}")
    assert missing.status_code == 404
    assert error_of(missing)["type"] == "NotFoundError"
    for path, method in (("", "PATCH"), ("/restore", "POST"), ("", "DELETE"), ("/tags", "POST")):
        body: dict[str, Any] | None = (
            {"tags": {}} if path == "/tags" else ({} if method == "PATCH" else None)
        )
        response = api.request(method, f"{API}/experiments/{'0' * 32}{path}", json=body)
        assert response.status_code == 404, (method, path, response.text)

    bad_task = api.post(f"{API}/experiments", json={"name": unique(), "problem": {"task": "x"}})
    assert bad_task.status_code == 422
    assert error_of(bad_task)["field"] == "problem.task"
    threshold = api.post(
        f"{API}/experiments", json={"name": unique(), "problem": {"threshold": 0.5}}
    )
    assert threshold.status_code == 400
    assert error_of(threshold)["field"] == "threshold"
    blank = api.post(f"{API}/experiments", json={"name": ""})
    assert blank.status_code == 422
    assert error_of(blank)["field"] == "name"


def test_bad_requests_name_the_field(api: httpx.Client) -> None:
    malformed = api.post(
        f"{API}/experiments", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert error_of(malformed) | {"message": ""} == {
        "type": "InvalidInputError",
        "message": "",
        "field": "body",
    }
    wrong_type = api.post(f"{API}/experiments", json={"name": ["a"]})
    assert wrong_type.status_code == 422
    assert error_of(wrong_type)["field"] == "name"
    missing = api.post(f"{API}/runs", json={"name": "r"})
    assert missing.status_code == 422
    assert error_of(missing)["field"] == "experiment_id"
    extra = api.post(f"{API}/experiments", json={"name": unique(), "colour": "red"})
    assert extra.status_code == 422
    assert error_of(extra)["field"] == "colour"
    not_an_object = api.post(f"{API}/runs/search", json=[1, 2])
    assert not_an_object.status_code == 422
    query = api.get(f"{API}/experiments", params={"include_deleted": "maybe"})
    assert query.status_code == 422
    assert error_of(query)["field"] == "include_deleted"
    nul = api.post(f"{API}/experiments", json={"name": "a\x00b"})
    assert nul.status_code == 422
    unknown_route = api.get("/api/v1/nothing-here")
    assert unknown_route.status_code == 404
    assert "GET /api/v1/nothing-here" in error_of(unknown_route)["message"]
    wrong_method = api.put(f"{API}/experiments")
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["type"] == "InvalidInputError"


def test_run_lifecycle(api: httpx.Client) -> None:
    exp = api.post(f"{API}/experiments", json={"name": unique()}).json()
    created = api.post(
        f"{API}/runs",
        json={
            "experiment_id": exp["id"],
            "name": "first",
            "tags": {"a": "1"},
            "description": "d",
            "start_time": 1_700_000_000_000,
        },
    )
    assert created.status_code == 201
    run = created.json()
    assert run["status"] == "RUNNING"
    assert run["start_time"] == 1_700_000_000_000
    rid = run["id"]
    child = api.post(f"{API}/runs", json={"experiment_id": exp["id"], "parent_id": rid}).json()
    assert child["name"]  # a generated readable name

    assert api.post(f"{API}/runs/{rid}/params", json={"params": {"lr": "0.1"}}).status_code == 204
    same = api.post(f"{API}/runs/{rid}/params", json={"params": {"lr": "0.1"}})
    assert same.status_code == 204
    changed = api.post(f"{API}/runs/{rid}/params", json={"params": {"lr": "0.2"}})
    assert changed.status_code == 409
    assert error_of(changed) | {"message": ""} == {
        "type": "ConflictError",
        "message": "",
        "field": "params.lr",
    }
    bad_key = api.post(f"{API}/runs/{rid}/params", json={"params": {"a b?": "1"}})
    assert bad_key.status_code == 400
    assert error_of(bad_key)["field"] == "param key"

    assert api.post(f"{API}/runs/{rid}/tags", json={"tags": {"b/c": "2"}}).status_code == 204
    assert api.delete(f"{API}/runs/{rid}/tags/b/c").status_code == 204
    gone = api.delete(f"{API}/runs/{rid}/tags/b/c")
    assert gone.status_code == 404
    assert api.patch(f"{API}/runs/{rid}", json={"name": "renamed"}).status_code == 204
    assert api.get(f"{API}/runs/{rid}/children").json() == {"run_ids": [child["id"]]}

    not_terminal = api.post(f"{API}/runs/{rid}/end", json={"status": "RUNNING"})
    assert not_terminal.status_code == 400
    assert error_of(not_terminal)["field"] == "status"
    assert (
        api.post(f"{API}/runs/{rid}/end", json={"status": "FAILED", "error": "boom"}).status_code
        == 204
    )
    ended = api.get(f"{API}/runs/{rid}").json()
    assert ended["status"] == "FAILED"
    assert ended["error"] == "boom"
    assert ended["name"] == "renamed"
    assert ended["params"] == {"lr": "0.1"}
    assert ended["tags"] == {"a": "1"}
    frozen = api.post(f"{API}/runs/{rid}/params", json={"params": {"other": "1"}})
    assert frozen.status_code == 400

    assert api.post(f"{API}/runs/delete", json={"run_ids": [rid, child["id"]]}).status_code == 204
    assert api.get(f"{API}/runs/{rid}").json()["lifecycle_stage"] == "deleted"
    assert api.post(f"{API}/runs/restore", json={"run_ids": [rid]}).status_code == 204
    assert api.get(f"{API}/runs/{rid}").json()["lifecycle_stage"] == "active"
    unknown = api.post(f"{API}/runs/delete", json={"run_ids": [rid, "f" * 32]})
    assert unknown.status_code == 404
    assert api.get(f"{API}/runs/{rid}").json()["lifecycle_stage"] == "active"


def test_unknown_run_is_404_everywhere(api: httpx.Client) -> None:
    rid = "e" * 32
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/runs/{rid}", None),
        ("PATCH", f"/runs/{rid}", {"name": "x"}),
        ("PATCH", f"/runs/{rid}", {}),
        ("POST", f"/runs/{rid}/end", {}),
        ("POST", f"/runs/{rid}/params", {"params": {"a": "1"}}),
        ("POST", f"/runs/{rid}/params", {"params": {}}),
        ("POST", f"/runs/{rid}/tags", {"tags": {}}),
        ("DELETE", f"/runs/{rid}/tags/k", None),
        ("GET", f"/runs/{rid}/children", None),
        ("POST", f"/runs/{rid}/metrics", {"metrics": [{"key": "m", "value": 1}]}),
        ("POST", f"/runs/{rid}/metrics", {"metrics": []}),
        ("GET", f"/runs/{rid}/metrics/history?key=m", None),
        ("GET", f"/runs/{rid}/artifacts", None),
        ("GET", f"/runs/{rid}/artifacts/a.txt", None),
        ("POST", "/runs/compare", {"run_ids": [rid, rid]}),
        ("POST", "/runs", {"experiment_id": "0" * 32}),
    ]
    for method, path, body in calls:
        response = api.request(method, API + path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert error_of(response)["type"] in ("NotFoundError", "ArtifactNotFoundError")
    put = api.put(f"{API}/runs/{rid}/artifacts/a.txt", content=b"x")
    assert put.status_code == 404


def test_search_and_compare(api: httpx.Client) -> None:
    exp = api.post(f"{API}/experiments", json={"name": unique()}).json()
    ids = []
    for i in range(5):
        run = api.post(f"{API}/runs", json={"experiment_id": exp["id"], "name": f"r{i}"}).json()
        api.post(f"{API}/runs/{run['id']}/params", json={"params": {"p": str(i % 2)}})
        api.post(
            f"{API}/runs/{run['id']}/metrics",
            json={"metrics": [{"key": "m", "value": float(i), "step": 0}]},
        )
        ids.append(run["id"])
    page = api.post(
        f"{API}/runs/search",
        json={
            "experiment_ids": [exp["id"]],
            "filter": "metrics.m >= 1 and params.p = '1'",
            "order_by": ["metrics.m DESC"],
        },
    ).json()
    assert [r["name"] for r in page["runs"]] == ["r3", "r1"]
    assert page["next_page_token"] is None

    first = api.post(
        f"{API}/runs/search",
        json={"experiment_ids": [exp["id"]], "order_by": ["name"], "max_results": 2},
    ).json()
    assert [r["name"] for r in first["runs"]] == ["r0", "r1"]
    second = api.post(
        f"{API}/runs/search",
        json={
            "experiment_ids": [exp["id"]],
            "order_by": ["name"],
            "max_results": 2,
            "page_token": first["next_page_token"],
        },
    ).json()
    assert [r["name"] for r in second["runs"]] == ["r2", "r3"]

    by_name = api.post(  # experiments by name (or ID): resolved by the server
        f"{API}/runs/search",
        json={"experiments": [exp["name"]], "filter": "params.p = '1'", "order_by": ["name"]},
    ).json()
    assert [r["name"] for r in by_name["runs"]] == ["r1", "r3"]
    assert by_name["experiment_ids"] == [exp["id"]]
    unknown = api.post(f"{API}/runs/search", json={"experiments": [exp["name"] + "-nope"]})
    assert unknown.status_code == 404
    assert error_of(unknown)["field"] == "experiment"

    bad = api.post(f"{API}/runs/search", json={"experiment_ids": [], "filter": "metrics.m >"})
    assert bad.status_code == 400
    error = error_of(bad)
    assert error["type"] == "FilterSyntaxError"
    assert error["field"] == "filter"
    assert isinstance(error["position"], int)
    too_many = api.post(f"{API}/runs/search", json={"experiment_ids": [], "max_results": 0})
    assert too_many.status_code == 422
    assert error_of(too_many)["field"] == "max_results"

    compared = api.post(f"{API}/runs/compare", json={"run_ids": ids[:3]}).json()
    assert compared["run_ids"] == ids[:3]
    assert compared["params"] == {"p": ["0", "1", "0"]}
    assert compared["metrics"] == {"m": [0.0, 1.0, 2.0]}
    everything = api.post(f"{API}/runs/compare", json={"run_ids": ids[:1] * 2, "all_keys": True})
    assert everything.json()["params"] == {"p": ["0", "0"]}
    one = api.post(f"{API}/runs/compare", json={"run_ids": ids[:1]})
    assert one.status_code == 422


def test_metrics_json_and_history(api: httpx.Client) -> None:
    rid = new_run(api)["id"]
    points = [
        {"key": "loss", "value": 1.0 / (i + 1), "step": i, "timestamp": 1000 + i}
        for i in range(100)
    ]
    points += [{"key": "odd", "value": v, "step": i} for i, v in enumerate(["NaN", "Infinity", 2])]
    stored = api.post(f"{API}/runs/{rid}/metrics", json={"metrics": points})
    assert stored.json() == {"points": 103, "duplicate": False}

    history = api.get(f"{API}/runs/{rid}/metrics/history", params={"key": "loss"}).json()
    assert history["steps"] == list(range(100))
    assert history["timestamps"] == [1000 + i for i in range(100)]
    assert history["values"][:2] == [1.0, 0.5]
    odd = api.get(f"{API}/runs/{rid}/metrics/history", params={"key": "odd"}).json()
    assert odd["values"] == ["NaN", "Infinity", 2.0]
    assert api.get(f"{API}/runs/{rid}").json()["metrics"] == {"loss": 0.01, "odd": 2.0}

    small = api.get(f"{API}/runs/{rid}/metrics/history", params={"key": "loss", "max_points": 10})
    assert 2 <= len(small.json()["steps"]) <= 10
    binary = api.get(
        f"{API}/runs/{rid}/metrics/history",
        params={"key": "loss"},
        headers={"Accept": SERIES_MEDIA_TYPE},
    )
    assert binary.headers["content-type"] == SERIES_MEDIA_TYPE
    steps, _, values = decode_series(binary.content)
    np.testing.assert_array_equal(steps, np.arange(100))
    np.testing.assert_array_equal(values, 1.0 / (np.arange(100) + 1))

    empty = api.get(f"{API}/runs/{rid}/metrics/history", params={"key": "never"}).json()
    assert empty["steps"] == []
    too_few = api.get(f"{API}/runs/{rid}/metrics/history", params={"key": "loss", "max_points": 1})
    assert too_few.status_code == 422
    no_key = api.get(f"{API}/runs/{rid}/metrics/history")
    assert no_key.status_code == 422
    assert error_of(no_key)["field"] == "key"
    bad_key = api.post(f"{API}/runs/{rid}/metrics", json={"metrics": [{"key": "?", "value": 1}]})
    assert bad_key.status_code == 400
    assert error_of(bad_key)["field"] == "metric key"
    bad_value = api.post(
        f"{API}/runs/{rid}/metrics", json={"metrics": [{"key": "a", "value": "x"}]}
    )
    assert bad_value.status_code == 422
    assert error_of(bad_value)["field"] == "metrics.0.value"


def test_artifact_routes(api: httpx.Client) -> None:
    rid = new_run(api)["id"]
    data = b"hello artifacts\n" * 1000
    sha = hashlib.sha256(data).hexdigest()
    put = api.put(
        f"{API}/runs/{rid}/artifacts/dir/a.txt", content=data, headers={"X-Content-SHA256": sha}
    )
    assert put.status_code == 201
    assert put.json() == {"path": "dir/a.txt", "is_dir": False, "size": len(data), "sha256": sha}
    api.put(f"{API}/runs/{rid}/artifacts/b.bin", content=b"\x00\x01")

    listed = api.get(f"{API}/runs/{rid}/artifacts").json()["files"]
    assert [f["path"] for f in listed] == ["b.bin", "dir/a.txt"]
    under = api.get(f"{API}/runs/{rid}/artifacts", params={"path": "dir"}).json()["files"]
    assert [f["path"] for f in under] == ["dir/a.txt"]

    got = api.get(f"{API}/runs/{rid}/artifacts/dir/a.txt")
    assert got.content == data
    assert got.headers["X-Content-SHA256"] == sha
    assert got.headers["content-length"] == str(len(data))

    wrong = api.put(
        f"{API}/runs/{rid}/artifacts/dir/a.txt",
        content=b"something else",
        headers={"X-Content-SHA256": "0" * 64},
    )
    assert wrong.status_code == 400
    assert error_of(wrong)["field"] == "X-Content-SHA256"
    assert api.get(f"{API}/runs/{rid}/artifacts/dir/a.txt").content == data  # old one kept
    malformed_sha = api.put(
        f"{API}/runs/{rid}/artifacts/c.txt", content=b"x", headers={"X-Content-SHA256": "abc"}
    )
    assert malformed_sha.status_code == 400
    escape = api.put(f"{API}/runs/{rid}/artifacts/a/%2E%2E/%2E%2E/x.txt", content=b"x")
    assert escape.status_code == 400
    assert error_of(escape)["type"] == "InvalidInputError"
    long_name = api.put(f"{API}/runs/{rid}/artifacts/{'n' * 300}.txt", content=b"x")
    assert long_name.status_code == 400
    missing = api.get(f"{API}/runs/{rid}/artifacts/nope.txt")
    assert missing.status_code == 404
    assert error_of(missing)["type"] == "ArtifactNotFoundError"
    assert [f["path"] for f in api.get(f"{API}/runs/{rid}/artifacts").json()["files"]] == [
        "b.bin",
        "dir/a.txt",
    ]


def test_gc(api: httpx.Client) -> None:
    run = new_run(api)
    api.post(f"{API}/runs/delete", json={"run_ids": [run["id"]]})
    removed = api.post(f"{API}/gc", json={"older_than_ms": 0})
    assert removed.status_code == 200
    assert removed.json()["runs"] >= 1
    assert api.get(f"{API}/runs/{run['id']}").status_code == 404
    negative = api.post(f"{API}/gc", json={"older_than_ms": -1})
    assert negative.status_code == 422


@pytest.mark.parametrize("path", ["/health", "/api/v1/experiments", "/nothing"])
def test_every_response_has_a_request_id(api: httpx.Client, path: str) -> None:
    first = api.get(path).headers["X-Request-ID"]
    second = api.get(path).headers["X-Request-ID"]
    assert len(first) == 32
    assert first != second
    assert api.get(path, headers={"X-Request-ID": "trace-abc.1"}).headers["X-Request-ID"] == (
        "trace-abc.1"
    )
    bad = api.get(path, headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"]
    assert bad != "x" * 500
