"""``mlcycle demo --fast`` with every file in a real S3-compatible bucket: the whole
lifecycle runs, the files are in the bucket, and nothing lands in a local folder named
after the URI's scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
from mlcycle.cli import demo
from tests.cli.conftest import Cli
from tests.s3 import boto3_client, new_bucket

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # a ceiling against hangs


def test_demo_runs_with_artifacts_in_object_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with new_bucket() as bucket:
        cli = Cli(tmp_path)
        cli.artifact_uri = f"s3://{bucket}/demo"
        outcome = cli.ok("demo", "--fast")
        assert "audit verify" in outcome.stdout
        keys = [
            item["Key"]
            for page in boto3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])
        ]
        assert any("/prediction-logs/deployment=" in k for k in keys)  # serving's log
        assert any(k.endswith(".parquet") and "/datasets/" in k for k in keys)
        assert any(k.endswith("model/model.json") for k in keys)
        assert not (tmp_path / "s3:").exists()
        assert (tmp_path / ".mlcycle" / "demo").is_dir()  # the cards and the report
        with mlcycle.Client(cli.tracking_uri, cli.artifact_uri) as client:
            assert client.get_experiment(demo.EXPERIMENT).name == demo.EXPERIMENT
