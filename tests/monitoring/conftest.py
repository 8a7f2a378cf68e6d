"""Fixtures for the monitoring tests: a client over each store (SQLite, PostgreSQL) with a
deployed, monitored model, and a real local HTTP receiver for webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
from mlcycle.monitoring.webhooks import RetryPolicy
from tests.conftest import local_backend
from tests.monitoring._receiver import Receiver
from tests.monitoring._setup import Setup, deploy_churn


@pytest.fixture
def mclient(store_url: str, tmp_path: Path) -> Iterator[mlcycle.Client]:
    """A client over an empty store (SQLite or PostgreSQL), set as the default client;
    webhook retries back off for milliseconds, not seconds."""
    c = mlcycle.Client(store_url, str(tmp_path / "artifacts"))
    mlcycle.set_client(c)
    local_backend(c).monitoring_service.delivery.retry = RetryPolicy(
        attempts=3, backoff_s=0.01, timeout_s=5.0
    )
    yield c
    mlcycle.set_client(None)
    c.close()


@pytest.fixture
def deployed(mclient: mlcycle.Client) -> Setup:
    return deploy_churn(mclient)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r
