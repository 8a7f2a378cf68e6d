"""Live servers for the server tests: the session's SQLite server (see tests/conftest.py)
and, with ``MLCYCLE_TEST_POSTGRES_URL``, one on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest

from tests.server.authlive import (  # noqa: F401 - the auth tests' fixtures
    auth_server,
    postgres_auth_server,
    sqlite_auth_server,
)
from tests.server.live import ServerProcess


@pytest.fixture(scope="session")
def postgres_server(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("pg-server")
    server = ServerProcess(postgres_url, root / "artifacts", root / "server.log")
    server.start()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest) -> ServerProcess:
    """A running server on each store kind (shared by the tests of a session)."""
    name = "remote_server" if request.param == "sqlite" else "postgres_server"
    return cast(ServerProcess, request.getfixturevalue(name))


@pytest.fixture
def api(live: ServerProcess) -> Iterator[httpx.Client]:
    """A plain HTTP client of the live server, as a non-Python user would have."""
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


def unique(prefix: str = "exp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error response (asserting the shape)."""
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert isinstance(error["type"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def new_run(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    """A new run in a new experiment."""
    exp = api.post("/api/v1/experiments", json={"name": unique()}).json()
    run = api.post("/api/v1/runs", json={"experiment_id": exp["id"], **fields})
    assert run.status_code == 201, run.text
    body: dict[str, Any] = run.json()
    return body
