"""Batch prediction in processes of this machine and on a real local Ray cluster: the same
output as the model's own predictions, in input order."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import mlcycle.batch
from mlcycle.batch.executors import ProcessExecutor, executor_for
from mlcycle.batch.ray_executor import RayExecutor
from mlcycle.errors import InvalidInputError
from tests.batch.conftest import expected, read_output

pytestmark = pytest.mark.slow


def _check(out: Path, model: Path, frame: pd.DataFrame) -> None:
    labels, proba = expected(model, frame)
    written = read_output(out)
    assert written["id"].tolist() == list(range(len(frame)))
    np.testing.assert_array_equal(written["prediction"].to_numpy(), labels)
    np.testing.assert_allclose(written[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)


def test_processes_predict_like_the_model(
    array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(
        array_model,
        parquet_input,
        out,
        chunk_rows=128,
        keep=["id"],
        workers=2,
        executor="process",
    )
    assert result.computed_chunks == 8
    _check(out, array_model, frame)


def test_ray_tasks_predict_like_the_model(
    ray_cluster: ModuleType,
    array_model: Path,
    parquet_input: Path,
    frame: pd.DataFrame,
    tmp_path: Path,
) -> None:
    out = tmp_path / "preds.parquet"
    result = mlcycle.batch.predict(
        array_model, parquet_input, out, chunk_rows=300, keep=["id"], executor="ray"
    )
    assert result.computed_chunks == 4
    _check(out, array_model, frame)


class _DiesOnce:
    """Kills the worker process that runs chunk 2 the first time (a lost node)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, item: int) -> int:
        if item == 2 and not self.marker.exists():
            self.marker.write_text("died")
            os._exit(1)
        return item * item


def test_a_ray_task_whose_worker_died_is_run_again(ray_cluster: ModuleType, tmp_path: Path) -> None:
    executor = RayExecutor(workers=2)
    assert list(executor.map(_DiesOnce(tmp_path / "died"), range(5))) == [0, 1, 4, 9, 16]
    assert (tmp_path / "died").exists()


def test_executors_by_name() -> None:
    assert isinstance(executor_for("process", 2), ProcessExecutor)
    with pytest.raises(InvalidInputError, match="unknown executor 'gpu'; one of thread"):
        executor_for("gpu")


def test_work_that_cannot_be_pickled_is_refused_clearly() -> None:
    lock = __import__("threading").Lock()
    with pytest.raises(InvalidInputError, match="cannot be sent to other processes"):
        list(ProcessExecutor(2).map(lambda x: (lock, x), [1]))
