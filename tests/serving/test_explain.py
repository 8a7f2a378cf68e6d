"""``POST /v2/models/{name}/explain`` over real HTTP: attributions that add up to the
answered version's output, bounded cost (rows, time budget), and the prediction log."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import xgboost as xgb

from mlcycle.deployments.prediction_logs import read_prediction_log
from mlcycle.entities.registry import ModelVersion
from tests.models._models import FEATURES, NUMERIC, churn_frame
from tests.serving.conftest import Home, churn_rows, log_churn
from tests.serving.live import ServeProcess

pytestmark = pytest.mark.slow  # real server processes (each starts in seconds)


def _log_gbm(home: Home) -> int:
    frame = churn_frame(400, seed=2)
    model = xgb.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1)
    model.fit(frame[NUMERIC], frame["churned"])
    with home.client.start_run("explain", capture_environment=False) as run:
        info = run.log_model(model, "model", input_example=frame[NUMERIC].head(20), register="gbm")
    assert isinstance(info.registered_version, ModelVersion)
    return info.registered_version.version


@pytest.fixture(scope="module")
def gbm(home: Home) -> Iterator[tuple[ServeProcess, Home]]:
    _log_gbm(home)
    process = ServeProcess(
        ["serve", "models:/gbm/1", "--max-latency-ms", "1"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "serve-gbm.log",
    )
    with process:
        yield process, home


def _body(rows: list[dict[str, object]], columns: list[str], **parameters: object) -> object:
    types = {"tenure": "FP64", "charges": "FP64", "calls": "INT64", "plan": "BYTES"}
    return {
        "inputs": [
            {"name": c, "shape": [len(rows)], "datatype": types[c], "data": [r[c] for r in rows]}
            for c in columns
        ],
        "parameters": parameters,
    }


def test_explain_returns_attributions_that_add_up_to_the_answer(
    gbm: tuple[ServeProcess, Home],
) -> None:
    server, _ = gbm
    rows = churn_rows(4)
    response = httpx.post(
        f"{server.url}/v2/models/gbm/explain", json=_body(rows, NUMERIC), timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-model-version"] == "1"
    document = response.json()
    explanation = document["explanation"]
    assert explanation["method"] == "tree"
    assert explanation["features"] == NUMERIC
    values = np.asarray(explanation["attributions"])
    assert values.shape == (4, 3)
    proba = next(o for o in document["outputs"] if o["name"] == "predict_proba")
    p = np.asarray(proba["data"]).reshape(4, 2)[:, 1]
    total = values.sum(axis=1) + explanation["base_value"]
    np.testing.assert_allclose(total, np.log(p / (1 - p)), atol=1e-4)
    pinned = httpx.post(
        f"{server.url}/v2/models/gbm/versions/1/explain", json=_body(rows, NUMERIC), timeout=60
    )
    assert pinned.json()["explanation"]["attributions"] == explanation["attributions"]


def test_explain_refuses_beyond_its_bounds(gbm: tuple[ServeProcess, Home]) -> None:
    server, _ = gbm
    url = f"{server.url}/v2/models/gbm/explain"
    too_many = httpx.post(url, json=_body(churn_rows(101), NUMERIC), timeout=60)
    assert too_many.status_code == 422
    assert too_many.json()["field"] == "inputs"
    for budget in (0, -5, "soon", 10**9):
        bad = httpx.post(url, json=_body(churn_rows(1), NUMERIC, budget_ms=budget), timeout=60)
        assert bad.status_code == 422, bad.text
        assert bad.json()["field"] == "budget_ms"
    missing = httpx.post(url, json=_body(churn_rows(1), NUMERIC[:2]), timeout=60)
    assert missing.status_code == 422
    assert missing.json()["field"] == "calls"
    assert httpx.post(f"{server.url}/v2/models/other/explain", json={}).status_code == 404


def test_a_model_agnostic_explanation_past_its_budget_is_refused(home: Home) -> None:
    log_churn(home.client, "pipeline")
    process = ServeProcess(
        ["serve", "models:/pipeline/1", "--max-latency-ms", "1"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "serve-pipeline.log",
    )
    with process:
        url = f"{process.url}/v2/models/pipeline/explain"
        slow = httpx.post(url, json=_body(churn_rows(50), FEATURES, budget_ms=1), timeout=60)
        assert slow.status_code == 422, slow.text
        assert "budget" in slow.json()["error"]
        done = httpx.post(url, json=_body(churn_rows(2), FEATURES, budget_ms=20_000), timeout=60)
        assert done.status_code == 200, done.text
        assert done.json()["explanation"]["method"] == "kernel"


def test_explanations_are_logged_when_asked(home: Home) -> None:
    _log_gbm(home)
    process = ServeProcess(
        ["serve", "models:/gbm/2", "--name", "gbm-logged", "--max-latency-ms", "1"],
        tracking_uri=home.tracking_uri,
        artifact_uri=home.artifact_uri,
        log_path=home.root / "serve-logged.log",
    )
    with process:
        url = f"{process.url}/v2/models/gbm-logged/explain"
        asked = httpx.post(
            url,
            json=_body(churn_rows(2), NUMERIC, log_explanation=True),
            headers={"x-request-id": "asked"},
            timeout=60,
        )
        assert asked.status_code == 200, asked.text
        plain = httpx.post(
            url, json=_body(churn_rows(1), NUMERIC), headers={"x-request-id": "plain"}
        )
        assert plain.status_code == 200
    log = read_prediction_log(home.artifact_uri, "gbm-logged")
    asked_rows = log[log["request_id"] == "asked"]
    assert len(asked_rows) == 2
    np.testing.assert_allclose(
        asked_rows[[f"shap.{c}" for c in NUMERIC]].to_numpy(),
        np.asarray(asked.json()["explanation"]["attributions"]),
    )
    plain_rows = log[log["request_id"] == "plain"]
    assert len(plain_rows) == 1
    assert plain_rows[[f"shap.{c}" for c in NUMERIC]].isna().all(axis=None)
