"""search index

A covering index on runs (id, experiment_id, lifecycle_stage): a search joins each
candidate run by ID to check its experiment and stage, and with this index that is one
b-tree search that never reads the run's row (whose summary JSON makes it wide).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_runs_id_experiment_stage", "runs", ["id", "experiment_id", "lifecycle_stage"]
    )


def downgrade() -> None:
    op.drop_index("ix_runs_id_experiment_stage", table_name="runs")
