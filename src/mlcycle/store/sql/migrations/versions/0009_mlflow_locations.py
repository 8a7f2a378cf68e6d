"""mlflow locations

Two things MLflow's REST API records that 0008 could not: the ``artifact_location`` a client
gave an experiment (``mlflow_experiments``), and a logged model's ``source_run_id`` naming a
run this server does not have (``mlflow_logged_models.files_in_run`` false: its files are in
the MLflow artifact area, not among a run's artifacts).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlflow_experiments",
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("artifact_location", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_mlflow_experiments_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("experiment_id", name=op.f("pk_mlflow_experiments")),
    )
    with op.batch_alter_table("mlflow_logged_models") as batch:
        batch.add_column(
            sa.Column("files_in_run", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("mlflow_logged_models") as batch:
        batch.drop_column("files_in_run")
    op.drop_table("mlflow_experiments")
