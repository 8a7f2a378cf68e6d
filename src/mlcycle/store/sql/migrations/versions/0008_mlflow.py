"""mlflow

What MLflow's REST API records beyond mlcycle's own tables: logged models, the models and
datasets a run used or produced, MLflow's fields of model versions, and files uploaded
through the artifact proxy outside any run.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlflow_logged_models",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("artifact_path", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("model_type", sa.String(length=250), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("tags", sa.Text(), server_default="{}", nullable=False),
        sa.Column("params", sa.Text(), server_default="{}", nullable=False),
        sa.Column("metrics", sa.Text(), server_default="[]", nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_mlflow_logged_models_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_logged_models")),
    )
    op.create_index(
        "ix_mlflow_logged_models_experiment",
        "mlflow_logged_models",
        ["experiment_id", "created_at"],
    )
    op.create_index("ix_mlflow_logged_models_run", "mlflow_logged_models", ["source_run_id"])
    op.create_table(
        "mlflow_run_models",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_mlflow_run_models_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "model_id", "direction", name=op.f("pk_mlflow_run_models")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "mlflow_run_datasets",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source_type", sa.String(length=250), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("schema", sa.Text(), nullable=True),
        sa.Column("profile", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_mlflow_run_datasets_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "name", "digest", name=op.f("pk_mlflow_run_datasets")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "mlflow_model_versions",
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=True),
        sa.Column("run_link", sa.Text(), nullable=True),
        sa.Column("user_id", sa.String(length=500), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_mlflow_model_versions_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_mlflow_model_versions")),
    )
    op.create_table(
        "mlflow_artifacts",
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_mlflow_artifacts")),
    )


def downgrade() -> None:
    op.drop_table("mlflow_artifacts")
    op.drop_table("mlflow_model_versions")
    op.drop_table("mlflow_run_datasets")
    op.drop_table("mlflow_run_models")
    op.drop_index("ix_mlflow_logged_models_run", table_name="mlflow_logged_models")
    op.drop_index("ix_mlflow_logged_models_experiment", table_name="mlflow_logged_models")
    op.drop_table("mlflow_logged_models")
