"""Tables of governance: users, tokens, grants, approvals, protections, the audit trail.

Conventions (types, naming, Core constants) as in :mod:`mlcycle.store.sql.schema`.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mlcycle.store.sql.schema import ID, KEY, NAME, AutoId, Base

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


# Core tables, for statements.
USERS = cast(Table, UserRow.__table__)
API_TOKENS = cast(Table, ApiTokenRow.__table__)
GRANTS = cast(Table, GrantRow.__table__)
APPROVALS = cast(Table, ApprovalRow.__table__)
PROTECTIONS = cast(Table, ProtectionRow.__table__)
AUDIT_EVENTS = cast(Table, AuditEventRow.__table__)
