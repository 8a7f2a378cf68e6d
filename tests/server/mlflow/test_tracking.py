"""Experiments, runs, params, metrics, tags and search through MLflow's client, read back
through mlcycle's (and the other way round)."""

from __future__ import annotations

import time
import uuid

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

from tests.server.mlflow.conftest import Target


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_fluent_run_with_params_metrics_tags_and_nested_run(tracking: Target) -> None:
    name = unique("mlflow-fluent")
    experiment = mlflow.set_experiment(name)
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"depth": 3, "model": "tree"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=4)
        mlflow.set_tag("team", "search")
        mlflow.set_tags({"stage": "dev", "owner": "ana"})
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("loss", 0.5)
    fetched = MlflowClient().get_run(parent.info.run_id)
    assert fetched.info.run_name == "parent"
    assert fetched.info.status == "FINISHED"
    assert fetched.info.experiment_id == experiment.experiment_id
    assert fetched.data.params == {"lr": "0.01", "depth": "3", "model": "tree"}
    assert fetched.data.metrics == {"loss": 0.2, "acc": 0.9, "f1": 0.8}
    assert fetched.data.tags["team"] == "search"
    assert fetched.data.tags["mlflow.runName"] == "parent"
    history = MlflowClient().get_metric_history(parent.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]

    # the same data through mlcycle's client
    mc = tracking.remote
    assert mc.get_experiment(name).id == experiment.experiment_id
    run = mc.get_run(parent.info.run_id)
    assert run.name == "parent"
    assert run.status.value == "FINISHED"
    assert dict(run.params) == {"lr": "0.01", "depth": "3", "model": "tree"}
    assert dict(run.metrics) == {"loss": 0.2, "acc": 0.9, "f1": 0.8}
    assert run.tags["stage"] == "dev"
    assert run.tags["owner"] == "ana"
    assert mc.get_run(child.info.run_id).parent_id == parent.info.run_id
    series = mc.get_metric_history(parent.info.run_id, "loss")
    np.testing.assert_array_equal(series.steps, np.arange(5))
    np.testing.assert_allclose(series.values, [1.0 / (s + 1) for s in range(5)])


def test_log_batch_and_metric_history_with_steps(tracking: Target) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(unique("mlflow-batch"))
    run = client.create_run(experiment_id, run_name="batch")
    now = int(time.time() * 1000)
    metrics = [Metric("x", float(i) * 0.5, now + i, i) for i in range(1500)]
    metrics.append(Metric("bad", float("nan"), now, 0))
    client.log_batch(
        run.info.run_id,
        metrics=metrics,
        params=[Param("p", "1")],
        tags=[RunTag("t", "v"), RunTag("mlflow.note.content", "a note")],
    )
    history = client.get_metric_history(run.info.run_id, "x")
    assert len(history) == 1500
    assert [m.step for m in history[:3]] == [0, 1, 2]
    assert history[-1].value == 1499 * 0.5
    assert history[-1].timestamp == now + 1499
    fetched = client.get_run(run.info.run_id)
    assert fetched.data.params == {"p": "1"}
    assert np.isnan(fetched.data.metrics["bad"])
    assert fetched.data.tags["mlflow.note.content"] == "a note"
    client.set_terminated(run.info.run_id)

    mc_run = tracking.remote.get_run(run.info.run_id)
    assert mc_run.description == "a note"
    assert len(tracking.remote.get_metric_history(run.info.run_id, "x")) == 1500


def test_mlcycle_writes_are_what_mlflow_reads(tracking: Target) -> None:
    name = unique("mlcycle-first")
    with tracking.remote.start_run(name, name="from-mlcycle", capture_environment=False) as run:
        run.log_params({"alpha": 0.5})
        for step in range(3):
            run.log_metric("rmse", 3.0 - step, step=step)
        run.set_tags({"source": "mlcycle"})
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    assert experiment.lifecycle_stage == "active"
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment.experiment_id}"
    fetched = client.get_run(run.id)
    assert fetched.info.run_name == "from-mlcycle"
    assert fetched.data.params == {"alpha": "0.5"}
    assert fetched.data.metrics == {"rmse": 1.0}
    assert fetched.data.tags["source"] == "mlcycle"
    assert [m.value for m in client.get_metric_history(run.id, "rmse")] == [3.0, 2.0, 1.0]
    found = client.search_runs([experiment.experiment_id], "params.alpha = '0.5'")
    assert [r.info.run_id for r in found] == [run.id]


def _populate(client: MlflowClient, experiment_id: str) -> dict[str, str]:
    ids = {}
    for i, (model, acc) in enumerate(
        [("tree", 0.9), ("tree", 0.7), ("linear", 0.8), ("tree", 0.4), ("linear", 0.95)]
    ):
        run = client.create_run(experiment_id, run_name=f"r{i}", start_time=1_000 + i)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("acc", acc, 0, 0)],
            params=[Param("model", model)],
            tags=[RunTag("i", str(i))],
        )
        if i != 2:
            client.set_terminated(run.info.run_id)
        ids[f"r{i}"] = run.info.run_id
    client.create_run(experiment_id, run_name="empty", start_time=999)  # no metric at all
    return ids


def test_search_runs_filters_order_and_pages(tracking: Target) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(unique("mlflow-search"))
    ids = _populate(client, experiment_id)

    def names(runs: list[mlflow.entities.Run]) -> list[str]:
        return [r.info.run_name for r in runs]

    found = client.search_runs(
        [experiment_id],
        "metrics.acc > 0.5 and params.model = 'tree'",
        order_by=["metrics.acc DESC"],
    )
    assert names(found) == ["r0", "r1"]
    assert names(client.search_runs([experiment_id], order_by=["metrics.acc ASC"])) == [
        "r3",
        "r1",
        "r2",
        "r0",
        "r4",
        "empty",
    ]  # runs without the metric last
    assert names(client.search_runs([experiment_id])) == ["r4", "r3", "r2", "r1", "r0", "empty"]
    assert names(client.search_runs([experiment_id], "attributes.status = 'RUNNING'")) == [
        "r2",
        "empty",
    ]
    assert names(
        client.search_runs(
            [experiment_id], "attributes.run_name LIKE 'r%'", order_by=["attributes.run_name"]
        )
    ) == ["r0", "r1", "r2", "r3", "r4"]
    assert names(client.search_runs([experiment_id], "tags.i IN ('1', '3')")) == ["r3", "r1"]
    assert names(client.search_runs([experiment_id], f"attributes.run_id = '{ids['r2']}'")) == [
        "r2"
    ]
    assert names(client.search_runs([experiment_id], "tags.`mlflow.runName` = 'r3'")) == ["r3"]

    first = client.search_runs([experiment_id], max_results=2, order_by=["metrics.acc DESC"])
    assert names(first) == ["r4", "r0"]
    assert first.token
    second = client.search_runs(
        [experiment_id], max_results=2, order_by=["metrics.acc DESC"], page_token=first.token
    )
    assert names(second) == ["r2", "r1"]

    frame = mlflow.search_runs([experiment_id], filter_string="params.model = 'linear'")
    assert sorted(frame["tags.mlflow.runName"]) == ["r2", "r4"]
    assert sorted(frame["metrics.acc"]) == [0.8, 0.95]

    with pytest.raises(MlflowException) as failed:
        client.search_runs([experiment_id], "metrics.acc >")
    assert failed.value.error_code == "INVALID_PARAMETER_VALUE"


def test_delete_and_restore_runs_and_experiments(tracking: Target) -> None:
    client = MlflowClient()
    name = unique("mlflow-delete")
    experiment_id = client.create_experiment(name)
    run = client.create_run(experiment_id)
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment_id]) == []
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run.info.run_id]
    assert tracking.remote.get_run(run.info.run_id).lifecycle_stage.value == "deleted"
    client.restore_run(run.info.run_id)
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run.info.run_id]

    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert tracking.remote.get_experiment(name).lifecycle_stage.value == "deleted"
    listed = client.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{name}'"
    )
    assert [e.experiment_id for e in listed] == [experiment_id]
    with pytest.raises(MlflowException, match="deleted"):
        mlflow.set_experiment(name)
    client.restore_experiment(experiment_id)
    assert client.get_experiment_by_name(name).lifecycle_stage == "active"  # type: ignore[union-attr]


def test_experiments_search_rename_and_tags(tracking: Target) -> None:
    client = MlflowClient()
    prefix = unique("mlflow-exp")
    first = client.create_experiment(f"{prefix}-a", tags={"team": "x"})
    second = client.create_experiment(f"{prefix}-b")
    found = client.search_experiments(
        filter_string=f"name LIKE '{prefix}%'", order_by=["name DESC"]
    )
    assert [e.name for e in found] == [f"{prefix}-b", f"{prefix}-a"]
    tagged = client.search_experiments(filter_string=f"name LIKE '{prefix}%' AND tags.team = 'x'")
    assert [e.experiment_id for e in tagged] == [first]
    client.rename_experiment(second, f"{prefix}-c")
    assert client.get_experiment(second).name == f"{prefix}-c"
    client.set_experiment_tag(second, "k", "v")
    assert client.get_experiment(second).tags["k"] == "v"
    client.delete_experiment_tag(second, "k")
    assert "k" not in client.get_experiment(second).tags
    assert "k" not in tracking.remote.get_experiment(second).tags
    with pytest.raises(MlflowException) as exists:
        client.create_experiment(f"{prefix}-a")
    assert exists.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_errors_carry_mlflow_error_codes(tracking: Target) -> None:
    client = MlflowClient()
    with pytest.raises(MlflowException) as missing:
        client.get_run(uuid.uuid4().hex)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment_by_name(unique("nope")) is None
    experiment_id = client.create_experiment(unique("mlflow-errors"))
    run = client.create_run(experiment_id)
    client.log_param(run.info.run_id, "p", "1")
    with pytest.raises(MlflowException) as changed:
        client.log_param(run.info.run_id, "p", "2")
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as untagged:
        client.delete_tag(run.info.run_id, "no-such-tag")
    assert untagged.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_resumed_run_takes_metrics_again(tracking: Target) -> None:
    mlflow.set_experiment(unique("mlflow-resume"))
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0, step=0)
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_metric("m", 2.0, step=1)
    fetched = MlflowClient().get_run(run.info.run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.data.metrics["m"] == 2.0
    assert tracking.remote.get_run(run.info.run_id).metrics["m"] == 2.0


def test_mlflows_default_experiment_is_mlcycles_default(tracking: Target) -> None:
    client = MlflowClient()
    run = client.create_run("0")  # what start_run uses when no experiment is set
    default = tracking.remote.get_experiment("Default")
    assert run.info.experiment_id == default.id
    assert client.get_experiment("0").name == "Default"
    assert tracking.remote.get_run(run.info.run_id).experiment_id == default.id
