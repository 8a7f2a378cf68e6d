"""Live servers with ``--auth`` for the auth tests, on SQLite and PostgreSQL, and a fresh
set of users (one per role, named after it) with tokens before each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import pytest

from mlcycle.governance.service import GovernanceService
from mlcycle.store.sql.store import SqlStore, open_store
from tests.server.live import ServerProcess

ROLES = ("viewer", "editor", "approver", "admin")


@dataclass
class AuthServer:
    server: ServerProcess
    tokens: dict[str, str]
    store: SqlStore

    @property
    def url(self) -> str:
        return self.server.url

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def governance(self) -> GovernanceService:
        """Governance over the server's store (as `mlcycle users` on its machine)."""
        return GovernanceService(self.store.governance)


@pytest.fixture(scope="session")
def sqlite_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("auth-server")
    server = ServerProcess(
        f"sqlite:///{root / 'auth.db'}",
        root / "artifacts",
        root / "server.log",
        extra_args=("--auth",),
    )
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_auth_server(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("pg-auth-server")
    server = ServerProcess(
        postgres_url, root / "artifacts", root / "server.log", extra_args=("--auth",)
    )
    server.start()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgres"])
def auth_server(request: pytest.FixtureRequest) -> Iterator[AuthServer]:
    """A live ``--auth`` server on each store, emptied, with one user per role; ``store``
    is its store, open for the test."""
    name = "sqlite_auth_server" if request.param == "sqlite" else "postgres_auth_server"
    server = cast(ServerProcess, request.getfixturevalue(name))
    server.reset()
    store = open_store(server.tracking_uri)
    gov = GovernanceService(store.governance)
    tokens = {}
    for role in ROLES:
        gov.users.create_user(role, role=role)
        tokens[role] = gov.users.create_token(role).secret
    yield AuthServer(server, tokens, store)
    store.close()
