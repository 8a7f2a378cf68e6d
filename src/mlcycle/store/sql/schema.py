"""SQLAlchemy 2 typed models: the store's tables.

Metric points are stored as compressed columnar chunks (``metric_chunks``), one row per
(run, key, write batch), so ten million points take a few thousand rows; the latest value
per key lives apart in ``latest_metrics`` so search joins a small table.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(32)
KEY = String(250)
NAME = String(500)

# A portable auto-increment 64-bit key: SQLite only auto-increments INTEGER PRIMARY KEY.
AutoId = BigInteger().with_variant(Integer, "sqlite")

naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=naming)


class ExperimentRow(Base):
    __tablename__ = "experiments"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    task: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(NAME)
    primary_metric: Mapped[str | None] = mapped_column(KEY)
    direction: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str | None] = mapped_column(Text)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class ExperimentTagRow(Base):
    __tablename__ = "experiment_tags"
    __table_args__ = ({"sqlite_with_rowid": False},)

    experiment_id: Mapped[str] = mapped_column(
        ID, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_experiment_start", "experiment_id", "start_time"),
        Index("ix_runs_parent", "parent_id"),
        Index("ix_runs_stage_deleted", "lifecycle_stage", "deleted_at"),
        # search checks each candidate's experiment and stage without reading its row
        Index("ix_runs_id_experiment_stage", "id", "experiment_id", "lifecycle_stage"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ID, ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(NAME)
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    parent_id: Mapped[str | None] = mapped_column(ID)
    description: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)
    #: params, latest metrics and tags as JSON (see ``store.sql.summary``)
    summary: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


# Child tables keyed by (run_id, key) are WITHOUT ROWID on SQLite: the row lives in the
# primary-key b-tree, so a lookup by run and key is one search instead of two.


class ParamRow(Base):
    __tablename__ = "params"
    __table_args__ = (Index("ix_params_key_value", "key", "value"), {"sqlite_with_rowid": False})

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(String(6000))


class TagRow(Base):
    __tablename__ = "tags"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LatestMetricRow(Base):
    """The point with the highest (step, timestamp) per run and key.

    NaN is stored as ``value = NULL`` with ``is_nan = true``: SQLite cannot store NaN and
    PostgreSQL sorts NaN above every number, so NULL keeps filters the same on both.
    """

    __tablename__ = "latest_metrics"
    __table_args__ = (
        Index("ix_latest_metrics_key_value", "key", "value"),
        {"sqlite_with_rowid": False},
    )

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(Boolean)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class MetricChunkRow(Base):
    """A compressed block of points of one run and key (see ``store.sql.chunks``)."""

    __tablename__ = "metric_chunks"
    __table_args__ = (Index("ix_metric_chunks_run_key", "run_id", "key", "id"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(KEY)
    count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ArtifactRow(Base):
    __tablename__ = "artifacts"

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)


class IngestBatchRow(Base):
    """The ID of a metric batch already stored, so that a retried batch is acknowledged, not
    stored twice. Inserted in the same transaction as the batch's chunks (both or neither);
    a run's rows are removed when it ends, since an ended run takes no more metrics.
    """

    __tablename__ = "ingest_batches"
    __table_args__ = (Index("ix_ingest_batches_run", "run_id"),)

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(BigInteger)


# -- datasets -------------------------------------------------------------------------------


class DatasetRow(Base):
    """A dataset name; its versions hold the data."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class DatasetVersionRow(Base):
    """One immutable version: a content-addressed Parquet file plus its schema and profile.

    A digest appears once per dataset; several datasets may share a digest (and its file).
    """

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        UniqueConstraint("dataset_id", "digest"),
        Index("ix_dataset_versions_digest", "digest"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ID, ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(1000))
    num_rows: Mapped[int] = mapped_column(BigInteger)
    num_columns: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    #: ``[{"name", "type", "logical_type"}, ...]`` as JSON
    schema: Mapped[str] = mapped_column(Text)
    #: ``DatasetProfile.to_dict()`` as JSON
    profile: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    #: ``{key: value}`` as JSON
    tags: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    created_at: Mapped[int] = mapped_column(BigInteger)
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class DatasetVersionParentRow(Base):
    """Lineage: ``version_id`` was made from ``parent_id`` by a transform."""

    __tablename__ = "dataset_version_parents"
    __table_args__ = (
        Index("ix_dataset_version_parents_parent", "parent_id"),
        {"sqlite_with_rowid": False},
    )

    version_id: Mapped[str] = mapped_column(
        ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[str] = mapped_column(
        ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)
    transform: Mapped[str] = mapped_column(KEY)
    #: the transform's parameters as JSON
    params: Mapped[str] = mapped_column(Text)
    code_ref: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)


class DatasetValidationRow(Base):
    """A validation report of a version (``ValidationReport.to_dict()`` as JSON)."""

    __tablename__ = "dataset_validations"
    __table_args__ = (Index("ix_dataset_validations_version", "version_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    version_id: Mapped[str] = mapped_column(
        ID, ForeignKey("dataset_versions.id", ondelete="CASCADE")
    )
    created_at: Mapped[int] = mapped_column(BigInteger)
    passed: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[str] = mapped_column(Text)


class DatasetSourceRow(Base):
    """The content digest of a source file seen before, by the SHA-256 of its bytes: the
    same file registered again is recognised without decoding it."""

    __tablename__ = "dataset_sources"

    fingerprint: Mapped[str] = mapped_column(String(100), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)


class RunInputRow(Base):
    """A run used a dataset version in a context (``train``, ``eval``, ...)."""

    __tablename__ = "run_inputs"
    __table_args__ = (
        Index("ix_run_inputs_version", "version_id"),
        {"sqlite_with_rowid": False},
    )

    run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[str] = mapped_column(
        ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    context: Mapped[str] = mapped_column(KEY, primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class RegisteredModelRow(Base):
    """A registered model: a name whose versions are numbered from 1."""

    __tablename__ = "registered_models"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(NAME)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class RegisteredModelTagRow(Base):
    __tablename__ = "registered_model_tags"
    __table_args__ = ({"sqlite_with_rowid": False},)

    model_id: Mapped[str] = mapped_column(
        ID, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersionRow(Base):
    """A version of a registered model: the model logged at ``run_id``/``artifact_path``."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        Index("ix_model_versions_run", "run_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    model_id: Mapped[str] = mapped_column(
        ID, ForeignKey("registered_models.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(ID)
    artifact_path: Mapped[str] = mapped_column(String(1000))
    flavor: Mapped[str | None] = mapped_column(String(64))
    #: the model's signature as JSON
    signature: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ModelVersionTagRow(Base):
    __tablename__ = "model_version_tags"
    __table_args__ = ({"sqlite_with_rowid": False},)

    version_id: Mapped[str] = mapped_column(
        ID, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(KEY, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelAliasRow(Base):
    """An alias (``champion``...) of a registered model, pointing at one of its versions."""

    __tablename__ = "model_aliases"
    __table_args__ = (
        Index("ix_model_aliases_version", "version_id"),
        {"sqlite_with_rowid": False},
    )

    model_id: Mapped[str] = mapped_column(
        ID, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(KEY, primary_key=True)
    version_id: Mapped[str] = mapped_column(ID, ForeignKey("model_versions.id", ondelete="CASCADE"))
    updated_at: Mapped[int] = mapped_column(BigInteger)


class GateResultRow(Base):
    """The result of a promotion gate, kept with the version it was checked for."""

    __tablename__ = "gate_results"
    __table_args__ = (Index("ix_gate_results_version", "version_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    version_id: Mapped[str] = mapped_column(ID, ForeignKey("model_versions.id", ondelete="CASCADE"))
    alias: Mapped[str | None] = mapped_column(KEY)
    gate: Mapped[str] = mapped_column(KEY)
    passed: Mapped[bool] = mapped_column(Boolean)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text)
    forced: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)


# Core tables, for statements: the ORM-enabled insert/update path costs far more per row.
ARTIFACTS = cast(Table, ArtifactRow.__table__)
EXPERIMENTS = cast(Table, ExperimentRow.__table__)
EXPERIMENT_TAGS = cast(Table, ExperimentTagRow.__table__)
METRIC_CHUNKS = cast(Table, MetricChunkRow.__table__)
RUNS = cast(Table, RunRow.__table__)
TAGS = cast(Table, TagRow.__table__)
PARAMS = cast(Table, ParamRow.__table__)
LATEST_METRICS = cast(Table, LatestMetricRow.__table__)
INGEST_BATCHES = cast(Table, IngestBatchRow.__table__)
DATASETS = cast(Table, DatasetRow.__table__)
DATASET_VERSIONS = cast(Table, DatasetVersionRow.__table__)
DATASET_VERSION_PARENTS = cast(Table, DatasetVersionParentRow.__table__)
DATASET_VALIDATIONS = cast(Table, DatasetValidationRow.__table__)
DATASET_SOURCES = cast(Table, DatasetSourceRow.__table__)
RUN_INPUTS = cast(Table, RunInputRow.__table__)
REGISTERED_MODELS = cast(Table, RegisteredModelRow.__table__)
REGISTERED_MODEL_TAGS = cast(Table, RegisteredModelTagRow.__table__)
MODEL_VERSIONS = cast(Table, ModelVersionRow.__table__)
MODEL_VERSION_TAGS = cast(Table, ModelVersionTagRow.__table__)
MODEL_ALIASES = cast(Table, ModelAliasRow.__table__)
GATE_RESULTS = cast(Table, GateResultRow.__table__)

# The later stages' tables live in modules of their own (schema_<stage>.py); importing them
# here keeps every table in Base.metadata for migrations and tests.
from mlcycle.store.sql import (  # noqa: E402, F401
    schema_deployments,
    schema_governance,
    schema_mlflow,
    schema_monitoring,
)
