"""Tables of deployments: deployments, their history, and feedback labels.

Conventions (types, naming, Core constants) as in :mod:`mlcycle.store.sql.schema`.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mlcycle.store.sql.schema import ID, KEY, NAME, AutoId, Base

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


# Core tables, for statements.
DEPLOYMENTS = cast(Table, DeploymentRow.__table__)
DEPLOYMENT_EVENTS = cast(Table, DeploymentEventRow.__table__)
FEEDBACK = cast(Table, FeedbackRow.__table__)
