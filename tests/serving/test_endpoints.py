"""The endpoints of ``mlcycle serve`` over real HTTP: every input format, OIP, health,
metadata, headers and metrics."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

import mlcycle
from tests.models._models import FEATURES
from tests.serving.conftest import Home, churn_rows, log_churn
from tests.serving.live import ServeProcess, metric

pytestmark = pytest.mark.slow  # real server processes (each starts in seconds)


@pytest.fixture(scope="module")
def server(home: Home) -> Iterator[ServeProcess]:
    version = log_churn(home.client, "churn")
    home.client.registry.set_alias("churn", "champion", version)
    process = ServeProcess(
        ["serve", "models:/churn@champion", "--max-latency-ms", "1"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "serve.log",
    )
    with process:
        yield process


def _post(server: ServeProcess, path: str, body: object, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=30)


def test_health_and_server_metadata(server: ServeProcess) -> None:
    assert httpx.get(f"{server.url}/ping").status_code == 200
    assert httpx.get(f"{server.url}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{server.url}/v2/health/ready").json() == {"ready": True}
    assert httpx.get(f"{server.url}/v2/models/churn/ready").json() == {
        "name": "churn",
        "ready": True,
    }
    assert httpx.get(f"{server.url}/v2").json()["name"] == "mlcycle"


def test_model_metadata_lists_the_signature(server: ServeProcess) -> None:
    meta = httpx.get(f"{server.url}/v2/models/churn").json()
    assert meta["name"] == "churn"
    assert meta["versions"] == ["1"]
    assert [i["name"] for i in meta["inputs"]] == FEATURES
    assert [i["datatype"] for i in meta["inputs"]] == ["FP64", "FP64", "INT64", "BYTES"]
    assert [o["name"] for o in meta["outputs"]] == ["predict", "predict_proba"]
    assert httpx.get(f"{server.url}/v2/models/nope").status_code == 404


def test_every_mlflow_format_gives_the_same_predictions(server: ServeProcess) -> None:
    rows = churn_rows(5)
    split = {"columns": FEATURES, "data": [[r[c] for c in FEATURES] for r in rows]}
    bodies = [
        {"dataframe_split": split},
        {"dataframe_records": rows},
        {"instances": rows},
        {"instances": split["data"]},
        {"inputs": {c: [r[c] for r in rows] for c in FEATURES}},
        {"inputs": rows},
    ]
    answers = []
    for body in bodies:
        response = _post(server, "/invocations", body)
        assert response.status_code == 200, response.text
        answers.append(response.json()["predictions"])
    assert all(a == answers[0] for a in answers)
    assert len(answers[0]) == 5
    assert set(answers[0]) <= {0, 1}
    csv = "tenure,charges,calls,plan\n" + "\n".join(
        f"{r['tenure']},{r['charges']},{r['calls']},{r['plan']}" for r in rows
    )
    response = httpx.post(
        f"{server.url}/invocations", content=csv, headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == answers[0]


def test_oip_infer_with_one_tensor_per_column(server: ServeProcess) -> None:
    rows = churn_rows(3)
    types = {"tenure": "FP64", "charges": "FP64", "calls": "INT64", "plan": "BYTES"}
    body = {
        "id": "req-1",
        "inputs": [
            {"name": c, "shape": [3], "datatype": types[c], "data": [r[c] for r in rows]}
            for c in FEATURES
        ],
    }
    response = _post(server, "/v2/models/churn/infer", body)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["model_name"] == "churn"
    assert document["model_version"] == "1"
    assert document["id"] == "req-1"
    predict, proba = document["outputs"]
    assert predict["name"] == "predict"
    assert predict["shape"] == [3]
    assert proba["shape"] == [3, 2]
    assert len(proba["data"]) == 6
    assert proba["parameters"]["classes"] == [0, 1]
    pairs = [proba["data"][i : i + 2] for i in range(0, 6, 2)]
    assert all(abs(sum(p) - 1.0) < 1e-9 for p in pairs)
    assert predict["data"] == [int(p[1] > 0.5) for p in pairs]
    mlflow = _post(server, "/invocations", {"dataframe_records": rows}).json()
    assert mlflow["predictions"] == predict["data"]
    only = dict(body, outputs=[{"name": "predict_proba"}])
    outputs = _post(server, "/v2/models/churn/infer", only).json()["outputs"]
    assert [o["name"] for o in outputs] == ["predict_proba"]
    versioned = _post(server, "/v2/models/churn/versions/1/infer", body)
    assert versioned.status_code == 200
    assert _post(server, "/v2/models/churn/versions/7/infer", body).status_code == 404


def test_responses_name_the_version_and_the_request(server: ServeProcess) -> None:
    response = _post(server, "/invocations", {"dataframe_records": churn_rows(1)})
    assert response.headers["x-model-name"] == "churn"
    assert response.headers["x-model-version"] == "1"
    assert response.headers["x-deployment-arm"] == "default"
    assert len(response.headers["x-request-id"]) == 32
    mine = _post(
        server, "/invocations", {"dataframe_records": churn_rows(1)}, **{"x-request-id": "abc-1"}
    )
    assert mine.headers["x-request-id"] == "abc-1"
    error = _post(server, "/invocations", {"nope": 1}, **{"x-request-id": "abc-2"})
    assert error.headers["x-request-id"] == "abc-2"
    assert error.json()["request_id"] == "abc-2"


def test_metrics_count_requests_latency_and_batches(server: ServeProcess) -> None:
    for _ in range(3):
        assert _post(server, "/invocations", {"dataframe_records": churn_rows(2)}).is_success
    text = httpx.get(f"{server.url}/metrics").text
    labels = {"deployment": "churn", "arm": "default", "version": "1"}
    assert metric(text, "mlcycle_serving_requests_total", code="200", **labels) >= 3
    assert metric(text, "mlcycle_serving_request_duration_seconds_count", **labels) >= 3
    assert metric(text, "mlcycle_serving_batch_rows_sum", **labels) >= 6
    assert "mlcycle_serving_prediction_log_dropped_rows_total" in text


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"dataframe_records": [{"tenure": 1.0, "charges": 2.0, "calls": 3}]}, "plan", "missing"),
        (
            {"dataframe_records": [dict(churn_rows(1)[0], extra=1)]},
            "extra",
            "not an input",
        ),
        ({"dataframe_records": [dict(churn_rows(1)[0], tenure="long")]}, "tenure", "string"),
        ({"dataframe_records": [dict(churn_rows(1)[0], calls=2.5)]}, "calls", "float"),
        ({"dataframe_records": [dict(churn_rows(1)[0], plan=3)]}, "plan", "integer"),
        ({"instances": [[1.0, 2.0, 3]]}, "data", "3 values"),
        # issue 17: these reached the model (500) or were answered 200
        ({"dataframe_records": [dict(churn_rows(1)[0], calls=None)]}, "calls", "row 0"),
        ({"dataframe_records": [dict(churn_rows(1)[0], plan=None)]}, "plan", "missing value"),
        ({"dataframe_records": [dict(churn_rows(1)[0], tenure=None)]}, "tenure", "null"),
        ({"dataframe_records": [dict(churn_rows(1)[0], calls=2**64)]}, "calls", "64 bits"),
        # found by the reliability corpus: parsed as the float -2**63, it was answered 200
        ({"dataframe_records": [dict(churn_rows(1)[0], calls=-(2**63) - 1)]}, "calls", "64 bits"),
        (
            {"dataframe_records": [churn_rows(1)[0], dict(churn_rows(1)[0], calls=2**63)]},
            "calls",
            "row 1",
        ),
    ],
)
def test_input_breaking_the_signature_is_422_naming_the_column(
    server: ServeProcess, body: object, field: str, words: str
) -> None:
    response = _post(server, "/invocations", body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["field"] == field
    assert words in error["message"]
    assert error["error_code"] == "BAD_REQUEST"


def test_safe_values_are_accepted(server: ServeProcess) -> None:
    row = dict(churn_rows(1)[0], tenure=12, calls=4.0)  # int for float; integral float
    assert _post(server, "/invocations", {"dataframe_records": [row]}).status_code == 200


@pytest.mark.parametrize(
    ("path", "content", "status"),
    [
        ("/invocations", b"{not json", 400),
        ("/invocations", b"[1, 2]", 400),
        ("/invocations", b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', 400),
        ("/invocations", b'{"instances": [], "inputs": []}', 400),
        ("/invocations", b'{"dataframe_records": []}', 400),
        ("/v2/models/churn/infer", b'{"inputs": []}', 400),
        (
            "/v2/models/churn/infer",
            b'{"inputs": [{"name": "tenure", "shape": [2], "datatype": "FP64", "data": [1]}]}',
            400,
        ),
        (
            "/v2/models/churn/infer",
            b'{"inputs": [{"name": "tenure", "shape": [1], "datatype": "FP99", "data": [1]}]}',
            400,
        ),
        ("/feedback", b'{"label": 1}', 400),
    ],
)
def test_malformed_bodies_are_400(
    server: ServeProcess, path: str, content: bytes, status: int
) -> None:
    response = httpx.post(
        f"{server.url}{path}", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.json()["type"] == "MalformedRequestError"


def test_oip_tensor_of_the_wrong_type_is_422(server: ServeProcess) -> None:
    row = dict(churn_rows(1)[0], calls=1.5)  # calls is an integer column
    tensors: list[dict[str, object]] = [
        {"name": c, "shape": [1], "datatype": "BYTES" if c == "plan" else "FP64", "data": [row[c]]}
        for c in FEATURES
    ]
    body = {"inputs": tensors}
    response = _post(server, "/v2/models/churn/infer", body)
    assert response.status_code == 422
    assert response.json()["field"] == "calls"
    assert isinstance(response.json()["error"], str)  # OIP: the message is a string


def test_unsupported_content_type_is_415(server: ServeProcess) -> None:
    response = httpx.post(
        f"{server.url}/invocations", content=b"x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415


def test_no_500_from_bad_input(server: ServeProcess) -> None:
    text = httpx.get(f"{server.url}/metrics").text
    assert metric(text, "mlcycle_serving_requests_total", code="500") == 0
    assert "Traceback" not in server.log()


def test_feedback_is_stored_and_unknown_ids_are_reported(server: ServeProcess, home: Home) -> None:
    first = _post(server, "/invocations", {"dataframe_records": churn_rows(1)})
    second = _post(server, "/invocations", {"dataframe_records": churn_rows(1, seed=2)})
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    one = _post(server, "/feedback", {"request_id": ids[0], "label": 1})
    assert one.status_code == 200
    assert one.json() == {"stored": 1, "unknown": []}
    many = _post(
        server,
        "/feedback",
        [{"request_id": ids[1], "label": 0}, {"request_id": "never-seen", "label": 1}],
    )
    assert many.json() == {"stored": 1, "unknown": ["never-seen"]}
    labels = mlcycle.deployments.feedback("churn", client=home.client)
    assert sorted(labels["request_id"]) == sorted(ids)


def test_prediction_log_after_shutdown(server: ServeProcess, home: Home) -> None:
    """Runs last in this module: it stops the module's server, which writes its log."""
    rows = churn_rows(3, seed=5)
    response = _post(
        server, "/invocations", {"dataframe_records": rows}, **{"x-request-id": "logged-1"}
    )
    predictions = response.json()["predictions"]
    assert server.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a clean stop
    log = mlcycle.deployments.prediction_log("churn", client=home.client)
    mine = log[log["request_id"] == "logged-1"]
    assert mine["row"].tolist() == [0, 1, 2]
    assert mine["prediction"].tolist() == predictions
    assert set(mine["deployment"]) == {"churn"}
    assert set(mine["model"]) == {"churn"}
    assert mine["version"].tolist() == [1, 1, 1]
    assert set(mine["arm"]) == {"default"}
    assert mine["input.plan"].tolist() == [r["plan"] for r in rows]
    assert mine["input.calls"].tolist() == [r["calls"] for r in rows]
    assert ((mine["proba.0"] + mine["proba.1"] - 1.0).abs() < 1e-9).all()
    assert (mine["latency_ms"] > 0).all()
    assert len(log) > len(mine)  # the other tests' requests are there too
