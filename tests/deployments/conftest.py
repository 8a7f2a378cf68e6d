"""Fixtures for the deployment tests: a client over each store (SQLite, PostgreSQL) with
two registered versions of a small scikit-learn model, and a deployment service with a
manual clock and an audit sink that keeps what it is told."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import mlcycle
from mlcycle.clock import ManualClock
from mlcycle.deployments.resolver import RegistryResolver
from mlcycle.deployments.service import DeploymentService
from tests.conftest import local_backend
from tests.registry.conftest import log_version

START = 1_700_000_000_000


@dataclass
class AuditEvent:
    action: str
    target: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


@dataclass
class ListAudit:
    """An audit sink keeping the events in a list (the real one is the governance's)."""

    events: list[AuditEvent] = field(default_factory=list)

    def record(
        self,
        action: str,
        target: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        self.events.append(AuditEvent(action, target, before, after))


@pytest.fixture
def dclient(store_url: str, tmp_path: Path) -> Iterator[mlcycle.Client]:
    """A client over an empty store (SQLite or PostgreSQL) with versions 1 and 2 of the
    registered model ``churn`` (``champion`` -> 1), set as the default client."""
    c = mlcycle.Client(store_url, str(tmp_path / "artifacts"))
    mlcycle.set_client(c)
    log_version(c, "churn")
    log_version(c, "churn")
    c.registry.set_alias("churn", "champion", 1)
    yield c
    mlcycle.set_client(None)
    c.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def audit() -> ListAudit:
    return ListAudit()


def make_service(
    client: mlcycle.Client, clock: ManualClock, audit: ListAudit | None = None, **kwargs: Any
) -> DeploymentService:
    """A deployment service over the client's store, with a manual clock."""
    store = local_backend(client).store.deployments
    return DeploymentService(
        store,
        RegistryResolver(
            local_backend(client).registry_service,
            load=lambda uri, trusted: mlcycle.models.load(uri, client=client),
        ),
        audit=audit,
        actor=lambda: "tester",
        clock=clock,
        **kwargs,
    )


@pytest.fixture
def service(dclient: mlcycle.Client, clock: ManualClock, audit: ListAudit) -> DeploymentService:
    return make_service(dclient, clock, audit)
