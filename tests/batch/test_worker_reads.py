"""Workers that read their own chunks, and ``s3://`` output.

With the process and Ray executors the driver sends each worker where its chunk is (a
:class:`~mlcycle.batch.slices.ChunkSlice`), and the worker reads the rows from the file or
the bucket. An ``s3://bucket/prefix`` output is partitioned Parquet that the workers write
into the bucket of a real S3-compatible server (Ceph), resumable like a local output.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

import mlcycle.batch
from mlcycle.batch.executors import ProcessExecutor
from mlcycle.batch.slices import ChunkSlice, parquet_slices
from mlcycle.batch.sources import ParquetSource
from mlcycle.errors import ArtifactStoreError, ConflictError, InvalidInputError
from tests.batch.conftest import InterruptingExecutor, expected
from tests.cli.conftest import Cli
from tests.s3 import boto3_client

T = TypeVar("T")
R = TypeVar("R")


def _uneven_files(frame: pd.DataFrame, root: Path) -> Path:
    """The frame in three files whose row groups (70, 128, 33 rows) align with nothing."""
    root.mkdir()
    frame.iloc[:350].to_parquet(root / "a.parquet", index=False, row_group_size=70)
    frame.iloc[350:900].to_parquet(root / "b.parquet", index=False, row_group_size=128)
    frame.iloc[900:].to_parquet(root / "c.parquet", index=False, row_group_size=33)
    return root


def test_slices_read_the_same_chunks_as_the_driver(frame: pd.DataFrame, tmp_path: Path) -> None:
    source = ParquetSource(_uneven_files(frame, tmp_path / "in"))
    skip = {1, 4}
    for chunk_rows in (100, 128, 333, 5000):
        read = list(source.chunks(chunk_rows=chunk_rows, columns=["id", "f0"], skip=skip))
        sliced = list(
            parquet_slices(source, chunk_rows=chunk_rows, columns=["id", "f0"], skip=skip)
        )
        assert [i for s in sliced for i in s.indices] == [c.index for c in read]
        got = []
        for piece in sliced:
            assert len(pickle.dumps(piece)) < 1000  # where the rows are, not the rows
            got.extend(pickle.loads(pickle.dumps(piece)).read_chunks())
        for mine, chunk in zip(got, read, strict=True):
            assert (mine.index, mine.start) == (chunk.index, chunk.start)
            assert mine.data.equals(chunk.data)
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        next(parquet_slices(source, chunk_rows=10, columns=["nope"]))


def test_chunks_that_start_in_one_row_group_travel_together(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    # Row groups of 400 rows, chunks of 100: a worker decodes each row group once for its
    # four chunks instead of once per chunk; chunk 5 (finished) splits its row group.
    path = tmp_path / "big-groups.parquet"
    frame.to_parquet(path, index=False, row_group_size=400)
    source = ParquetSource(path)
    sliced = list(parquet_slices(source, chunk_rows=100, columns=["id"], skip={5}))
    assert [list(s.indices) for s in sliced] == [[0, 1, 2, 3], [4], [6, 7], [8, 9]]
    read = list(source.chunks(chunk_rows=100, columns=["id"], skip={5}))
    got = [c for s in sliced for c in s.read_chunks()]
    assert [(c.index, c.start, c.data.num_rows) for c in got] == [
        (c.index, c.start, c.data.num_rows) for c in read
    ]
    assert all(a.data.equals(b.data) for a, b in zip(got, read, strict=True))
    # chunks not aligned with the row groups: each slice starts in its own row group
    sliced = list(parquet_slices(source, chunk_rows=300, columns=["id"]))
    assert [list(s.indices) for s in sliced] == [[0, 1], [2], [3]]
    got = [c for s in sliced for c in s.read_chunks()]
    assert [c.data.column("id").to_pylist() for c in got] == [
        list(range(i, min(i + 300, len(frame)))) for i in range(0, len(frame), 300)
    ]


class _RecordingProcesses(ProcessExecutor):
    """The process executor, noting what the driver sends its workers."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.sent: list[type] = []

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        def noted() -> Iterator[T]:
            for item in items:
                self.sent.append(type(item))
                yield item

        return super().map(fn, noted())


@pytest.mark.slow
def test_process_workers_read_their_chunks_from_a_local_file(
    array_model: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    executor = _RecordingProcesses(workers=2)
    out = tmp_path / "preds.parquet"
    source = _uneven_files(frame, tmp_path / "in")
    result = mlcycle.batch.predict(
        array_model, source, out, chunk_rows=150, keep=["id"], executor=executor
    )
    assert result.computed_chunks == 7
    assert executor.sent == [ChunkSlice] * 7  # no rows went through the driver
    written = pd.read_parquet(out)
    assert written["id"].tolist() == list(range(len(frame)))
    np.testing.assert_array_equal(written["prediction"].to_numpy(), expected(array_model, frame)[0])


def _bucket_fs() -> pafs.S3FileSystem:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    return pafs.S3FileSystem(
        endpoint_override=endpoint.split("://", 1)[1],
        scheme=endpoint.split("://", 1)[0],
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


def _read_bucket_output(bucket: str, prefix: str) -> pd.DataFrame:
    """The output as any reader sees it: the Parquet dataset under the prefix."""
    table = pq.read_table(f"{bucket}/{prefix}", filesystem=_bucket_fs())
    frame: pd.DataFrame = table.to_pandas()
    return frame.sort_values("id", ignore_index=True)


def _keys(bucket: str, prefix: str) -> list[str]:
    listing = boto3_client().list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return sorted(item["Key"][len(prefix) + 1 :] for item in listing.get("Contents", []))


def _upload_input(bucket: str, frame: pd.DataFrame, tmp_path: Path) -> str:
    root = _uneven_files(frame, tmp_path / "upload")
    for file in sorted(root.iterdir()):
        boto3_client().upload_file(str(file), bucket, f"in/{file.name}")
    return f"s3://{bucket}/in"


@pytest.mark.slow
def test_s3_output_written_by_process_workers_reading_the_bucket(
    s3_bucket: str, array_model: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    source = _upload_input(s3_bucket, frame, tmp_path)
    executor = _RecordingProcesses(workers=2)
    result = mlcycle.batch.predict(
        array_model,
        source,
        f"s3://{s3_bucket}/scores/",
        chunk_rows=300,
        keep=["id"],
        executor=executor,
    )
    assert result.output == f"s3://{s3_bucket}/scores"
    assert (result.rows, result.computed_chunks) == (len(frame), 4)
    assert executor.sent == [ChunkSlice] * 4
    assert _keys(s3_bucket, "scores") == [
        "_SUCCESS",
        "_mlcycle_job.json",
        *[f"part-{i:06d}.parquet" for i in range(4)],
    ]
    written = _read_bucket_output(s3_bucket, "scores")
    assert written["id"].tolist() == list(range(len(frame)))
    labels, proba = expected(array_model, frame)
    np.testing.assert_array_equal(written["prediction"].to_numpy(), labels)
    np.testing.assert_allclose(written[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)
    part = pq.ParquetFile(f"{s3_bucket}/scores/part-000000.parquet", filesystem=_bucket_fs())
    assert part.schema_arrow.metadata[b"mlcycle.model_uri"].decode() == str(array_model.resolve())

    # A finished job run again computes nothing; other arguments are refused, then restarted.
    again = mlcycle.batch.predict(
        array_model, source, f"s3://{s3_bucket}/scores", chunk_rows=300, keep=["id"]
    )
    assert (again.computed_chunks, again.resumed_chunks, again.rows) == (0, 4, len(frame))
    with pytest.raises(ConflictError, match="different chunk size"):
        mlcycle.batch.predict(array_model, source, f"s3://{s3_bucket}/scores", chunk_rows=500)
    redone = mlcycle.batch.predict(
        array_model, source, f"s3://{s3_bucket}/scores", chunk_rows=500, restart=True
    )
    assert redone.computed_chunks == 2
    assert [k for k in _keys(s3_bucket, "scores") if k.startswith("part-")] == [
        "part-000000.parquet",
        "part-000001.parquet",
    ]


def test_an_interrupted_s3_output_resumes_from_the_parts_in_the_bucket(
    s3_bucket: str, array_model: Path, parquet_input: Path, frame: pd.DataFrame
) -> None:
    output = f"s3://{s3_bucket}/runs/1"
    with pytest.raises(KeyboardInterrupt):
        mlcycle.batch.predict(
            array_model,
            parquet_input,
            output,
            chunk_rows=100,
            keep=["id"],
            executor=InterruptingExecutor(after=4),
        )
    parts = [k for k in _keys(s3_bucket, "runs/1") if k.startswith("part-")]
    assert 4 <= len(parts) < 10
    assert "_SUCCESS" not in _keys(s3_bucket, "runs/1")
    resumed = mlcycle.batch.predict(array_model, parquet_input, output, chunk_rows=100, keep=["id"])
    assert resumed.resumed_chunks == len(parts)
    assert resumed.computed_chunks == 10 - len(parts)
    assert _read_bucket_output(s3_bucket, "runs/1")["id"].tolist() == list(range(len(frame)))


def test_bad_s3_outputs_are_refused_naming_them(
    s3_bucket: str, array_model: Path, parquet_input: Path
) -> None:
    boto3_client().put_object(Bucket=s3_bucket, Key="data/notes.txt", Body=b"mine")
    with pytest.raises(InvalidInputError, match="not a batch job's"):
        mlcycle.batch.predict(array_model, parquet_input, f"s3://{s3_bucket}/data")
    assert _keys(s3_bucket, "data") == ["notes.txt"]
    with pytest.raises(InvalidInputError, match="must name a bucket and a prefix"):
        mlcycle.batch.predict(array_model, parquet_input, f"s3://{s3_bucket}")
    missing = f"mlcycle-missing-{s3_bucket[-8:]}"
    with pytest.raises(ArtifactStoreError, match=f"bucket '{missing}' does not exist"):
        mlcycle.batch.predict(array_model, parquet_input, f"s3://{missing}/scores")


def test_cli_predict_to_an_s3_prefix(
    s3_bucket: str, array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    output = f"s3://{s3_bucket}/cli-scores"
    done = Cli(tmp_path).ok(
        "predict",
        str(array_model),
        "-i",
        str(parquet_input),
        "-o",
        output,
        "--chunk-rows",
        "400",
        "--keep",
        "id",
        "--json",
    )
    summary: dict[str, Any] = done.json()
    assert summary["output"] == output
    assert summary["chunks"] == 3
    written = _read_bucket_output(s3_bucket, "cli-scores")
    assert written["id"].tolist() == list(range(len(frame)))


@pytest.mark.slow
def test_ray_tasks_read_the_bucket_and_write_the_bucket(
    ray_cluster: ModuleType,
    s3_bucket: str,
    array_model: Path,
    frame: pd.DataFrame,
    tmp_path: Path,
) -> None:
    source = _upload_input(s3_bucket, frame, tmp_path)
    result = mlcycle.batch.predict(
        array_model, source, f"s3://{s3_bucket}/ray", chunk_rows=250, keep=["id"], executor="ray"
    )
    assert result.computed_chunks == 4
    written = _read_bucket_output(s3_bucket, "ray")
    assert written["id"].tolist() == list(range(len(frame)))
    np.testing.assert_array_equal(written["prediction"].to_numpy(), expected(array_model, frame)[0])
