"""Fixtures for the batch prediction tests: small generated data, real scikit-learn models
saved as model folders, and executors that count or interrupt the chunks they run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression

import mlcycle
from mlcycle.batch import ThreadExecutor
from tests.models._models import FEATURES, churn_frame, churn_pipeline

T = TypeVar("T")
R = TypeVar("R")

NUMERIC = ["f0", "f1", "f2", "f3"]


def numeric_frame(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Four float features, a 3-class label and an ``id`` column (0..n-1)."""
    X, y = make_classification(n, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=seed)
    frame = pd.DataFrame(X, columns=NUMERIC)
    frame["label"] = y
    frame["id"] = np.arange(n, dtype=np.int64)
    return frame


def save(model: object, path: Path, example: pd.DataFrame) -> Path:
    mlcycle.models.save(model, path, input_example=example)
    return path


@pytest.fixture
def frame() -> pd.DataFrame:
    return numeric_frame()


@pytest.fixture
def named_model(tmp_path: Path, frame: pd.DataFrame) -> Path:
    """A LogisticRegression fitted on a DataFrame (it checks feature names)."""
    model = LogisticRegression(max_iter=500).fit(frame[NUMERIC], frame["label"])
    return save(model, tmp_path / "named-model", frame[NUMERIC].head())


@pytest.fixture
def array_model(tmp_path: Path, frame: pd.DataFrame) -> Path:
    """A LogisticRegression fitted on a NumPy array (no feature names)."""
    model = LogisticRegression(max_iter=500).fit(frame[NUMERIC].to_numpy(), frame["label"])
    return save(model, tmp_path / "array-model", frame[NUMERIC].head())


@pytest.fixture
def regressor(tmp_path: Path, frame: pd.DataFrame) -> Path:
    model = LinearRegression().fit(frame[NUMERIC], frame["f0"] * 2.0)
    return save(model, tmp_path / "regressor", frame[NUMERIC].head())


@pytest.fixture
def churn_model(tmp_path: Path) -> Path:
    """A Pipeline with a string column (the pandas path)."""
    data = churn_frame(200)
    return save(churn_pipeline(data), tmp_path / "churn-model", data[FEATURES].head())


@pytest.fixture
def parquet_input(tmp_path: Path, frame: pd.DataFrame) -> Path:
    """The frame in Parquet, in row groups of 128 rows (not aligned with most chunk sizes)."""
    path = tmp_path / "input.parquet"
    frame.to_parquet(path, row_group_size=128, index=False)
    return path


class CountingExecutor(ThreadExecutor):
    """A ThreadExecutor that records the chunk indices it ran."""

    def __init__(self, workers: int = 1) -> None:
        super().__init__(workers)
        self.ran: list[int] = []
        self._ran_lock = threading.Lock()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        def counted(item: T) -> R:
            with self._ran_lock:
                self.ran.append(int(getattr(item, "index", -1)))
            return fn(item)

        return super().map(counted, items)


class InterruptingExecutor(CountingExecutor):
    """Raises KeyboardInterrupt (as Ctrl-C would) after yielding ``after`` results."""

    def __init__(self, after: int, workers: int = 1) -> None:
        super().__init__(workers)
        self.after = after

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        results = super().map(fn, items)
        for count, result in enumerate(results):
            if count == self.after:
                results.close()  # type: ignore[attr-defined]
                raise KeyboardInterrupt
            yield result


def read_output(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def expected(model_dir: Path, frame: pd.DataFrame) -> tuple[np.ndarray, Any]:
    """The loaded model's own predictions and probabilities on the whole frame."""
    model = mlcycle.models.load(model_dir)
    proba = model.predict_proba(frame) if model.has_predict_proba else None
    return model.predict(frame), proba
