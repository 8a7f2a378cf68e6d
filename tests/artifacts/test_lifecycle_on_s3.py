"""The tracking and dataset stages with their files in a real S3-compatible server:
artifacts, a logged and registered model loaded back, and a versioned dataset."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

import mlcycle
import mlcycle.datasets as mds
from mlcycle.deployments.prediction_logs import (
    LogEntry,
    PredictionLogWriter,
    RequestSpan,
    logged_request_ids,
    read_prediction_log,
)
from mlcycle.errors import ArtifactStoreError
from tests.s3 import boto3_client


@pytest.fixture
def s3_client(bucket: str, tmp_path: Path) -> Iterator[mlcycle.Client]:
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", f"s3://{bucket}/team")
    mlcycle.set_client(client)
    yield client
    mlcycle.set_client(None)
    client.close()


def _keys(bucket: str) -> list[str]:
    listing = boto3_client().list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_runs_models_and_datasets_keep_their_files_in_the_bucket(
    s3_client: mlcycle.Client, bucket: str, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    frame["y"] = (frame["a"] + frame["b"] > 0).astype(int)

    data = mds.register("points", frame)
    assert data.load().equals(frame)

    (tmp_path / "notes.txt").write_text("trained on points v1")
    X, y = frame[["a", "b", "c"]], frame["y"]
    with mlcycle.start_run(experiment="s3") as run:
        run.log_artifact(tmp_path / "notes.txt")
        run.log_input(data)
        model = LogisticRegression().fit(X, y)
        run.log_model(model, "model", input_example=X.head(3), register="points-model")

    keys = _keys(bucket)
    assert any(k.startswith("team/") and k.endswith("notes.txt") for k in keys)
    assert any(k.endswith(".parquet") for k in keys)  # the dataset's file
    assert not (Path.cwd() / "s3:").exists()

    [artifact] = [a for a in s3_client.list_artifacts(run.id) if a.path == "notes.txt"]
    assert artifact.size == len("trained on points v1")
    loaded = mlcycle.models.load("models:/points-model/1")
    np.testing.assert_array_equal(loaded.predict(X.head(20)), model.predict(X.head(20)))


def test_a_missing_bucket_fails_the_first_write_with_the_uri(bucket: str, tmp_path: Path) -> None:
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", f"s3://{bucket}-gone/x")
    with pytest.raises(ArtifactStoreError, match=f"s3://{bucket}-gone/x: the bucket"):
        client.start_run(experiment="e")  # its first write: the environment's packages
    [run] = client.search_runs("e")
    assert run.status is mlcycle.RunStatus.FAILED  # ended, not left running
    with (
        client.start_run(experiment="e", capture_environment=False) as active,
        pytest.raises(ArtifactStoreError, match="does not exist"),
    ):
        active.log_text("hello", "notes.txt")
    assert client.list_artifacts(active.id) == []  # no record of the failed upload
    client.close()


def test_the_prediction_log_lives_in_the_bucket_readable_in_place(bucket: str) -> None:
    uri = f"s3://{bucket}/team"
    writer = PredictionLogWriter(uri)
    now = int(time.time() * 1000)
    writer.append(
        LogEntry(
            deployment="churn",
            model="churn",
            version=3,
            arm="main",
            columns={"age": np.array([31, 45, 52]), "plan": np.array(["a", "b", "a"])},
            predictions=np.array([0, 1, 1]),
            requests=[
                RequestSpan(request_id="r1", time_ms=now, start=0, stop=2, latency_ms=1.5),
                RequestSpan(request_id="r2", time_ms=now + 1, start=2, stop=3, latency_ms=1.0),
            ],
        )
    )
    writer.close()
    assert writer.written == 3
    assert writer.errors == 0

    log = read_prediction_log(uri, "churn")
    assert log["request_id"].tolist() == ["r1", "r1", "r2"]
    assert log["input.age"].tolist() == [31, 45, 52]
    assert logged_request_ids(uri, "churn", ["r2", "r9"]) == {"r2"}

    # The files are plain hive-partitioned Parquet in the bucket: pyarrow reads them there.
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    fs = pafs.S3FileSystem(
        endpoint_override=endpoint.split("://", 1)[1],
        scheme=endpoint.split("://", 1)[0],
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    table = pq.read_table(f"{bucket}/team/prediction-logs/deployment=churn", filesystem=fs)
    assert sorted(table.column("prediction").to_pylist()) == [0, 1, 1]
