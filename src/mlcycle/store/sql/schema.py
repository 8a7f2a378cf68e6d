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


# -- deployments ------------------------------------------------------------------------------


class DeploymentRow(Base):
    """A named endpoint: its model, traffic configuration (JSON) and revision.

    ``revision`` grows by one with every change; writers compare-and-set it.
    """

    __tablename__ = "deployments"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    model_uri: Mapped[str] = mapped_column(String(1000))
    strategy: Mapped[str] = mapped_column(String(16))
    #: JSON lists of arms, the canary policy (or null) and the serving options
    arms: Mapped[str] = mapped_column(Text)
    stable_arms: Mapped[str] = mapped_column(Text)
    canary: Mapped[str | None] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class DeploymentEventRow(Base):
    """One change in a deployment's history; one per revision."""

    __tablename__ = "deployment_events"
    __table_args__ = (UniqueConstraint("deployment_id", "revision"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(ID, ForeignKey("deployments.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(KEY)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str | None] = mapped_column(NAME)
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class FeedbackRow(Base):
    """Ground truth for an answered request. ``deployment`` is a name, not a key: a model
    served without a deployment (``mlcycle serve MODEL_URI``) stores it under its name."""

    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_deployment_at", "deployment", "at"),
        {"sqlite_with_rowid": False},
    )

    deployment: Mapped[str] = mapped_column(NAME, primary_key=True)
    request_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    #: the label as JSON
    label: Mapped[str] = mapped_column(Text)
    at: Mapped[int] = mapped_column(BigInteger)


# -- monitoring -------------------------------------------------------------------------------


class MonitorRow(Base):
    """A monitor on a deployment: its window, reference, schedule and retraining policy."""

    __tablename__ = "monitors"
    __table_args__ = (Index("ix_monitors_deployment", "deployment"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    deployment: Mapped[str] = mapped_column(NAME)
    window_kind: Mapped[str] = mapped_column(String(16))
    window_size: Mapped[int] = mapped_column(BigInteger)
    reference_name: Mapped[str | None] = mapped_column(NAME)
    reference_version: Mapped[int | None] = mapped_column(Integer)
    schedule_ms: Mapped[int | None] = mapped_column(BigInteger)
    min_rows: Mapped[int] = mapped_column(Integer)
    #: the retraining policy as JSON, or null
    retrain: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    last_run_at: Mapped[int | None] = mapped_column(BigInteger)


class MonitorResultRow(Base):
    """One run of a monitor: summary columns for listings, the sections as JSON."""

    __tablename__ = "monitor_results"
    __table_args__ = (Index("ix_monitor_results_monitor", "monitor_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    monitor_id: Mapped[str] = mapped_column(ID, ForeignKey("monitors.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)
    window_start: Mapped[int | None] = mapped_column(BigInteger)
    window_end: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    labelled_rows: Mapped[int] = mapped_column(BigInteger)
    model_name: Mapped[str | None] = mapped_column(NAME)
    model_version: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(NAME)
    dataset_drift: Mapped[bool | None] = mapped_column(Boolean)
    drift_share: Mapped[float | None] = mapped_column(Float)
    quality_issues: Mapped[int] = mapped_column(Integer)
    performance_drop: Mapped[bool | None] = mapped_column(Boolean)
    message: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)


class AlertRuleRow(Base):
    """A condition on a monitor's results, its delivery and its firing state."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("monitor_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    monitor_id: Mapped[str] = mapped_column(ID, ForeignKey("monitors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(KEY)
    condition: Mapped[str] = mapped_column(String(32))
    column: Mapped[str | None] = mapped_column(NAME)
    severity: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str | None] = mapped_column(KEY)
    tolerance: Mapped[float] = mapped_column(Float)
    cooldown_ms: Mapped[int] = mapped_column(BigInteger)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[int] = mapped_column(BigInteger)
    active_since: Mapped[int | None] = mapped_column(BigInteger)
    last_fired_at: Mapped[int | None] = mapped_column(BigInteger)


class AlertRow(Base):
    """A rule that fired on a result; kept when the rule is deleted."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_monitor", "monitor_id", "created_at"),
        Index("ix_alerts_rule", "rule_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    monitor_id: Mapped[str] = mapped_column(ID, ForeignKey("monitors.id", ondelete="CASCADE"))
    rule_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("alert_rules.id", ondelete="SET NULL")
    )
    rule_name: Mapped[str] = mapped_column(KEY)
    result_id: Mapped[str] = mapped_column(ID)
    condition: Mapped[str] = mapped_column(NAME)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    acked_at: Mapped[int | None] = mapped_column(BigInteger)
    acked_by: Mapped[str | None] = mapped_column(NAME)
    resolved_at: Mapped[int | None] = mapped_column(BigInteger)


class AlertDeliveryRow(Base):
    """One delivery of an alert (webhook or log) with its attempts and outcome."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_alert", "alert_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    alert_id: Mapped[str] = mapped_column(ID, ForeignKey("alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)


class RetrainRunRow(Base):
    """A retraining trigger: the job run, the version it registered, its gates."""

    __tablename__ = "retrain_runs"
    __table_args__ = (Index("ix_retrain_runs_monitor", "monitor_id", "started_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    monitor_id: Mapped[str] = mapped_column(ID, ForeignKey("monitors.id", ondelete="CASCADE"))
    deployment: Mapped[str] = mapped_column(NAME)
    alert_id: Mapped[str | None] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    model_name: Mapped[str | None] = mapped_column(NAME)
    base_version: Mapped[int | None] = mapped_column(Integer)
    new_version: Mapped[int | None] = mapped_column(Integer)
    #: the gate results as JSON
    gates: Mapped[str] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)


# -- governance -------------------------------------------------------------------------------


class UserRow(Base):
    """A user of the server; ``password_hash`` is argon2 (null: tokens only)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean)
    password_hash: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ApiTokenRow(Base):
    """An API token: the public ID and the SHA-256 of the secret, never the secret."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(NAME)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class GrantRow(Base):
    """A user's permission level on one experiment (ID) or registered model (name)."""

    __tablename__ = "grants"
    __table_args__ = ({"sqlite_with_rowid": False},)

    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    resource: Mapped[str] = mapped_column(NAME, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)


class ApprovalRow(Base):
    """A request for approval of one protected change, and its decision."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_target", "kind", "target", "status"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(NAME)
    action: Mapped[str] = mapped_column(KEY)
    version: Mapped[int | None] = mapped_column(Integer)
    alias: Mapped[str | None] = mapped_column(KEY)
    requester: Mapped[str] = mapped_column(NAME)
    status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    #: the gate results at request time, as JSON
    gates: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(NAME)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    decided_at: Mapped[int | None] = mapped_column(BigInteger)
    applied_at: Mapped[int | None] = mapped_column(BigInteger)


class ProtectionRow(Base):
    """Whether an alias of a model (``*``: every model) or a deployment needs approval."""

    __tablename__ = "protections"
    __table_args__ = ({"sqlite_with_rowid": False},)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    target: Mapped[str] = mapped_column(NAME, primary_key=True)
    name: Mapped[str] = mapped_column(KEY, primary_key=True)
    protected: Mapped[bool] = mapped_column(Boolean)


class AuditEventRow(Base):
    """One link of the append-only audit chain; ``seq`` counts from 1 without gaps."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target", "seq"),
        Index("ix_audit_events_actor", "actor", "seq"),
        Index("ix_audit_events_at", "at"),
    )

    seq: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(ID, unique=True)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(NAME)
    action: Mapped[str] = mapped_column(KEY)
    target: Mapped[str] = mapped_column(String(1000))
    #: canonical JSON snapshots, or null
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


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
DEPLOYMENTS = cast(Table, DeploymentRow.__table__)
DEPLOYMENT_EVENTS = cast(Table, DeploymentEventRow.__table__)
FEEDBACK = cast(Table, FeedbackRow.__table__)
MONITORS = cast(Table, MonitorRow.__table__)
MONITOR_RESULTS = cast(Table, MonitorResultRow.__table__)
ALERT_RULES = cast(Table, AlertRuleRow.__table__)
ALERTS = cast(Table, AlertRow.__table__)
ALERT_DELIVERIES = cast(Table, AlertDeliveryRow.__table__)
RETRAIN_RUNS = cast(Table, RetrainRunRow.__table__)
USERS = cast(Table, UserRow.__table__)
API_TOKENS = cast(Table, ApiTokenRow.__table__)
GRANTS = cast(Table, GrantRow.__table__)
APPROVALS = cast(Table, ApprovalRow.__table__)
PROTECTIONS = cast(Table, ProtectionRow.__table__)
AUDIT_EVENTS = cast(Table, AuditEventRow.__table__)
MLFLOW_LOGGED_MODELS = cast(Table, MlflowLoggedModelRow.__table__)
MLFLOW_RUN_MODELS = cast(Table, MlflowRunModelRow.__table__)
MLFLOW_RUN_DATASETS = cast(Table, MlflowRunDatasetRow.__table__)
MLFLOW_MODEL_VERSIONS = cast(Table, MlflowModelVersionRow.__table__)
MLFLOW_ARTIFACTS = cast(Table, MlflowArtifactRow.__table__)
