"""Batch prediction reading its input straight from a bucket of a real S3-compatible
server, in chunks (ranged reads of the row groups a chunk needs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlcycle.batch
from mlcycle.errors import InvalidInputError
from tests.batch.conftest import expected, read_output
from tests.s3 import boto3_client


def test_predicts_a_parquet_file_and_a_prefix_in_the_bucket(
    s3_bucket: str, array_model: Path, parquet_input: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    s3 = boto3_client()
    s3.upload_file(str(parquet_input), s3_bucket, "in/one.parquet")
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(tmp_path / "a.parquet", index=False, row_group_size=100)
    frame.iloc[half:].to_parquet(tmp_path / "b.parquet", index=False, row_group_size=100)
    s3.upload_file(str(tmp_path / "a.parquet"), s3_bucket, "parts/a.parquet")
    s3.upload_file(str(tmp_path / "b.parquet"), s3_bucket, "parts/b.parquet")
    labels, _ = expected(array_model, frame)

    for uri in (f"s3://{s3_bucket}/in/one.parquet", f"s3://{s3_bucket}/parts"):
        out = tmp_path / f"{uri.rsplit('/', 1)[1]}.out.parquet"
        result = mlcycle.batch.predict(array_model, uri, out, chunk_rows=300, keep=["id"])
        written = read_output(out)
        assert result.rows == len(frame)
        assert written["id"].tolist() == list(range(len(frame)))
        np.testing.assert_array_equal(written["prediction"].to_numpy(), labels)


def test_a_missing_object_or_empty_prefix_is_named(
    s3_bucket: str, array_model: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="input file not found"):
        mlcycle.batch.predict(array_model, f"s3://{s3_bucket}/no.parquet", tmp_path / "o.parquet")
    with pytest.raises(InvalidInputError, match="holds no Parquet files"):
        mlcycle.batch.predict(array_model, f"s3://{s3_bucket}/nothing", tmp_path / "o.parquet")
