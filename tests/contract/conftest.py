"""The contract suites' backends: every capability over SQLite, PostgreSQL and a server.

A test asks for ``platform``; it runs three times: with the local services over a
SQLite store, over a PostgreSQL store (when ``MLCYCLE_TEST_POSTGRES_URL`` is set), and
with the HTTP backends against a real ``mlcycle server`` process on 127.0.0.1 (on
SQLite, emptied before each test). ``platform.tracking`` is a client of the same store
or server, for setting up runs and models the way users do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

import mlcycle
from mlcycle.backends.http import (
    HttpDatasets,
    HttpDeployments,
    HttpGovernance,
    HttpMonitoring,
    HttpRegistry,
)
from mlcycle.remote.http import HttpSession, RetryPolicy
from mlcycle.store.sql.store import open_store
from tests.conftest import _truncate
from tests.server.live import ServerProcess

KINDS = ["sqlite", "postgres", "server"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "contract_kind" in metafunc.fixturenames:
        metafunc.parametrize("contract_kind", KINDS, indirect=True)


@pytest.fixture
def contract_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@dataclass
class Platform:
    """The backend under test, one attribute per capability."""

    kind: str
    tracking: mlcycle.Client
    artifact_uri: str
    datasets: Any
    registry: Any
    deployments: Any
    monitoring: Any
    governance: Any
    http: HttpSession | None = None

    @property
    def remote(self) -> bool:
        return self.http is not None


@pytest.fixture
def platform(
    contract_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Platform]:
    if contract_kind == "server":
        server = cast(ServerProcess, request.getfixturevalue("remote_server"))
        server.reset()
        http = HttpSession(server.url, retry=RetryPolicy(budget_s=5.0))
        tracking = mlcycle.Client(server.url)
        yield Platform(
            kind=contract_kind,
            tracking=tracking,
            artifact_uri=server.artifact_uri,
            datasets=HttpDatasets(http),
            registry=HttpRegistry(http),
            deployments=HttpDeployments(http),
            monitoring=HttpMonitoring(http),
            governance=HttpGovernance(http),
            http=http,
        )
        http.close()
        tracking.close()
        return
    if contract_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'mlcycle.db'}"
    else:
        url = cast(str, request.getfixturevalue("postgres_url"))
        store = open_store(url)
        _truncate(store)
        store.close()
    local = mlcycle.Client(url, str(tmp_path / "artifacts"))
    mlcycle.set_client(local)
    yield Platform(
        kind=contract_kind,
        tracking=local,
        artifact_uri=local.settings.artifact_uri,
        datasets=local.datasets,
        registry=local.registry,
        deployments=local.deployments,
        monitoring=local.monitoring,
        governance=local.governance,
    )
    mlcycle.set_client(None)
    local.close()
