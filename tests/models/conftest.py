"""Model tests against a tracking server download models into the client's cache, which
lives under the default artifact folder (the working directory's ``.mlcycle``): remove it
after each test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlcycle import Client
from mlcycle.client.loading import CACHE_DIR


@pytest.fixture(autouse=True)
def _clean_model_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    client = request.node.funcargs.get("client")
    if isinstance(client, Client) and client.settings.is_remote:
        shutil.rmtree(Path(client.settings.artifact_uri) / CACHE_DIR, ignore_errors=True)
