"""A fresh bucket on the S3-compatible server the tests run against (Ceph's RADOS gateway,
started by ``scripts/s3-local.sh``; ``.ci/run`` sets ``AWS_ENDPOINT_URL``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def s3_endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL")


def boto3_client() -> Any:
    boto3 = pytest.importorskip("boto3")
    return boto3.client("s3", endpoint_url=s3_endpoint())


@contextmanager
def new_bucket() -> Iterator[str]:
    """A new, empty bucket, emptied and removed afterwards; skips without a server."""
    if not s3_endpoint():
        pytest.skip("AWS_ENDPOINT_URL is not set (scripts/s3-local.sh start; .ci/run does)")
    client = boto3_client()
    name = f"mlcycle-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=item["Key"])
        client.delete_bucket(Bucket=name)
