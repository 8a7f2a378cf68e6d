"""Artifact stores under test: a local folder always; S3 on a real S3-compatible server
(Ceph's RADOS gateway started by ``scripts/s3-local.sh``) when ``AWS_ENDPOINT_URL`` is set,
as ``.ci/run`` does. Each test gets a fresh bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlcycle.artifacts import LocalArtifactStore, S3ArtifactStore, open_artifact_store
from tests.s3 import new_bucket

ARTIFACT_KINDS = ["local", "s3"]


@pytest.fixture
def bucket() -> Iterator[str]:
    """A new, empty bucket on the S3 server (emptied and removed afterwards)."""
    with new_bucket() as name:
        yield name


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
