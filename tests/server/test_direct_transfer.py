"""Direct transfers: with artifacts in object storage, large files move between the client
and the bucket through presigned URLs (the server only signs, checks and records); with a
local artifact folder, they go through the server's proxy as before."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mlcycle
from mlcycle.remote.backend import DIRECT_MIN_BYTES, RemoteBackend
from tests.s3 import boto3_client, new_bucket
from tests.server.live import ServerProcess

pytestmark = pytest.mark.slow


def _proxied_bytes(server: ServerProcess, direction: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    found = re.search(
        rf'^mlcycle_artifact_bytes_total{{direction="{direction}"}} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    with new_bucket() as bucket:
        server = ServerProcess(
            f"sqlite:///{tmp_path / 's.db'}", f"s3://{bucket}/team", tmp_path / "server.log"
        )
        server.start()
        try:
            yield server, bucket
        finally:
            server.stop()


def test_large_files_go_straight_to_the_bucket_and_back(
    s3_server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    server, bucket = s3_server
    data = os.urandom(DIRECT_MIN_BYTES + 4321)
    (tmp_path / "weights.bin").write_bytes(data)
    client = mlcycle.Client(server.url)
    with client.start_run(experiment="direct", capture_environment=False) as run:
        run.log_artifact(tmp_path / "weights.bin")
    backend = client.tracking
    assert isinstance(backend, RemoteBackend)
    assert backend.direct is True
    [info] = [a for a in client.list_artifacts(run.id) if a.path == "weights.bin"]
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    head = boto3_client().head_object(Bucket=bucket, Key=f"team/runs/{run.id}/weights.bin")
    assert head["ContentLength"] == len(data)

    copy = client.download_artifacts(run.id, "weights.bin", tmp_path / "out")
    assert Path(copy).read_bytes() == data
    assert _proxied_bytes(server, "upload") < len(data)  # only the small packages file
    assert _proxied_bytes(server, "download") == 0
    client.close()


def test_mlflow_server_info_announces_direct_transfers(
    s3_server: tuple[ServerProcess, str],
) -> None:
    server, _ = s3_server
    info = httpx.get(f"{server.url}/api/3.0/mlflow/server-info").json()
    assert info["direct_transfers"] == {
        "enabled": True,
        "upload": "/api/v1/runs/{run_id}/artifacts-direct",
        "download": "/api/v1/runs/{run_id}/artifacts/{path}?direct=true",
    }
    # MLflow's own presigned protocols are not offered, and the proxy stays
    assert info["presigned_uploads_enabled"] is False
    assert info["artifacts_presigned_only"] is False


def test_a_commit_with_the_wrong_digest_is_refused_and_removed(
    s3_server: tuple[ServerProcess, str],
) -> None:
    server, bucket = s3_server
    client = mlcycle.Client(server.url)
    run = client.start_run(experiment="direct", capture_environment=False)
    base = f"{server.url}/api/v1/runs/{run.id}/artifacts-direct"
    grant = httpx.post(base, json={"path": "x.bin"}).json()
    assert httpx.put(grant["url"], content=b"what arrived").status_code == 200
    refused = httpx.post(f"{base}/commit", json={"path": "x.bin", "sha256": "0" * 64})
    assert refused.status_code == 400
    assert "corrupted on the way" in refused.json()["error"]["message"]
    assert client.list_artifacts(run.id) == []
    listing = boto3_client().list_objects_v2(Bucket=bucket, Prefix=f"team/runs/{run.id}/")
    assert listing.get("KeyCount", 0) == 0
    run.end()
    client.close()


def test_a_local_artifact_folder_keeps_the_proxy(tmp_path: Path) -> None:
    server = ServerProcess(
        f"sqlite:///{tmp_path / 's.db'}", tmp_path / "artifacts", tmp_path / "server.log"
    )
    server.start()
    try:
        data = os.urandom(DIRECT_MIN_BYTES + 1)
        (tmp_path / "big.bin").write_bytes(data)
        client = mlcycle.Client(server.url)
        with client.start_run(experiment="proxy", capture_environment=False) as run:
            run.log_artifact(tmp_path / "big.bin")
        backend = client.tracking
        assert isinstance(backend, RemoteBackend)
        assert backend.direct is False  # asked once, told 409, proxied since
        copy = client.download_artifacts(run.id, "big.bin", tmp_path / "out")
        assert Path(copy).read_bytes() == data
        refused = httpx.post(
            f"{server.url}/api/v1/runs/{run.id}/artifacts-direct", json={"path": "y"}
        )
        assert refused.status_code == 409
        info = httpx.get(f"{server.url}/api/3.0/mlflow/server-info").json()
        assert info["direct_transfers"]["enabled"] is False
        client.close()
    finally:
        server.stop()
