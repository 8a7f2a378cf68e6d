"""Alembic environment: always run from ``mlcycle.store.sql.migrate`` with a connection."""

from __future__ import annotations

from alembic import context

from mlcycle.store.sql.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
