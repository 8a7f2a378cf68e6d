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
