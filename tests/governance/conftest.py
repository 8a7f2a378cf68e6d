"""Fixtures for the governance tests: a governance service (auth on) over each store, a
client over each store, and helpers that create users with tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
from mlcycle.clock import ManualClock
from mlcycle.governance.service import GovernanceService
from mlcycle.store.sql.store import SqlStore


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000_000)


@pytest.fixture
def gov(store: SqlStore, clock: ManualClock) -> GovernanceService:
    """Governance with auth on (four eyes enforced) over an empty store."""
    return GovernanceService(store.governance, auth_enabled=True, clock=clock)


@pytest.fixture
def gclient(store_url: str, tmp_path: Path) -> Iterator[mlcycle.Client]:
    """A client over an empty store (SQLite or PostgreSQL)."""
    c = mlcycle.Client(store_url, str(tmp_path / "artifacts"))
    mlcycle.set_client(c)
    yield c
    mlcycle.set_client(None)
    c.close()


def make_users(gov: GovernanceService) -> dict[str, str]:
    """One user per role (named after it) and a token each: role -> token."""
    tokens = {}
    for role in ("viewer", "editor", "approver", "admin"):
        gov.users.create_user(role, role=role)
        tokens[role] = gov.users.create_token(role).secret
    return tokens
