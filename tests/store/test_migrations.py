"""Schema creation on first use, upgrades, and refusal of outdated stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from mlcycle.errors import SchemaOutdatedError
from mlcycle.store.sql import migrate
from mlcycle.store.sql.store import open_store


def test_new_store_is_created_at_head(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'sub' / 'new.db'}")
    assert migrate.current_revision(store.db) == migrate.head_revision()
    with store.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.close()


def test_outdated_store_is_refused_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ancient'"))
    store.close()
    with pytest.raises(SchemaOutdatedError, match="mlcycle db upgrade"):
        open_store(url)
    with open_store(url, migrate=False).db.engine.begin() as conn:
        conn.execute(text(f"UPDATE alembic_version SET version_num = '{migrate.head_revision()}'"))
    open_store(url).close()


def test_schema_revision_constant_is_alembics_head() -> None:
    assert migrate.head_revision() == migrate.SCHEMA_REVISION
