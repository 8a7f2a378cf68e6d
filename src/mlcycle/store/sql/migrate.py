"""Schema migrations (Alembic), run by ``mlcycle db upgrade`` and on a new, empty store.

Opening a store only reads ``alembic_version`` with plain SQL and compares it with
:data:`SCHEMA_REVISION`; Alembic itself (a third of a second to import) is loaded only when
a migration actually runs. A test checks that the constant matches Alembic's head.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError

from mlcycle.errors import SchemaOutdatedError, StoreError
from mlcycle.store.sql.engine import Database

#: The newest revision under ``migrations/versions``; bump it with every new migration.
SCHEMA_REVISION = "0011"

_SCRIPTS = Path(__file__).parent / "migrations"


def _alembic(module: str) -> Any:
    # Deferred on purpose (import cost, see the module docstring), not to dodge a cycle.
    return importlib.import_module(module)


def _config(connection: Connection | None = None) -> Any:
    config = _alembic("alembic.config").Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision Alembic finds in the migration scripts."""
    script = _alembic("alembic.script").ScriptDirectory.from_config(_config())
    head: str = script.get_current_head()
    return head


def current_revision(db: Database) -> str | None:
    """The store's schema revision, or None for an empty database."""
    try:
        with db.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            found: str | None = conn.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar()
            return found
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        url = db.engine.url.render_as_string(hide_password=True)
        raise StoreError(f"cannot open the store {url}: {reason}") from exc


def upgrade(db: Database, revision: str = "head") -> str:
    """Migrate the store to ``revision`` and return the revision it is at afterwards."""
    with db.engine.begin() as conn:
        _alembic("alembic.command").upgrade(_config(conn), revision)
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
    if current != SCHEMA_REVISION:
        raise SchemaOutdatedError(
            f"the store's schema is at revision {current}, this mlcycle needs "
            f"{SCHEMA_REVISION}: run `mlcycle db upgrade`"
        )
