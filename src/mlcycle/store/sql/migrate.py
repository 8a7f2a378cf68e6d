"""Schema migrations (Alembic), run by ``mlcycle db upgrade`` and on a new, empty store."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from mlcycle.errors import SchemaOutdatedError
from mlcycle.store.sql.engine import Database

_SCRIPTS = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of mlcycle knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The store's schema revision, or None for an empty database."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> str:
    """Migrate the store to ``revision`` and return the revision it is at afterwards."""
    with db.engine.begin() as conn:
        command.upgrade(_config(conn), revision)
    return current_revision(db) or ""


def ensure_schema(db: Database) -> None:
    """Create the schema in an empty store; refuse a store that needs an upgrade.

    Raises:
        SchemaOutdatedError: the store has an older schema; run ``mlcycle db upgrade``.
    """
    current = current_revision(db)
    if current is None:
        with db.engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
        if names & {"experiments", "runs"}:
            raise SchemaOutdatedError(
                "the store has mlcycle tables but no schema revision; it was not made by "
                "mlcycle db upgrade"
            )
        upgrade(db)
        return
    head = head_revision()
    if current != head:
        raise SchemaOutdatedError(
            f"the store's schema is at revision {current}, this mlcycle needs {head}: "
            "run `mlcycle db upgrade`"
        )
