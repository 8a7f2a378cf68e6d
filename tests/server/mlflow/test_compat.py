"""The behaviours MLflow's own REST tests check (tests/tracking/test_rest_tracking.py of
mlflow/mlflow), each driven here through the real ``mlflow`` client or raw HTTP against a
live ``mlcycle server`` on SQLite and PostgreSQL: validation messages, logging to a finished
run, the bulk history endpoints, dataset search, ``upload-artifact`` and ``get-artifact``,
GraphQL, ``server-info``, ``model_id`` on metrics and versions, MLflow's filters."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from tests.server.mlflow.conftest import Target

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def http(tracking: Target) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tracking.url, timeout=30) as client:
        yield client


def new_run(client: MlflowClient) -> str:
    experiment_id = client.create_experiment(unique("compat"))
    run_id: str = client.create_run(experiment_id).info.run_id
    return run_id


def bad_request(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    message: str = response.json()["message"]
    return message


def test_validation_messages_are_mlflows(tracking: Target, http: httpx.Client) -> None:
    create = f"{API}/experiments/create"
    message = bad_request(http.post(create, json={"name": 123}))
    assert "Invalid value 123 for parameter 'name' supplied" in message
    assert "Missing value for required parameter 'name'" in bad_request(http.post(create, json={}))
    wrong_location = {"name": unique("v"), "artifact_location": 9.0}
    assert "Invalid value 9.0 for parameter 'artifact_location'" in bad_request(
        http.post(create, json=wrong_location)
    )
    assert "Invalid value \"5\" for parameter 'tags'" in bad_request(
        http.post(create, json={"name": unique("v"), "tags": "5"})
    )
    run_id = new_run(MlflowClient())
    metric = {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1, "step": "foo"}
    assert "Invalid value \"foo\" for parameter 'step' supplied" in bad_request(
        http.post(f"{API}/runs/log-metric", json=metric)
    )
    # run and tag errors in MLflow's words, which its users match on
    with pytest.raises(MlflowException, match=r"Run .+ not found"):
        MlflowClient().delete_tag("no-such-run", "t")
    with pytest.raises(MlflowException, match="No tag with name: nope"):
        MlflowClient().delete_tag(run_id, "nope")
    with pytest.raises(MlflowException, match="Registered Model with name=nope-rm not found"):
        MlflowClient().get_registered_model("nope-rm")


def test_finished_run_takes_params_metrics_and_tags_but_deleted_run_refuses(
    tracking: Target,
) -> None:
    client = MlflowClient()
    run_id = new_run(client)
    client.set_terminated(run_id)
    # evaluation after training: MLflow takes these on a FINISHED run
    client.log_batch(
        run_id,
        metrics=[Metric("eval_auc", 0.91, 5, 0)],
        params=[Param("threshold", "0.4")],
        tags=[RunTag("evaluated", "yes")],
    )
    client.log_metric(run_id, "eval_f1", 0.8)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"eval_auc": 0.91, "eval_f1": 0.8}
    assert run.data.params == {"threshold": "0.4"}
    assert run.data.tags["evaluated"] == "yes"
    assert tracking.remote.get_run(run_id).metrics["eval_auc"] == 0.91
    client.delete_run(run_id)
    for write in (
        lambda: client.log_metric(run_id, "late", 1.0),
        lambda: client.log_param(run_id, "late", "1"),
        lambda: client.set_tag(run_id, "late", "1"),
    ):
        with pytest.raises(MlflowException, match=f"The run {run_id} must be in the 'active'"):
            write()


def test_bulk_history_endpoints(http: httpx.Client) -> None:
    client = MlflowClient()
    first, second = new_run(client), new_run(client)
    for step in range(10):
        client.log_metric(first, "loss", float(step), timestamp=100 - step, step=step)
    client.log_metric(second, "loss", 7.0, timestamp=1, step=0)
    bulk = http.get(
        f"{AJAX}/metrics/get-history-bulk",
        params={"run_id": [second, first], "metric_key": "loss", "max_results": 4},
    )
    assert bulk.status_code == 200, bulk.text
    # runs by ID, each run's points by timestamp (the first run's last step first here),
    # at most max_results in all
    of_first = [(first, step) for step in (9, 8, 7, 6)]
    expected = of_first if first < second else [(second, 0), *of_first[:3]]
    assert [(p["run_id"], p["step"]) for p in bulk.json()["metrics"]] == expected
    assert "at least one run_id" in bad_request(
        http.get(f"{AJAX}/metrics/get-history-bulk", params={"metric_key": "loss"})
    )

    interval = http.get(
        f"{AJAX}/metrics/get-history-bulk-interval",
        params={"run_ids": [first], "metric_key": "loss", "max_results": 5},
    )
    # MLflow 3.17's sampling: the first point of each of 5 equal buckets, the last kept
    assert [p["step"] for p in interval.json()["metrics"]] == [0, 2, 4, 6, 9]
    window = http.get(
        f"{AJAX}/metrics/get-history-bulk-interval",
        params={"run_ids": [first], "metric_key": "loss", "start_step": 2, "end_step": 4},
    )
    assert [p["step"] for p in window.json()["metrics"]] == [2, 3, 4]
    assert "max_results must be between 1 and 2500" in bad_request(
        http.get(
            f"{AJAX}/metrics/get-history-bulk-interval",
            params={"run_ids": [first], "metric_key": "loss", "max_results": 0},
        )
    )
    assert "both must be specified" in bad_request(
        http.get(
            f"{AJAX}/metrics/get-history-bulk-interval",
            params={"run_ids": [first], "metric_key": "loss", "start_step": 1},
        )
    )


def test_dataset_search(http: httpx.Client) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(unique("datasets"))
    run_id = client.create_run(experiment_id).info.run_id
    dataset = Dataset(name="train", digest="d1", source_type="local", source="train.csv")
    context = InputTag(key="mlflow.data.context", value="training")
    client.log_inputs(run_id, [DatasetInput(dataset=dataset, tags=[context])])
    found = http.post(
        f"{AJAX}/experiments/search-datasets", json={"experiment_ids": [experiment_id]}
    )
    assert found.json()["dataset_summaries"] == [
        {"experiment_id": experiment_id, "name": "train", "digest": "d1", "context": "training"}
    ]
    assert "at least one experiment_id" in bad_request(
        http.post(f"{AJAX}/experiments/search-datasets", json={})
    )


def test_upload_and_get_artifact_and_path_rules(http: httpx.Client) -> None:
    run_id = new_run(MlflowClient())
    upload = f"{AJAX}/upload-artifact"
    assert (
        http.post(upload, params={"run_uuid": run_id, "path": "a/b.txt"}, content=b"hi").json()
        == {}
    )
    got = http.get("/get-artifact", params={"run_uuid": run_id, "path": "a/b.txt"})
    assert got.status_code == 200
    assert got.content == b"hi"
    assert [f.path for f in MlflowClient().list_artifacts(run_id, "a")] == ["a/b.txt"]
    assert bad_request(http.post(upload, params={})) == "Request must specify run_uuid."
    assert bad_request(http.post(upload, params={"run_uuid": run_id, "path": "x"})) == (
        "Request must specify data."
    )
    for response in (
        http.post(upload, params={"run_uuid": run_id, "path": "../x"}, content=b"1"),
        http.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "../x"}),
        http.get("/get-artifact", params={"run_id": run_id, "path": "../x"}),
        # a repeated slash names the same route, as on MLflow's server
        http.get(
            f"{http.base_url}/model-versions/get-artifact",  # base_url ends with "/"
            params={"name": "m", "version": 1, "path": "../x"},
        ),
    ):
        assert bad_request(response) == "Invalid path"


def graphql(http: httpx.Client, query: str) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "operationName": "q"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_graphql_queries_mlflows_ui_sends(http: httpx.Client, tmp_path: Path) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(unique("gql"))
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "loss", 0.5, timestamp=1, step=1)
    client.log_metric(run_id, "broken", math.nan, timestamp=2, step=2)
    (tmp_path / "notes.txt").write_text("hello")
    client.log_artifact(run_id, str(tmp_path / "notes.txt"), "docs")
    body = graphql(
        http,
        f"""query q @component(name: "Run") {{
            mlflowGetRun(input: {{runId: "{run_id}"}}) {{
                run {{ info {{ status runId }} experiment {{ name }}
                       data {{ metrics {{ key value timestamp step }} }} }} }} }}""",
    )
    assert body["errors"] is None
    run = body["data"]["mlflowGetRun"]["run"]
    assert run["info"] == {"status": "RUNNING", "runId": run_id}
    assert run["experiment"]["name"] == client.get_experiment(experiment_id).name
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["loss"] == {"key": "loss", "value": 0.5, "timestamp": "1", "step": "1"}
    assert metrics["broken"]["value"] is None  # NaN is null in GraphQL
    files = graphql(
        http,
        f'query q {{ files: mlflowListArtifacts(input: {{runId: "{run_id}"}}) '
        "{ files { path isDir fileSize } } }",
    )
    assert files["data"]["files"]["files"] == [{"path": "docs", "isDir": True, "fileSize": "0"}]
    runs = graphql(
        http,
        f'mutation q {{ mlflowSearchRuns(input: {{experimentIds: ["{experiment_id}"]}}) '
        "{ runs { info { runId } } } }",
    )
    assert runs["data"]["mlflowSearchRuns"]["runs"] == [{"info": {"runId": run_id}}]
    history = graphql(
        http,
        f'query q {{ mlflowGetMetricHistoryBulkInterval(input: {{runIds: ["{run_id}"], '
        'metricKey: "loss"}) { metrics { key value runId } } }',
    )
    assert history["data"]["mlflowGetMetricHistoryBulkInterval"]["metrics"] == [
        {"key": "loss", "value": 0.5, "runId": run_id}
    ]
    missing = graphql(
        http,
        'query q { mlflowGetExperiment(input: {experimentId: "nope"}) '
        "{ experiment { name } apiError { code } } }",
    )
    assert missing["data"]["mlflowGetExperiment"] == {
        "experiment": None,
        "apiError": {"code": "RESOURCE_DOES_NOT_EXIST"},
    }
    wide = "query q {" + " ".join(f'k{i}: test(inputString: "a") {{ output }}' for i in range(12))
    assert "at most 10 root fields" in graphql(http, wide + "}")["errors"][0]


def test_server_info_and_the_newer_clients_fields(http: httpx.Client) -> None:
    info = http.get("/api/3.0/mlflow/server-info").json()
    assert info["artifacts_presigned_only"] is False
    assert info["multipart_uploads_enabled"] is False
    assert info["store_type"] == "SqlStore"


def test_model_id_on_metrics_and_versions(tracking: Target) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(unique("model-id"))
    run_id = client.create_run(experiment_id).info.run_id
    model = client.create_logged_model(experiment_id, source_run_id=run_id)
    client.log_metric(
        run_id,
        "auc",
        0.7,
        timestamp=9,
        step=1,
        model_id=model.model_id,
        dataset_name="test",
        dataset_digest="d",
    )
    assert client.get_logged_model(model.model_id).metrics == [
        Metric(
            "auc",
            0.7,
            9,
            1,
            model_id=model.model_id,
            dataset_name="test",
            dataset_digest="d",
            run_id=run_id,
        )
    ]
    name = unique("rm")
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, model.artifact_location, model_id=model.model_id)
    assert client.get_logged_model(model.model_id).tags["mlflow.modelVersions"] == (
        f'[{{"name": "{name}", "version": 1}}, {{"name": "{name}", "version": 2}}]'
    )
    searched = client.search_logged_models(
        experiment_ids=[experiment_id], datasets=[{"dataset_name": "test"}]
    )
    assert [m.model_id for m in searched] == [model.model_id]


def test_mlflow_filters_use_the_search_language(tracking: Target, http: httpx.Client) -> None:
    client = MlflowClient()
    prefix = unique("flt")
    client.create_experiment(f"{prefix}-a", tags={"key": "value"})
    client.create_experiment(f"{prefix}-ab", tags={"key": "vaLue"})
    client.create_experiment(f"{prefix}-Abc")

    def names(filter_string: str) -> list[str]:
        found = client.search_experiments(
            filter_string=f"name LIKE '{prefix}%' AND {filter_string}"
        )
        return sorted(e.name.removeprefix(prefix + "-") for e in found)

    assert names("tag.key != 'value'") == ["ab"]  # an experiment without the tag: no match
    assert names("tags.key ILIKE '%alu%'") == ["a", "ab"]
    assert names("(attribute.name = 'x' OR tags.key = 'value')") == ["a"]
    # the same parser as run search: the same message for the same mistake
    response = http.post(f"{API}/experiments/search", json={"filter": "name = 'a' AND nope = 1"})
    message = bad_request(response)
    assert "Invalid filter at position 15: unknown attribute 'nope'" in message
    runs = http.post(f"{API}/runs/search", json={"filter": "metrics.m LIKE 'a'"})
    assert "Invalid filter at position 10: LIKE does not apply" in bad_request(runs)


def test_mlflow_318s_stricter_names_and_values(tracking: Target, http: httpx.Client) -> None:
    nul = bad_request(http.post(f"{API}/experiments/create", json={"name": "a\x00b"}))
    assert nul == "'name' cannot contain NUL (0x00) characters"
    run_id = new_run(MlflowClient())
    tag = {"run_id": run_id, "key": "k", "value": "a\x00"}
    assert "cannot contain NUL" in bad_request(http.post(f"{API}/runs/set-tag", json=tag))
    # a key is matched whole: a final newline is not allowed
    newline = {"run_id": run_id, "key": "k\n", "value": "v"}
    assert "tag key 'k\\n' may contain only" in bad_request(
        http.post(f"{API}/runs/set-tag", json=newline)
    )
    assert MlflowClient().get_run(run_id).data.tags.get("k") is None
