"""A malformed-body corpus against every MLflow route on both stores: wrong types, huge
integers, NUL characters, deep nesting, non-JSON. No answer may be a 5xx (a 503 tells
clients to retry; bad input must be a 4xx). Counts are printed (``pytest -s``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from mlcycle.server.mlflow import experiments, logged_models, metrics, registry, runs, search
from mlcycle.server.mlflow.artifacts import endpoints as artifact_endpoints
from tests.server.conftest import unique

GROUPS = (
    experiments.endpoints,
    runs.endpoints,
    search.endpoints,
    metrics.endpoints,
    logged_models.endpoints,
    registry.endpoints,
    artifact_endpoints,
)
FIELDS = (
    "run_id", "experiment_id", "name", "key", "value", "step", "timestamp", "version",
    "filter", "start_time", "end_time", "new_name", "alias", "max_results", "page_token",
    "experiment_ids", "metrics", "params", "tags", "model_id", "source", "order_by",
)  # fmt: skip
VALUES: tuple[Any, ...] = (
    2**70, -(2**70), 2**63, "9" * 40, True, None, [], {}, [[[[]]]], "a\x00b", "x" * 70_000,
    "(" * 500, " OR ".join(["metrics.a > 1"] * 600), -1, 1.5, "NaN", {"a": {"b": [1]}},
)  # fmt: skip
RAW = (b"{", b"[]", b"null", b"\x00\xff\xfe", b'{"a":' * 2000, b'"text"', b"1e999")


def _bodies(run_id: str, exp_id: str) -> list[Any]:
    bodies: list[Any] = []
    for field in FIELDS:
        for value in VALUES:
            bodies.append({"run_id": run_id, "experiment_id": exp_id, "name": "m", field: value})
    bodies.append({"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 2**70}]})
    bodies.append({"run_id": run_id, "params": [{"key": "p", "value": "\x00"}] * 10})
    bodies.append({"experiment_ids": [str(i) for i in range(100_000)]})
    return bodies


@pytest.mark.slow
def test_no_5xx_from_a_malformed_body_corpus(api: httpx.Client) -> None:
    exp_id = api.post("/api/2.0/mlflow/experiments/create", json={"name": unique()}).json()[
        "experiment_id"
    ]
    run_id = api.post("/api/2.0/mlflow/runs/create", json={"experiment_id": exp_id}).json()["run"][
        "info"
    ]["run_id"]
    bodies = _bodies(run_id, exp_id)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for group in GROUPS:
        for endpoint in group.items:
            path = "/api/2.0/mlflow" + endpoint.path
            if "{" in path or endpoint.method == "GET":
                continue  # query-string and path routes: covered by the schema run
            for body in bodies[:: max(1, len(bodies) // 40)]:
                response = api.request(endpoint.method, path, json=body)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{endpoint.method} {path} {str(body)[:80]}: {response.text}")
            for raw in RAW:
                response = api.request(
                    endpoint.method, path, content=raw,
                    headers={"content-type": "application/json"},
                )  # fmt: skip
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{endpoint.method} {path} {raw[:20]!r}: {response.text}")
    print(f"malformed corpus: {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert not failures, "\n".join(failures[:20])
