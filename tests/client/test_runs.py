"""Runs through the public API: start_run, logging, ending, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlcycle
from mlcycle import Client, RunStatus


def test_context_manager_finishes_and_records_everything(client: Client) -> None:
    with mlcycle.start_run(experiment="exp-a", name="first", tags={"k": "v"}) as run:
        assert mlcycle.active_run() is run
        run.log_param("lr", 0.1)
        run.log_params({"depth": 3, "kernel": "rbf"})
        for i in range(5):
            run.log_metric("loss", 1 / (i + 1))
        run.log_metrics({"acc": 0.9, "f1": 0.8}, step=7)
        run.set_tag("stage", "dev")
        run.set_description("a first run")
    assert mlcycle.active_run() is None
    got = client.get_run(run.id)
    assert got.status is RunStatus.FINISHED
    assert got.name == "first"
    assert got.description == "a first run"
    assert got.params == {"lr": "0.1", "depth": "3", "kernel": "rbf"}
    assert got.metrics == {"loss": 0.2, "acc": 0.9, "f1": 0.8}
    assert got.tags["k"] == "v"
    assert got.tags["stage"] == "dev"
    assert got.end_time is not None
    history = client.get_metric_history(run.id, "loss")
    assert history.steps.tolist() == [0, 1, 2, 3, 4]
    assert history.values.tolist() == pytest.approx([1, 0.5, 1 / 3, 0.25, 0.2])
    assert client.get_metric_history(run.id, "acc").steps.tolist() == [7]


def test_failed_block_records_the_error(client: Client) -> None:
    def fail() -> None:
        with mlcycle.start_run(experiment="exp-a") as run:
            run.log_metric("x", 1.0)
            runs.append(run.id)
            _ = 1 / 0

    runs: list[str] = []
    with pytest.raises(ZeroDivisionError):
        fail()
    run_id = runs[0]
    got = client.get_run(run_id)
    assert got.status is RunStatus.FAILED
    assert got.error is not None
    assert "ZeroDivisionError" in got.error
    assert got.metrics == {"x": 1.0}


def test_keyboard_interrupt_kills(client: Client) -> None:
    with pytest.raises(KeyboardInterrupt), mlcycle.start_run(experiment="exp-a") as run:
        raise KeyboardInterrupt
    assert client.get_run(run.id).status is RunStatus.KILLED


def test_explicit_end_and_writes_after_it(client: Client) -> None:
    run = mlcycle.start_run(experiment="exp-a")
    run.log_metric("m", 1.0)
    run.end(RunStatus.FAILED)
    run.end()  # ending twice does nothing
    assert client.get_run(run.id).status is RunStatus.FAILED
    with pytest.raises(mlcycle.InvalidInputError, match="finished"):
        run.log_metric("m", 2.0)
    with pytest.raises(mlcycle.InvalidInputError, match="finished"):
        run.log_param("p", 1)
    run.set_tag("after", "ok")  # tags may still change
    assert client.get_run(run.id).tags["after"] == "ok"


def test_nested_runs_and_generated_names(client: Client) -> None:
    with mlcycle.start_run(experiment="exp-a") as parent:
        with mlcycle.start_run(parent=parent) as child:
            assert mlcycle.active_run() is child
        assert mlcycle.active_run() is parent
    got = client.get_run(child.id)
    assert got.parent_id == parent.id
    assert got.experiment_id == parent.experiment_id
    assert parent.name.count("-") == 2  # adjective-animal-number
    assert parent.name != child.name


def test_param_conflict_names_both_values(client: Client) -> None:
    with mlcycle.start_run(experiment="exp-a") as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", 0.1)
        with pytest.raises(mlcycle.ConflictError, match=r"'0\.1'.*'0\.2'"):
            run.log_param("lr", 0.2)


def test_metric_values_steps_and_bad_input(client: Client) -> None:
    with mlcycle.start_run(experiment="exp-a") as run:
        run.log_metric("m", math.nan)
        run.log_metric("m", math.inf)
        run.log_metric("m", -math.inf)
        run.log_metric("m", np.float32(0.5))  # type: ignore[arg-type]
        run.log_metric("m", 3)
        run.log_metric("s", 1.0, step=10)
        run.log_metric("s", 2.0)
        run.log_metric("t", 1.0, timestamp=1_600_000_000_000)
        with pytest.raises(mlcycle.InvalidInputError, match=r"'m'.*number"):
            run.log_metric("m", "high")  # type: ignore[arg-type]
        with pytest.raises(mlcycle.InvalidInputError, match="metric key"):
            run.log_metric("", 1.0)
        with pytest.raises(mlcycle.InvalidInputError, match="metric key"):
            run.log_metric("../etc", 1.0)
    h = client.get_metric_history(run.id, "m")
    assert np.array_equal(h.values, [math.nan, math.inf, -math.inf, 0.5, 3.0], equal_nan=True)
    assert client.get_metric_history(run.id, "s").steps.tolist() == [10, 11]
    assert client.get_metric_history(run.id, "t").timestamps.tolist() == [1_600_000_000_000]


def test_flush_makes_points_durable(client: Client, store_url: str, tmp_path: object) -> None:
    run = mlcycle.start_run(experiment="exp-a", capture_environment=False)
    for i in range(10_000):
        run.log_metric("m", float(i))
    run.flush()
    other = Client(store_url, client.settings.artifact_uri)
    assert len(other.get_metric_history(run.id, "m")) == 10_000
    other.close()
    run.end()


def test_environment_is_captured(client: Client) -> None:
    with mlcycle.start_run(experiment="exp-a") as run:
        pass
    tags = client.get_run(run.id).tags
    assert tags["mlcycle.python"].count(".") == 2
    assert "mlcycle.platform" in tags
    files = {a.path for a in client.list_artifacts(run.id)}
    assert "environment/packages.txt" in files
    dest = client.download_artifacts(
        run.id, "environment/packages.txt", dest=client.settings.artifact_uri + "-dl"
    )
    assert "numpy==" in dest.read_text()


def test_unknown_ids_raise_not_found(client: Client) -> None:
    with pytest.raises(mlcycle.NotFoundError, match="nope"):
        client.get_run("nope")
    with pytest.raises(mlcycle.NotFoundError, match="nope"):
        client.get_metric_history("nope", "m")
    with pytest.raises(mlcycle.NotFoundError, match="nope"):
        client.get_experiment("nope")
    with pytest.raises(mlcycle.NotFoundError, match="nope"):
        mlcycle.start_run(parent="nope")


def test_system_metrics_are_sampled(client: Client) -> None:
    run = client.start_run("exp-a", system_metrics=True, system_metrics_interval=0.05)
    for _ in range(50):
        run.log_metric("busy", 1.0)
    import time

    time.sleep(0.2)
    run.end()
    metrics = client.get_run(run.id).metrics
    assert 0 <= metrics["system/cpu_percent"] <= 100 * 64
    assert metrics["system/memory_used_mb"] > 0
    assert len(client.get_metric_history(run.id, "system/process_rss_mb")) >= 2
