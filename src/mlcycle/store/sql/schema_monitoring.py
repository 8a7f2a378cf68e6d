"""Tables of monitoring: monitors, results, alert rules, alerts, deliveries, retraining runs.

Conventions (types, naming, Core constants) as in :mod:`mlcycle.store.sql.schema`.
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
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mlcycle.store.sql.schema import ID, KEY, NAME, Base

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
        Index("ix_alerts_created", "created_at", "id"),  # the listing's keyset order
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


# Core tables, for statements.
MONITORS = cast(Table, MonitorRow.__table__)
MONITOR_RESULTS = cast(Table, MonitorResultRow.__table__)
ALERT_RULES = cast(Table, AlertRuleRow.__table__)
ALERTS = cast(Table, AlertRow.__table__)
ALERT_DELIVERIES = cast(Table, AlertDeliveryRow.__table__)
RETRAIN_RUNS = cast(Table, RetrainRunRow.__table__)
