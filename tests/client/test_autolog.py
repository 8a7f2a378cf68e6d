"""scikit-learn autologging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlcycle
from mlcycle import Client


@pytest.fixture
def autologging() -> Iterator[None]:
    mlcycle.autolog()
    yield
    mlcycle.autolog(disable=True)


def test_fit_without_a_run_starts_one(client: Client, autologging: None) -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(C=0.5, max_iter=500).fit(X, y)
    assert model.coef_.shape == (3, 4)
    (run,) = client.search_runs("Default")
    assert run.params["C"] == "0.5"
    assert run.params["data.n_samples"] == "150"
    assert run.params["data.n_features"] == "4"
    assert run.metrics["training_score"] > 0.9
    assert run.metrics["training_fit_time_s"] > 0
    assert run.tags["mlcycle.autolog.estimator"].endswith("LogisticRegression")
    assert run.status is mlcycle.RunStatus.FINISHED


def test_pipeline_logs_once_into_the_active_run(client: Client, autologging: None) -> None:
    X, y = load_iris(return_X_y=True)
    with mlcycle.start_run(experiment="auto") as run:
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
        LogisticRegression(C=2.0, max_iter=500).fit(X, y)  # second fit: a nested run
    got = client.get_run(run.id)
    assert "logisticregression__C" in got.params
    assert got.tags["mlcycle.autolog.estimator"].endswith("Pipeline")
    runs = client.search_runs("auto")
    assert len(runs) == 2
    child = next(r for r in runs if r.id != run.id)
    assert child.parent_id == run.id
    assert child.params["C"] == "2.0"


def test_disable_restores_fit(client: Client) -> None:
    mlcycle.autolog()
    mlcycle.autolog(disable=True)
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=500).fit(X, y)
    with pytest.raises(mlcycle.NotFoundError):
        client.search_runs("Default")
