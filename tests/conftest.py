"""Shared fixtures: stores on SQLite and PostgreSQL, and clients over them.

PostgreSQL tests run when ``MLCYCLE_TEST_POSTGRES_URL`` is set (CI sets it): each test
session creates a throwaway database and drops it at the end; tables are emptied between
tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import mlcycle
from mlcycle.store.sql.schema import Base
from mlcycle.store.sql.store import SqlStore, open_store

PG_ENV = "MLCYCLE_TEST_POSTGRES_URL"
STORE_KINDS = ["sqlite", "postgres"]


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


@pytest.fixture(params=STORE_KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mlcycle.db'}"
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
def client(store_url: str, tmp_path: Path) -> Iterator[mlcycle.Client]:
    """A client over an empty store on each backend, with artifacts in a temp folder."""
    c = mlcycle.Client(store_url, str(tmp_path / "artifacts"))
    mlcycle.set_client(c)
    yield c
    mlcycle.set_client(None)
    c.close()
