"""The audit trail in the SQL store: an append-only hash chain.

Appends are serialised so that two writers never both link to the same previous event (a
fork): SQLite write transactions are serial already (``BEGIN IMMEDIATE``); on PostgreSQL
each append first takes a transaction-scoped advisory lock. ``seq`` is assigned inside the
lock (previous + 1), so the chain has no gaps unless a row is removed.

There is deliberately no method to change or delete events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, insert, select, text

from mlcycle.entities.governance import (
    GENESIS_HASH,
    AuditEvent,
    AuditQuery,
    canonical_json,
    event_hash,
)
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema_governance import AUDIT_EVENTS

E = AUDIT_EVENTS.c

#: The advisory lock key of the audit chain on PostgreSQL ("audit" in ASCII).
_CHAIN_LOCK = 0x6175646974


def _normalized(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The snapshot as it will read back from its stored JSON text."""
    if value is None:
        return None
    loaded: dict[str, Any] = json.loads(canonical_json(dict(value)))
    return loaded


def _text(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else canonical_json(value)


def _loaded(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        loaded = json.loads(value)
    except ValueError:  # an edited row: keep the text so verification names the event
        return {"unreadable": value}
    return loaded if isinstance(loaded, dict) else {"unreadable": value}


def _event(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        before=_loaded(row.before),
        after=_loaded(row.after),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlAuditTrail:
    """Append and read audit events (see :class:`mlcycle.ports.governance.GovernanceRepository`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _lock_chain(self, conn: Connection) -> None:
        if self._db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})

    def append_audit(
        self,
        *,
        id: str,
        at: int,
        actor: str,
        action: str,
        target: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> AuditEvent:
        before_n, after_n = _normalized(before), _normalized(after)
        with self._db.write() as conn:
            self._lock_chain(conn)
            last = conn.execute(select(E.seq, E.hash).order_by(E.seq.desc()).limit(1)).first()
            seq = 1 if last is None else last.seq + 1
            prev = GENESIS_HASH if last is None else last.hash
            digest = event_hash(
                prev,
                seq=seq,
                id=id,
                at=at,
                actor=actor,
                action=action,
                target=target,
                before=before_n,
                after=after_n,
            )
            conn.execute(
                insert(AUDIT_EVENTS).values(
                    seq=seq,
                    id=id,
                    at=at,
                    actor=actor,
                    action=action,
                    target=target,
                    before=_text(before_n),
                    after=_text(after_n),
                    prev_hash=prev,
                    hash=digest,
                )
            )
        return AuditEvent(
            seq=seq,
            id=id,
            at=at,
            actor=actor,
            action=action,
            target=target,
            before=before_n,
            after=after_n,
            prev_hash=prev,
            hash=digest,
        )

    def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        stmt = select(AUDIT_EVENTS).where(E.seq > query.after_seq)
        if query.target is not None:
            if query.target.endswith("*"):
                prefix = query.target[:-1]
                stmt = stmt.where(E.target.startswith(prefix, autoescape=True))
            else:
                stmt = stmt.where(E.target == query.target)
        if query.actor is not None:
            stmt = stmt.where(E.actor == query.actor)
        if query.action is not None:
            stmt = stmt.where(E.action.startswith(query.action, autoescape=True))
        if query.since is not None:
            stmt = stmt.where(E.at >= query.since)
        stmt = stmt.order_by(E.seq).limit(query.limit)
        with self._db.read() as conn:
            return [_event(r) for r in conn.execute(stmt)]
