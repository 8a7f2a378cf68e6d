"""Fixtures for the registry tests: a client over each store (SQLite, PostgreSQL) and a
helper that logs a small scikit-learn model with an evaluation metric."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
from tests.models._models import FEATURES, churn_frame, churn_pipeline


@pytest.fixture
def rclient(store_url: str, tmp_path: Path) -> Iterator[mlcycle.Client]:
    """A client over an empty store (SQLite or PostgreSQL), set as the default client.

    The registry needs a local or database store; a tracking server's client is refused
    (see test_api.py::test_registry_needs_a_store_not_a_server)."""
    c = mlcycle.Client(store_url, str(tmp_path / "artifacts"))
    mlcycle.set_client(c)
    yield c
    mlcycle.set_client(None)
    c.close()


def log_version(
    client: mlcycle.Client,
    name: str = "churn",
    *,
    auc: float = 0.8,
    experiment: str = "churn",
    params: dict[str, object] | None = None,
    register: bool = True,
) -> mlcycle.models.ModelInfo:
    """Log a fitted pipeline (with an input example) in a new run with metric ``roc_auc``;
    registered as the next version of ``name`` unless ``register`` is false."""
    frame = churn_frame(60)
    pipeline = churn_pipeline(frame)
    with client.start_run(experiment, capture_environment=False) as run:
        run.log_params(params or {"C": 1.0})
        run.log_metric("roc_auc", auc)
        info = run.log_model(
            pipeline,
            "model",
            input_example=frame[FEATURES].head(3),
            register=name if register else None,
        )
    return info
