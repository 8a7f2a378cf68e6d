"""alerts listing

An index on alerts (created_at, id): the listing of every alert, newest first, pages with
keyset tokens on exactly that order, so a page reads its rows from the index instead of
sorting the whole table (100,000 alerts) for each page.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_created", "alerts", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alerts_created", table_name="alerts")
