"""Resuming an interrupted batch job: finished chunks are not computed again, the output
is the same as an uninterrupted run's, and a job with other arguments is not mixed in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mlcycle
import mlcycle.batch
from mlcycle.batch.parts import MANIFEST, parts_dir
from mlcycle.errors import ConflictError
from tests.batch.conftest import (
    NUMERIC,
    CountingExecutor,
    InterruptingExecutor,
    expected,
    read_output,
    save,
)

ROWS = 1000
CHUNK = 100


def _interrupted(model: Path, source: Path, out: Path, *, after: int, **kwargs: object) -> set[int]:
    """Run until KeyboardInterrupt after ``after`` chunks; the chunk indices computed."""
    executor = InterruptingExecutor(after, workers=2)
    with pytest.raises(KeyboardInterrupt):
        mlcycle.batch.predict(
            model,
            source,
            out,
            chunk_rows=CHUNK,
            executor=executor,
            **kwargs,  # type: ignore[arg-type]
        )
    return set(executor.ran)


def _finished(out: Path) -> set[int]:
    return {int(p.stem.split("-")[1]) for p in parts_dir(out).glob("chunk-*.arrow")}


def test_resume_computes_only_the_unfinished_chunks(
    array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    first = _interrupted(array_model, parquet_input, out, after=3, keep=["id"])
    finished = _finished(out)
    assert set(range(3)) <= finished <= first
    assert not out.exists()

    executor = CountingExecutor(workers=2)
    result = mlcycle.batch.predict(
        array_model, parquet_input, out, chunk_rows=CHUNK, executor=executor, keep=["id"]
    )
    assert set(executor.ran) == set(range(ROWS // CHUNK)) - finished  # nothing twice
    assert len(executor.ran) == len(set(executor.ran))
    assert result.resumed_chunks == len(finished)
    assert result.computed_chunks == ROWS // CHUNK - len(finished)
    assert result.chunks == ROWS // CHUNK
    written = read_output(out)
    assert written["id"].tolist() == list(range(ROWS))
    labels, proba = expected(array_model, frame)
    np.testing.assert_array_equal(written["prediction"].to_numpy(), labels)
    np.testing.assert_allclose(written[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)
    assert not parts_dir(out).exists()


def test_resume_of_csv_input(array_model: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "preds.parquet"
    _interrupted(array_model, source, out, after=4, keep=["id"])
    finished = _finished(out)
    executor = CountingExecutor()
    mlcycle.batch.predict(
        array_model, source, out, chunk_rows=CHUNK, executor=executor, keep=["id"]
    )
    assert set(executor.ran).isdisjoint(finished)
    assert read_output(out)["id"].tolist() == list(range(ROWS))


def test_a_job_whose_chunks_all_finished_only_assembles(
    array_model: Path, parquet_input: Path, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    executor = InterruptingExecutor(ROWS // CHUNK - 1, workers=1)
    with pytest.raises(KeyboardInterrupt):
        mlcycle.batch.predict(array_model, parquet_input, out, chunk_rows=CHUNK, executor=executor)
    assert _finished(out) == set(range(ROWS // CHUNK))  # the last one was running
    counting = CountingExecutor()
    result = mlcycle.batch.predict(
        array_model, parquet_input, out, chunk_rows=CHUNK, executor=counting
    )
    assert counting.ran == []
    assert result.computed_chunks == 0
    assert result.rows == ROWS


@pytest.mark.parametrize("change", ["chunk_rows", "model", "input", "keep", "probabilities"])
def test_other_arguments_refuse_to_resume(
    array_model: Path,
    named_model: Path,
    parquet_input: Path,
    frame: pd.DataFrame,
    tmp_path: Path,
    change: str,
) -> None:
    out = tmp_path / "preds.parquet"
    _interrupted(array_model, parquet_input, out, after=2)
    finished = _finished(out)
    model, kwargs = array_model, dict[str, object](chunk_rows=CHUNK)
    if change == "chunk_rows":
        kwargs["chunk_rows"] = 50
    elif change == "model":
        model = named_model
    elif change == "input":
        frame.assign(f0=frame["f0"] + 1).to_parquet(parquet_input, row_group_size=128)
    elif change == "keep":
        kwargs["keep"] = ["id"]
    else:
        kwargs["probabilities"] = False
    words = {
        "chunk_rows": "chunk size",
        "model": "model",
        "input": "input",
        "keep": "output options",
        "probabilities": "output options",
    }
    with pytest.raises(ConflictError, match=f"different {words[change]}.*--restart") as info:
        mlcycle.batch.predict(model, parquet_input, out, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == "restart"
    assert _finished(out) == finished  # nothing discarded
    result = mlcycle.batch.predict(model, parquet_input, out, restart=True, **kwargs)  # type: ignore[arg-type]
    assert result.resumed_chunks == 0
    assert (
        read_output(out)["prediction"].tolist()
        == expected(model, pd.read_parquet(parquet_input))[0].tolist()
    )


def test_a_retrained_model_in_the_same_folder_is_a_different_model(
    parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    folder = tmp_path / "model"
    X, y, example = frame[NUMERIC].to_numpy(), frame["label"], frame[NUMERIC].head()
    save(LogisticRegression().fit(X, y), folder, example)
    _interrupted(folder, parquet_input, out, after=2)
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    save(LogisticRegression(C=0.01).fit(X, y), folder, example)
    with pytest.raises(ConflictError, match="different model"):
        mlcycle.batch.predict(folder, parquet_input, out, chunk_rows=CHUNK)


def test_a_damaged_part_is_computed_again(
    array_model: Path, parquet_input: Path, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    _interrupted(array_model, parquet_input, out, after=3)
    (parts_dir(out) / "chunk-000001.arrow").write_bytes(b"not arrow")
    executor = CountingExecutor()
    result = mlcycle.batch.predict(
        array_model, parquet_input, out, chunk_rows=CHUNK, executor=executor
    )
    assert 1 in executor.ran
    assert 0 not in executor.ran
    assert result.rows == ROWS


def test_a_foreign_parts_folder_is_not_deleted(
    array_model: Path, parquet_input: Path, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    parts_dir(out).mkdir()
    (parts_dir(out) / "precious.txt").write_text("mine")
    with pytest.raises(ConflictError, match="different"):
        mlcycle.batch.predict(array_model, parquet_input, out)
    with pytest.raises(mlcycle.MlcycleError, match="not a batch job's parts folder"):
        mlcycle.batch.predict(array_model, parquet_input, out, restart=True)
    assert (parts_dir(out) / "precious.txt").read_text() == "mine"


_CHILD = textwrap.dedent(
    """
    import sys, time
    import mlcycle.batch
    from mlcycle.batch import ThreadExecutor

    class Slow(ThreadExecutor):
        def map(self, fn, items):
            for result in super().map(fn, items):
                time.sleep(0.05)
                yield result

    model, source, out = sys.argv[1:4]
    mlcycle.batch.predict(model, source, out, chunk_rows=10, executor=Slow(1), keep=["id"])
    """
)


@pytest.mark.slow  # starts a Python interpreter that imports mlcycle and scikit-learn
def test_resume_after_kill_9(
    array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "preds.parquet"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(array_model), str(parquet_input), str(out)],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        while len(_finished(out)) < 5 and child.poll() is None:
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the job ended before it could be killed"
    finished = _finished(out)
    assert len(finished) >= 5
    assert (parts_dir(out) / MANIFEST).is_file()
    executor = CountingExecutor(workers=2)
    result = mlcycle.batch.predict(
        array_model, parquet_input, out, chunk_rows=10, executor=executor, keep=["id"]
    )
    assert set(executor.ran).isdisjoint(finished)
    assert result.resumed_chunks == len(finished)
    written = read_output(out)
    assert written["id"].tolist() == list(range(ROWS))
    np.testing.assert_array_equal(written["prediction"].to_numpy(), expected(array_model, frame)[0])
    assert not list(tmp_path.glob(".preds.parquet*"))  # the killed run's temp file is gone
