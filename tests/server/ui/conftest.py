"""A seeded store and the server app over it, for the UI's HTML tests.

The store is real SQLite with real artifact files; data goes in through the services'
public methods, as the server would write it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

import mlcycle
from mlcycle.artifacts.local import LocalArtifactStore
from mlcycle.clock import system_clock
from mlcycle.entities import MetricBatch, RunStatus
from mlcycle.entities.models import ModelSource
from mlcycle.registry.service import RegistryService
from mlcycle.server import ServerConfig
from mlcycle.settings import Settings
from mlcycle.store.sql.store import open_store
from mlcycle.tracking.service import TrackingService, make_problem
from tests.models._models import churn_frame
from tests.monitoring._setup import (
    DEPLOYMENT,
    TRAINING,
    deploy_churn,
    log_predictions,
    shifted,
)
from tests.server.live import ThreadServer


@dataclass
class Seeded:
    settings: Settings
    experiment_id: str
    other_experiment_id: str
    runs: list[str]  # run IDs of the main experiment, oldest first
    other_run: str
    long_run: str  # a run with a 20,000-point loss series


def _series(n: int, start: float, rng: np.random.Generator, key: str) -> MetricBatch:
    steps = np.arange(n, dtype=np.int64)
    values = start * np.exp(-steps / max(n / 4, 1)) + rng.normal(0, 0.01, n)
    return MetricBatch(
        key=key, steps=steps, timestamps=1_700_000_000_000 + steps * 100, values=values
    )


def seed(root: Path) -> Seeded:
    settings = Settings.from_env(
        {
            "MLCYCLE_TRACKING_URI": f"sqlite:///{root / 'ui.db'}",
            "MLCYCLE_ARTIFACT_URI": str(root / "artifacts"),
        }
    )
    store = open_store(settings.tracking_uri)
    rng = np.random.default_rng(0)
    try:
        tracking = TrackingService(store, LocalArtifactStore(settings.artifact_uri))
        problem = make_problem(
            task="classification", target="churned", primary_metric="accuracy", threshold=0.8
        )
        exp = tracking.create_experiment("churn-sweep", problem=problem)
        runs = []
        for i, (model, lr) in enumerate([("rf", 0.1), ("rf", 0.01), ("gbm", 0.1), ("gbm", 0.3)]):
            run = tracking.create_run(exp.id, name=f"run-{i}", tags={"team": "growth"})
            tracking.log_params(run.id, {"model": model, "lr": lr})
            tracking.log_metrics(
                run.id,
                [_series(50, 1.0 + i, rng, "loss"), _series(10, 0.5, rng, "val_loss")],
            )
            tracking.log_metrics(
                run.id,
                [
                    MetricBatch(
                        key="accuracy",
                        steps=np.array([0], np.int64),
                        timestamps=np.array([1_700_000_000_000], np.int64),
                        values=np.array([0.7 + i * 0.05]),
                    )
                ],
            )
            runs.append(run.id)
        first = runs[0]
        tracking.log_artifact_bytes(first, "report/summary.txt", b"all good\n")
        tracking.log_artifact_bytes(first, "data/head.csv", b"a,b\n1,2\n3,4\n")
        tracking.log_artifact_bytes(first, "meta.json", b'{"k": [1, 2]}')
        tracking.log_artifact_bytes(first, "report/page.html", b"<h1>report</h1><script>1</script>")
        for run_id in runs:
            tracking.end_run(run_id, RunStatus.FINISHED)
        other = tracking.create_experiment("fraud")
        other_run = tracking.create_run(other.id, name="fraud-run")
        tracking.log_params(other_run.id, {"model": "lr", "lr": 0.2})
        tracking.log_metrics(other_run.id, [_series(30, 2.0, rng, "loss")])
        tracking.end_run(other_run.id)
        long_run = tracking.create_run(exp.id, name="long")
        tracking.log_metrics(long_run.id, [_series(20_000, 3.0, rng, "loss")])
        tracking.end_run(long_run.id)
        registry = RegistryService(store.registry, tracking)
        registry.add_version("churn-model", ModelSource(run_id=first, artifact_path="model"))
        registry.add_version("churn-model", ModelSource(run_id=runs[2], artifact_path="model"))
    finally:
        store.close()
    return Seeded(settings, exp.id, other.id, runs, other_run.id, long_run.id)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(tmp_path_factory.mktemp("ui"))


@pytest.fixture(scope="module")
def ui(seeded: Seeded) -> Iterator[httpx.Client]:
    """A client of a live server (auth off, uvicorn in a thread) over the seeded store."""
    with (
        ThreadServer(seeded.settings, ServerConfig()) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


@dataclass
class Lifecycle:
    """A store holding the whole spine: a training dataset (two versions, validated), a
    run that used it and logged a model, the model registered and deployed, predictions
    logged, and a monitor whose run raised an open alert."""

    settings: Settings
    run_id: str
    alert_id: str


def seed_lifecycle(settings: Settings) -> Lifecycle:
    """Add the lifecycle to the store of ``settings`` (empty, or seeded by :func:`seed`)."""
    with mlcycle.Client(settings=settings) as client:
        setup = deploy_churn(client, train_rows=400)
        train = client.datasets.get(TRAINING, 1)
        client.datasets.validate(train, "- not_null: {column: tenure}")
        second = churn_frame(300, seed=9)
        mlcycle.datasets.register(
            TRAINING, second.assign(tenure=second["tenure"] * 2), client=client
        )
        now = system_clock()
        live = shifted(churn_frame(200, seed=6))
        log_predictions(setup, live, start_ms=now - 600_000)
        client.monitoring.create("churn-watch", DEPLOYMENT, window="1h")
        client.monitoring.add_rule("churn-watch", "quality")
        client.monitoring.run("churn-watch", now=now)
        (alert,) = client.monitoring.alerts(status="open")
        # a shadow of the same version, answering the same requests
        client.deployments.shadow(DEPLOYMENT, "models:/churn/1")
        log_predictions(setup, live, start_ms=now - 600_000, arm="shadow")
        (run_input,) = client.datasets.runs_of(train)
    return Lifecycle(settings, run_input.run_id, alert.id)


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    root = tmp_path_factory.mktemp("life")
    return seed_lifecycle(
        Settings.from_env(
            {
                "MLCYCLE_TRACKING_URI": f"sqlite:///{root / 'life.db'}",
                "MLCYCLE_ARTIFACT_URI": str(root / "artifacts"),
            }
        )
    )


@pytest.fixture(scope="module")
def life(lifecycle: Lifecycle) -> Iterator[httpx.Client]:
    """A client of a live server (auth off) over the lifecycle store."""
    with (
        ThreadServer(lifecycle.settings, ServerConfig()) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client
