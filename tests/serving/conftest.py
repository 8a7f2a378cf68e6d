"""Fixtures for the serving tests: a store with registered models, and helpers to log
more versions. Servers are real processes (see live.py), shared per module where the
tests do not disturb each other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import mlcycle
from mlcycle.entities.registry import ModelVersion
from tests.models._models import FEATURES, churn_frame, churn_pipeline


@dataclass
class Home:
    """A store and artifact folder on disk, and a client over them."""

    root: Path
    tracking_uri: str
    artifact_uri: str
    client: mlcycle.Client


def make_home(root: Path) -> Home:
    root.mkdir(parents=True, exist_ok=True)
    tracking = f"sqlite:///{root / 'mlcycle.db'}"
    artifacts = str(root / "artifacts")
    return Home(root, tracking, artifacts, mlcycle.Client(tracking, artifacts))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """A store shared by one test module (its servers read it)."""
    made = make_home(tmp_path_factory.mktemp("serving"))
    yield made
    made.client.close()


def log_churn(client: mlcycle.Client, name: str = "churn", *, seed: int = 0) -> int:
    """Fit the churn pipeline on seeded data and register it as the next version."""
    frame = churn_frame(120, seed=seed)
    with client.start_run("serving", capture_environment=False) as run:
        info = run.log_model(
            churn_pipeline(frame), "model", input_example=frame[FEATURES].head(3), register=name
        )
    assert isinstance(info.registered_version, ModelVersion)
    return info.registered_version.version


def log_python(client: mlcycle.Client, model: object, name: str) -> int:
    """Register a Python model of one float column ``x`` (input example x = 0.5)."""
    with client.start_run("serving", capture_environment=False) as run:
        info = run.log_model(
            model, "model", input_example=pd.DataFrame({"x": [0.5, 0.5]}), register=name
        )
    assert isinstance(info.registered_version, ModelVersion)
    return info.registered_version.version


def churn_rows(n: int = 1, seed: int = 1) -> list[dict[str, object]]:
    """Input rows for the churn model as JSON-ready records."""
    frame = churn_frame(n, seed=seed)[FEATURES]
    return [
        {
            "tenure": float(tenure),
            "charges": float(charges),
            "calls": int(calls),
            "plan": str(plan),
        }
        for tenure, charges, calls, plan in zip(
            frame["tenure"].tolist(),
            frame["charges"].tolist(),
            frame["calls"].tolist(),
            frame["plan"].tolist(),
            strict=True,
        )
    ]
