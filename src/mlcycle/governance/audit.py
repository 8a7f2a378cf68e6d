"""The audit trail: a store-backed :class:`~mlcycle.ports.audit.AuditSink`, and reading,
verifying and exporting the hash chain.

Every service that changes state is given an :class:`AuditSink`; :class:`StoreAuditSink`
appends one event per change, under the current actor (see :mod:`mlcycle.governance.actor`),
with secrets removed from the snapshots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mlcycle.clock import system_clock
from mlcycle.entities.governance import (
    GENESIS_HASH,
    AuditEvent,
    AuditQuery,
    AuditVerification,
    canonical_json,
    event_hash,
)
from mlcycle.governance.actor import current_actor
from mlcycle.ids import new_id
from mlcycle.ports.governance import GovernanceRepository
from mlcycle.types import Clock, IdFactory

logger = logging.getLogger("mlcycle.audit")

#: Keys whose values never reach the audit trail (tokens, passwords and their hashes).
SECRET_KEYS = frozenset(
    {"token", "secret", "password", "password_hash", "token_hash", "authorization", "api_key"}
)
REDACTED = "[redacted]"
_PAGE = 5000


def scrub(value: Any) -> Any:
    """``value`` with the values of secret-looking keys replaced, at any depth.

    >>> scrub({"user": "ana", "token": "mlc_x", "nested": {"password": "p"}})
    {'user': 'ana', 'token': '[redacted]', 'nested': {'password': '[redacted]'}}
    """
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if str(k).lower() in SECRET_KEYS else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


class StoreAuditSink:
    """Appends audit events to the store's hash chain (implements ``AuditSink``).

    >>> sink = StoreAuditSink(store.governance)  # doctest: +SKIP
    >>> sink.record("model.retire", "model:churn/3", before={"status": "ready"},
    ...             after={"status": "retired"})  # doctest: +SKIP
    """

    def __init__(
        self,
        repository: GovernanceRepository,
        *,
        actor: Callable[[], str] = current_actor,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
    ) -> None:
        self.repository = repository
        self._actor = actor
        self._clock = clock
        self._new_id = new_id

    def record(
        self,
        action: str,
        target: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one event (the change it records has already happened)."""
        self.repository.append_audit(
            id=self._new_id(),
            at=self._clock(),
            actor=self._actor(),
            action=action,
            target=target,
            before=None if before is None else scrub(before),
            after=None if after is None else scrub(after),
        )


class AuditTrail:
    """Read, verify and export the audit chain (there is no way to change it).

    >>> trail = AuditTrail(store.governance)  # doctest: +SKIP
    >>> trail.verify().ok  # doctest: +SKIP
    True
    """

    def __init__(self, repository: GovernanceRepository) -> None:
        self.repository = repository

    def events(self, query: AuditQuery | None = None) -> list[AuditEvent]:
        """Events matching ``query`` (default: the first 1000), oldest first."""
        return self.repository.audit_events(query or AuditQuery())

    def iter_all(self, query: AuditQuery | None = None) -> Iterator[AuditEvent]:
        """Every event matching ``query`` (its ``limit`` ignored), oldest first, paged."""
        base = query or AuditQuery()
        after = base.after_seq
        while True:
            page = self.repository.audit_events(
                AuditQuery(
                    target=base.target,
                    actor=base.actor,
                    action=base.action,
                    since=base.since,
                    after_seq=after,
                    limit=_PAGE,
                )
            )
            yield from page
            if len(page) < _PAGE:
                return
            after = page[-1].seq

    def verify(self) -> AuditVerification:
        """Recompute the chain; name the first event edited, removed or reordered."""
        return verify_chain(self.iter_all())

    def export_jsonl(self, query: AuditQuery | None = None) -> Iterator[str]:
        """One canonical JSON line per event (with its hashes, so others can verify)."""
        for event in self.iter_all(query):
            yield canonical_json(event.to_dict()) + "\n"


def verify_chain(events: Iterator[AuditEvent] | list[AuditEvent]) -> AuditVerification:
    """Check a whole chain in ``seq`` order: numbering, links and hashes.

    >>> verify_chain([]).ok
    True
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in events:
        count += 1
        problem = None
        if event.seq != expected_seq:
            problem = (
                f"event {expected_seq} is missing (the next one is {event.seq}): "
                "events were removed"
                if event.seq > expected_seq
                else f"event {event.seq} is out of order"
            )
        elif event.prev_hash != prev_hash:
            problem = (
                f"event {event.seq} does not link to event {event.seq - 1}: events were "
                "removed, inserted or reordered"
            )
        else:
            recomputed = event_hash(
                prev_hash,
                seq=event.seq,
                id=event.id,
                at=event.at,
                actor=event.actor,
                action=event.action,
                target=event.target,
                before=event.before,
                after=event.after,
            )
            if recomputed != event.hash:
                problem = f"event {event.seq} was edited: its content does not match its hash"
        if problem is not None:
            return AuditVerification(
                ok=False,
                events=count,
                head=None,
                first_bad=min(event.seq, expected_seq),
                problem=problem,
            )
        prev_hash = event.hash
        expected_seq += 1
    return AuditVerification(
        ok=True, events=count, head=None if count == 0 else prev_hash, first_bad=None
    )
