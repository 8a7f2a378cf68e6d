"""The S3 artifact store against a real S3-compatible server: what goes wrong is one
clear error naming the URI, and nothing is left half-written."""

from __future__ import annotations

import io
import os

import httpx
import pytest

from mlcycle.artifacts import S3ArtifactStore, open_artifact_store
from mlcycle.artifacts.s3 import PART_SIZE, parse_s3_uri
from mlcycle.errors import ArtifactStoreError, InvalidInputError, StoreError
from tests.s3 import boto3_client


def _env(**changes: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(changes)
    return env


def test_uris_parse_and_bad_ones_are_refused() -> None:
    assert parse_s3_uri("s3://b/p/q/") == ("b", "p/q")
    assert parse_s3_uri("s3://b") == ("b", "")
    with pytest.raises(InvalidInputError, match="names no bucket"):
        S3ArtifactStore("s3:///prefix")
    with pytest.raises(InvalidInputError, match="not supported"):
        open_artifact_store("gs://bucket/x")
    assert open_artifact_store("s3://b/p").uri("runs/1/m.pkl") == "s3://b/p/runs/1/m.pkl"


def test_no_credentials_for_a_custom_endpoint_is_refused_before_any_request() -> None:
    store = S3ArtifactStore("s3://bucket/p", environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    with pytest.raises(ArtifactStoreError, match="no credentials") as caught:
        store.put_bytes("k", b"x")
    assert "s3://bucket/p" in str(caught.value)


def test_an_unreachable_endpoint_is_one_clear_error() -> None:
    store = S3ArtifactStore(
        "s3://bucket/p",
        environ={
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # discard port: nothing listens
            "AWS_ACCESS_KEY_ID": "a",
            "AWS_SECRET_ACCESS_KEY": "b",
        },
    )
    with pytest.raises(StoreError, match=r"s3://bucket/p at http://127.0.0.1:9 failed"):
        store.put_bytes("k", b"x")


def test_a_missing_bucket_is_named(bucket: str) -> None:
    store = open_artifact_store(f"s3://{bucket}-absent/x")
    with pytest.raises(ArtifactStoreError, match="does not exist"):
        store.put_bytes("k", b"x")
    with pytest.raises(ArtifactStoreError, match="does not exist"):
        store.open("k")


def test_wrong_credentials_are_refused_naming_the_uri(bucket: str) -> None:
    store = S3ArtifactStore(f"s3://{bucket}/x", environ=_env(AWS_SECRET_ACCESS_KEY="wrong"))
    with pytest.raises(ArtifactStoreError, match="refused the credentials") as caught:
        store.put_bytes("k", b"x")
    assert f"s3://{bucket}/x" in str(caught.value)


class _Exploding(io.RawIOBase):
    """A source that fails after some parts, as a dying upload does."""

    def __init__(self, fail_after: int) -> None:
        self.left = fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            raise OSError("the source went away")
        n = min(len(buffer), self.left)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


def test_an_interrupted_upload_leaves_no_object(bucket: str) -> None:
    store = open_artifact_store(f"s3://{bucket}/x")
    with pytest.raises(OSError, match="went away"):
        store.put_stream("half.bin", io.BufferedReader(_Exploding(3 * PART_SIZE)))
    assert not store.exists("half.bin")
    uploads = boto3_client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert uploads == []  # the multipart upload was aborted, not left to bill


def test_presigned_urls_let_a_plain_http_client_get_and_put(bucket: str) -> None:
    store = open_artifact_store(f"s3://{bucket}/x")
    assert isinstance(store, S3ArtifactStore)
    put = store.presigned_url("direct/a.bin", method="PUT", expires_s=60)
    assert httpx.put(put, content=b"straight to the bucket").status_code == 200
    get = store.presigned_url("direct/a.bin", expires_s=60)
    assert httpx.get(get).content == b"straight to the bucket"
