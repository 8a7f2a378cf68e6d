"""What the demo's stages share: names, the state they fill in, and the stage type."""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

import mlcycle
import mlcycle.datasets as mds

EXPERIMENT = "demo-churn"
TARGET = "churned"
PRIMARY_METRIC = "roc_auc"
THRESHOLD = 0.7
SEED = 42
SESSION_TAG = "demo.session"
DATASET = "demo-churn"  # the registered dataset; its splits are DATASET-train etc.
MODEL = "demo-churn"  # the registered model
DEPLOYMENT = "churn"  # the deployment that follows MODEL@ALIAS
MONITOR = "churn-drift"
ESTIMATE_MONITOR = "churn-estimate"  # watches the label-free estimate of a new mix
ALIAS = "champion"
SLICE_COLUMN = "contract"
SENSITIVE_COLUMN = "senior"
FINAL_METRICS = ("roc_auc", "accuracy", "f1", "log_loss")


@dataclass(frozen=True)
class Dataset:
    """The demo data: the registered version, its split versions and their frames."""

    version: mds.DatasetVersion
    parts: dict[str, mds.DatasetVersion]  # train, validation, test
    test: Any  # pandas DataFrame: the test split with the TARGET column
    features: list[str]
    x_train: Any
    x_val: Any
    x_test: Any
    y_train: Any
    y_val: Any
    y_test: Any


@dataclass
class DemoState:
    """What the stages share. Each stage fills in its part.

    ``cleanup`` holds callables that stop what stages started (servers, receivers); the
    command runs them in reverse order however the demo ends (success, error, Ctrl-C).
    """

    client: mlcycle.Client
    console: Console
    fast: bool
    global_args: list[str]
    workdir: Path
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    data: Dataset | None = None
    experiment: mlcycle.Experiment | None = None
    run_ids: list[str] = field(default_factory=list)
    ranked: list[mlcycle.Run] = field(default_factory=list)
    evaluations: dict[str, Any] = field(default_factory=dict)  # run ID -> EvaluationResult
    versions: dict[str, int] = field(default_factory=dict)  # run ID -> registered version
    champion: int | None = None  # the version promoted by this demo
    trusted: list[str] = field(default_factory=list)  # skops types our models need
    files: dict[str, Path] = field(default_factory=dict)  # label -> a file the demo wrote
    server_url: str | None = None  # the serving process started by the deployment stage
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)  # stage results for later stages

    def need_data(self) -> Dataset:
        if self.data is None:
            raise RuntimeError("the data stage must run before this stage")
        return self.data

    def need_experiment(self) -> mlcycle.Experiment:
        if self.experiment is None:
            raise RuntimeError("the experiment stage must run before this stage")
        return self.experiment

    def command(self, *args: str) -> str:
        """A ready-to-paste mlcycle command line, with the global options given to us."""
        return shlex.join(["mlcycle", *self.global_args, *args])


@dataclass(frozen=True)
class Stage:
    title: str
    run: Callable[[DemoState], None]
