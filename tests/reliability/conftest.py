"""The reliability suite uses the server tests' live servers (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.server.conftest import api, live, postgres_server  # noqa: F401 - fixtures
