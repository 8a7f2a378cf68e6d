"""Shared fixtures: stores on SQLite and PostgreSQL, and clients over them.

PostgreSQL tests run when ``MLCYCLE_TEST_POSTGRES_URL`` is set (CI sets it): each test
session creates a throwaway database and drops it at the end; tables are emptied between
tests.

Every test that uses ``client`` also runs against a live tracking server ("remote"): one
server process per test session, on a SQLite store that is emptied before each test, with
the client pointed at ``http://127.0.0.1:PORT``. For such a test, ``store_url`` and
``store`` are that server's store, so a test may write through the client and look into
the store. Tests that use only ``store``/``store_url`` run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import cast

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import mlcycle
from mlcycle.store.sql.schema import Base
from mlcycle.store.sql.store import SqlStore, open_store
from tests.server.live import ServerProcess

PG_ENV = "MLCYCLE_TEST_POSTGRES_URL"
STORE_KINDS = ["sqlite", "postgres"]
CLIENT_KINDS = [*STORE_KINDS, "remote"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run store tests on each store, and client tests also against a live server."""
    if "backend_kind" in metafunc.fixturenames:
        kinds = CLIENT_KINDS if "client" in metafunc.fixturenames else STORE_KINDS
        metafunc.parametrize("backend_kind", kinds, indirect=True)


@pytest.fixture
def backend_kind(request: pytest.FixtureRequest) -> str:
    """ "sqlite", "postgres" or (for tests that use ``client``) "remote"."""
    kind: str = request.param
    return kind


@pytest.fixture(scope="session")
def remote_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One tracking server process for the session, on a SQLite store."""
    root = tmp_path_factory.mktemp("remote-server")
    server = ServerProcess(
        f"sqlite:///{root / 'server.db'}", root / "artifacts", root / "server.log"
    )
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (skips without the env var)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    url = make_url(mlcycle.Settings.from_env({"MLCYCLE_TRACKING_URI": base}).tracking_uri)
    name = f"mlcycle_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate(store: SqlStore) -> None:
    with store.db.engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture
def store_url(backend_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: SQLite, PostgreSQL, or the one behind the live server."""
    if backend_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'mlcycle.db'}"
    if backend_kind == "remote":
        server = cast(ServerProcess, request.getfixturevalue("remote_server"))
        server.reset()
        return server.tracking_uri
    url: str = request.getfixturevalue("postgres_url")
    store = open_store(url)
    _truncate(store)
    store.close()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """An empty, migrated SQL store on each backend."""
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def client(
    backend_kind: str, store_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[mlcycle.Client]:
    """A client over an empty store on each backend, with artifacts in a temp folder;
    "remote" is a client of the live server (whose store ``store_url`` is)."""
    if backend_kind == "remote":
        server = cast(ServerProcess, request.getfixturevalue("remote_server"))
        c = mlcycle.Client(server.url)  # builds its RemoteBackend, as for users
    else:
        c = mlcycle.Client(store_url, str(tmp_path / "artifacts"))
    mlcycle.set_client(c)
    yield c
    mlcycle.set_client(None)
    c.close()  # closes the remote backend too


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[ModuleType]:
    """A local Ray cluster (2 CPUs), started once for the session (15-20 s here)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
