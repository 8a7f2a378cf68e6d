"""Tables of MLflow compatibility.

Conventions (types, naming, Core constants) as in :mod:`mlcycle.store.sql.schema`.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from mlcycle.store.sql.schema import ID, KEY, NAME, Base

# -- mlflow compatibility ---------------------------------------------------------------------
# What MLflow's REST API has and mlcycle's own tables do not (see server/mlflow/): the rest of
# what MLflow clients log lands in the tables above (experiments, runs, registry).

MODEL_ID = String(64)


class MlflowLoggedModelRow(Base):
    """An MLflow 3 logged model (``mlflow.<flavor>.log_model``). Its files are artifacts of
    its source run at ``artifact_path``; a model logged without a run keeps them in the
    MLflow artifact area under ``artifact_path``. Tags, params and metrics are JSON."""

    __tablename__ = "mlflow_logged_models"
    __table_args__ = (
        Index("ix_mlflow_logged_models_experiment", "experiment_id", "created_at"),
        Index("ix_mlflow_logged_models_run", "source_run_id"),
    )

    id: Mapped[str] = mapped_column(MODEL_ID, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ID, ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(NAME)
    source_run_id: Mapped[str | None] = mapped_column(ID)
    artifact_path: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(32))
    status_message: Mapped[str | None] = mapped_column(Text)
    model_type: Mapped[str | None] = mapped_column(KEY)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    tags: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    params: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    metrics: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    #: false when ``source_run_id`` names no run of this server (MLflow takes any string):
    #: the files are then in the MLflow artifact area
    files_in_run: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class MlflowExperimentRow(Base):
    """The ``artifact_location`` an MLflow client gave an experiment at creation (MLflow
    reports it back; runs' artifacts still go through this server's artifact store)."""

    __tablename__ = "mlflow_experiments"

    experiment_id: Mapped[str] = mapped_column(
        ID, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    artifact_location: Mapped[str] = mapped_column(Text)


class MlflowRunModelRow(Base):
    """A logged model a run produced (``output``, at a step) or used (``input``)."""

    __tablename__ = "mlflow_run_models"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[str] = mapped_column(MODEL_ID, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)


class MlflowRunDatasetRow(Base):
    """A dataset an MLflow client logged as a run input (``log_input``): a reference with
    its digest, source, schema and profile as the client described them."""

    __tablename__ = "mlflow_run_datasets"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    digest: Mapped[str] = mapped_column(MODEL_ID, primary_key=True)
    source_type: Mapped[str] = mapped_column(KEY)
    source: Mapped[str] = mapped_column(Text)
    schema: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[str | None] = mapped_column(Text)
    #: the input's tags (``mlflow.data.context``...) as JSON
    tags: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    created_at: Mapped[int] = mapped_column(BigInteger)


class MlflowModelVersionRow(Base):
    """What MLflow records of a model version beyond mlcycle's: the source URI as given, the
    logged model, run link, user and (deprecated) stage."""

    __tablename__ = "mlflow_model_versions"

    version_id: Mapped[str] = mapped_column(
        ID, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(Text)
    model_id: Mapped[str | None] = mapped_column(MODEL_ID)
    run_link: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(NAME)
    stage: Mapped[str] = mapped_column(String(32))


class MlflowArtifactRow(Base):
    """A file uploaded through MLflow's artifact proxy outside any run's artifacts (e.g. a
    logged model without a run), so listing never walks the artifact store."""

    __tablename__ = "mlflow_artifacts"

    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)


# Core tables, for statements.
MLFLOW_LOGGED_MODELS = cast(Table, MlflowLoggedModelRow.__table__)
MLFLOW_RUN_MODELS = cast(Table, MlflowRunModelRow.__table__)
MLFLOW_RUN_DATASETS = cast(Table, MlflowRunDatasetRow.__table__)
MLFLOW_MODEL_VERSIONS = cast(Table, MlflowModelVersionRow.__table__)
MLFLOW_ARTIFACTS = cast(Table, MlflowArtifactRow.__table__)
MLFLOW_EXPERIMENTS = cast(Table, MlflowExperimentRow.__table__)
