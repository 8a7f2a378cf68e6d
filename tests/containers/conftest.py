"""Fixtures for the model-image tests: a store with a churn model registered on a dataset
version (so the image's labels carry its digest), and a Python model whose class lives in
the tests' own code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import mlcycle
from mlcycle.entities.registry import ModelVersion
from tests.models._models import FEATURES, churn_frame, churn_pipeline
from tests.serving._models import Flaky
from tests.serving.conftest import Home, log_python, make_home

FLAKY = "tests.serving._models.Flaky"


@dataclass
class Registered:
    """The store and the versions registered in it."""

    home: Home
    churn: ModelVersion
    flaky: int

    @property
    def client(self) -> mlcycle.Client:
        return self.home.client


def log_churn_on_data(client: mlcycle.Client, seed: int = 0) -> ModelVersion:
    """Register the churn pipeline, fitted on a registered dataset version."""
    frame = churn_frame(120, seed=seed)
    data = client.datasets.register("churn-data", frame)
    with client.start_run("images", capture_environment=False) as run:
        run.log_input(data, context="train")
        info = run.log_model(
            churn_pipeline(frame), "model", input_example=frame[FEATURES].head(3), register="churn"
        )
    assert isinstance(info.registered_version, ModelVersion)
    return info.registered_version


@pytest.fixture(scope="package")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registered]:
    home = make_home(tmp_path_factory.mktemp("images"))
    churn = log_churn_on_data(home.client)
    flaky = log_python(home.client, Flaky(), "flaky")
    yield Registered(home=home, churn=churn, flaky=flaky)
    home.client.close()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "context"
