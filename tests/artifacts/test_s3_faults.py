"""The S3 store under faults: 503s, late answers and dropped connections during uploads and
downloads (moto's S3 server behind a fault-injecting proxy, see :mod:`tests.artifacts.faults`).

A transient fault is retried and the operation succeeds; a fault that persists ends after a
bounded number of retries in one ArtifactStoreError naming the URI, and leaves nothing
half-written: no object, no open multipart upload, no partial download, no artifact record.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mlcycle
from mlcycle.artifacts import S3ArtifactStore
from mlcycle.artifacts.s3 import PART_SIZE
from mlcycle.errors import ArtifactStoreError
from tests.artifacts.faults import FaultProxy, MotoS3, faulty_s3

RETRIES = 2


@pytest.fixture
def s3() -> Iterator[tuple[MotoS3, FaultProxy, str]]:
    with faulty_s3() as (moto, proxy):
        bucket = f"faults-{uuid.uuid4().hex[:8]}"
        moto.client().create_bucket(Bucket=bucket)
        yield moto, proxy, bucket


def _store(proxy: FaultProxy, bucket: str, **options: Any) -> S3ArtifactStore:
    return S3ArtifactStore(
        f"s3://{bucket}/team",
        environ=proxy.environ(),
        max_retries=RETRIES,
        retry_timeout_s=options.pop("retry_timeout_s", 30.0),
        **options,
    )


def _keys(moto: MotoS3, bucket: str) -> list[str]:
    listing = moto.client().list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


def _open_uploads(moto: MotoS3, bucket: str) -> list[Any]:
    uploads: list[Any] = moto.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return uploads


def test_transient_503s_are_retried_and_the_upload_lands(
    s3: tuple[MotoS3, FaultProxy, str],
) -> None:
    _moto, proxy, bucket = s3
    store = _store(proxy, bucket)
    proxy.inject("503", method="PUT", times=RETRIES)
    size, _ = store.put_bytes("a.bin", b"payload")
    assert size == 7
    assert proxy.count("PUT", "503") == RETRIES
    assert store.open("a.bin").read() == b"payload"


def test_persistent_503s_end_in_one_error_naming_the_uri(
    s3: tuple[MotoS3, FaultProxy, str],
) -> None:
    moto, proxy, bucket = s3
    store = _store(proxy, bucket)
    proxy.inject("503", method="PUT")
    with pytest.raises(ArtifactStoreError, match=f"s3://{bucket}/team") as raised:
        store.put_bytes("a.bin", b"payload")
    assert "Traceback" not in str(raised.value)
    assert proxy.count("PUT") == 1 + RETRIES  # bounded: the first try and the retries
    assert _keys(moto, bucket) == []


def test_dropped_connections_during_a_multipart_upload_leave_nothing(
    s3: tuple[MotoS3, FaultProxy, str], tmp_path: Path
) -> None:
    moto, proxy, bucket = s3
    store = _store(proxy, bucket)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(2 * PART_SIZE + 1234))
    proxy.inject("drop", method="PUT", query="partNumber=2")  # every try of part 2
    with pytest.raises(ArtifactStoreError, match=f"s3://{bucket}/team"):
        store.put_file("big.bin", source)
    assert proxy.count("PUT", "drop") == 1 + RETRIES
    assert _keys(moto, bucket) == []
    assert _open_uploads(moto, bucket) == []  # aborted, not left behind

    proxy.clear()
    proxy.inject("drop", method="PUT", query="partNumber=2", times=1)  # once: retried
    size, _ = store.put_file("big.bin", source)
    assert size == source.stat().st_size
    assert store.open("big.bin").read() == source.read_bytes()


def test_downloads_retry_transient_faults_and_leave_no_partial_file(
    s3: tuple[MotoS3, FaultProxy, str], tmp_path: Path
) -> None:
    _, proxy, bucket = s3
    store = _store(proxy, bucket)
    data = os.urandom(PART_SIZE + 99)
    store.put_bytes("model.bin", data)

    proxy.inject("drop", method="GET", times=1)
    proxy.inject("503", method="GET", times=1)
    assert store.download("model.bin", tmp_path / "ok.bin").read_bytes() == data

    proxy.clear()
    proxy.inject("503", method="GET")
    with pytest.raises(ArtifactStoreError, match=f"s3://{bucket}/team"):
        store.download("model.bin", tmp_path / "out" / "model.bin")
    assert list((tmp_path / "out").iterdir()) == []  # neither the file nor a .part

    with pytest.raises(ArtifactStoreError, match=f"s3://{bucket}/team"):
        store.open("model.bin").read()


def test_answers_later_than_the_timeout_are_retried_then_refused(
    s3: tuple[MotoS3, FaultProxy, str],
) -> None:
    moto, proxy, bucket = s3
    store = _store(proxy, bucket, timeout_s=0.5)
    proxy.inject("slow", method="PUT", times=1, delay_s=2.0)
    store.put_bytes("late.bin", b"once late")  # the retry is answered in time
    assert store.open("late.bin").read() == b"once late"

    proxy.inject("slow", method="PUT", delay_s=2.0)
    with pytest.raises(ArtifactStoreError, match=f"s3://{bucket}/team"):
        store.put_bytes("never.bin", b"always late")
    assert "never.bin" not in " ".join(_keys(moto, bucket))


def test_a_failed_artifact_upload_records_nothing(
    s3: tuple[MotoS3, FaultProxy, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto, proxy, bucket = s3
    for name, value in proxy.environ().items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(PART_SIZE + 10))
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", f"s3://{bucket}/team")
    run = client.start_run(experiment="faults", capture_environment=False)
    proxy.inject("503", method="PUT")
    with pytest.raises(ArtifactStoreError, match=f"s3://{bucket}/team"):
        run.log_artifact(source)
    assert client.list_artifacts(run.id) == []  # no record points at a missing object
    assert _keys(moto, bucket) == []
    assert _open_uploads(moto, bucket) == []
    proxy.clear()
    run.log_artifact(source)
    [info] = client.list_artifacts(run.id)
    assert info.size == source.stat().st_size
    run.end()
    client.close()
