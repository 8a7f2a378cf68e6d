"""Artifact stores under test: a local folder always; S3 on a real S3-compatible server
(Ceph's RADOS gateway started by ``scripts/s3-local.sh``) when ``AWS_ENDPOINT_URL`` is set,
as ``.ci/run`` does. Each test gets a fresh bucket."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlcycle.artifacts import LocalArtifactStore, S3ArtifactStore, open_artifact_store

ARTIFACT_KINDS = ["local", "s3"]


def s3_endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL")


def boto3_client() -> Any:
    boto3 = pytest.importorskip("boto3")
    return boto3.client("s3", endpoint_url=s3_endpoint())


@pytest.fixture
def bucket() -> Iterator[str]:
    """A new, empty bucket on the S3 server (emptied and removed afterwards)."""
    if not s3_endpoint():
        pytest.skip("AWS_ENDPOINT_URL is not set (scripts/s3-local.sh start; .ci/run does)")
    client = boto3_client()
    name = f"mlcycle-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    yield name
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture(params=ARTIFACT_KINDS)
def artifact_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty artifact root of each kind."""
    if request.param == "local":
        return str(tmp_path / "artifacts")
    name: str = request.getfixturevalue("bucket")
    return f"s3://{name}/team-a"


@pytest.fixture
def files(artifact_uri: str) -> LocalArtifactStore | S3ArtifactStore:
    return open_artifact_store(artifact_uri)
