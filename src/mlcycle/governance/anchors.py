"""Anchoring the audit chain's head outside the store.

The hash chain shows an edited, removed or reordered event, but not a chain recomputed
from scratch, its newest events cut off, or a forged event appended: whoever can write the
store can do those consistently. An anchor is a fact about the chain kept where that person
cannot write:

- the head hash printed by ``mlcycle audit verify`` (``--expect-head HASH`` later checks
  that the chain still holds that event, unchanged, with later events only appended);
- signed checkpoints: ``mlcycle audit checkpoint --output FILE`` appends the current head
  (``seq``, ``hash``, ``at``) to a file of the operator's choice, signed with HMAC-SHA256
  under the key in ``MLCYCLE_AUDIT_KEY``; ``mlcycle audit verify --checkpoints FILE`` checks
  every signature and that the chain still holds every checkpointed event. Events after
  the newest checkpoint are reported as not anchored yet.

>>> key = "k" * 32
>>> point = make_checkpoint(3, "ab" * 32, 1_700_000_000_000, key)
>>> parse_checkpoint(point.to_json(), key) == point
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mlcycle.entities.governance import AuditEvent, AuditVerification
from mlcycle.errors import InvalidInputError
from mlcycle.governance.audit import verify_chain

MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement "event ``seq`` of the chain had hash ``hash`` at ``at``"."""

    seq: int
    hash: str
    at: int
    signature: str

    def to_json(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "at": self.at, "signature": self.signature},
            sort_keys=True,
        )


def _check_key(key: str | None) -> bytes:
    if not key or len(key) < MIN_KEY_LENGTH:
        raise InvalidInputError(
            f"signed checkpoints need MLCYCLE_AUDIT_KEY: a secret of at least {MIN_KEY_LENGTH} "
            "characters, kept away from the store (e.g. `openssl rand -hex 32`)",
            field="audit_key",
        )
    return key.encode()


def _sign(seq: int, hash: str, at: int, key: str | None) -> str:
    message = f"mlcycle-audit-checkpoint:{seq}:{hash}:{at}".encode()
    return hmac.new(_check_key(key), message, hashlib.sha256).hexdigest()


def make_checkpoint(seq: int, hash: str, at: int, key: str | None) -> Checkpoint:
    """A checkpoint of the event ``seq`` with hash ``hash``, signed with ``key``."""
    return Checkpoint(seq=seq, hash=hash, at=at, signature=_sign(seq, hash, at, key))


def parse_checkpoint(line: str, key: str | None) -> Checkpoint:
    """Read one checkpoint line; InvalidInputError when it is malformed or its signature
    does not match (it was not written with ``key``, or was altered)."""
    try:
        data = json.loads(line)
        point = Checkpoint(
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            at=int(data["at"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"malformed checkpoint line: {exc}", field="checkpoints") from None
    expected = _sign(point.seq, point.hash, point.at, key)
    if not hmac.compare_digest(expected, point.signature):
        raise InvalidInputError(
            f"the checkpoint of event {point.seq} has a bad signature: it was altered or "
            "signed with another key",
            field="checkpoints",
        )
    return point


def read_checkpoints(path: Path, key: str | None) -> list[Checkpoint]:
    """Every checkpoint in the file at ``path`` (one JSON line each), signatures checked."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read checkpoints from {str(path)!r}: {exc.strerror}", field="checkpoints"
        ) from None
    return [parse_checkpoint(line, key) for line in lines if line.strip()]


def append_checkpoint(path: Path, point: Checkpoint) -> None:
    """Append ``point`` to the file at ``path`` (created when missing)."""
    with path.open("a", encoding="utf-8") as f:
        f.write(point.to_json() + "\n")


def verify_anchored(
    events: Iterable[AuditEvent],
    *,
    expect_head: str | None = None,
    checkpoints: Sequence[Checkpoint] = (),
) -> AuditVerification:
    """Verify the chain (:func:`~mlcycle.governance.audit.verify_chain`) and that it still
    holds the anchored events: the one whose hash is ``expect_head`` and each checkpoint's.
    """
    wanted = {c.seq: c for c in checkpoints}
    found_head: list[int] = []
    mismatch: list[tuple[int, str]] = []

    def watch(source: Iterable[AuditEvent]) -> Iterator[AuditEvent]:
        for event in source:
            if expect_head is not None and event.hash == expect_head:
                found_head.append(event.seq)
            point = wanted.get(event.seq)
            if point is not None and point.hash != event.hash:
                mismatch.append(
                    (
                        event.seq,
                        f"event {event.seq} differs from its signed checkpoint: the chain "
                        "was recomputed or rewritten from there",
                    )
                )
            yield event

    result = verify_chain(watch(events))
    if not result.ok:
        return result
    first_bad, problem = mismatch[0] if mismatch else (result.events + 1, None)
    if problem is None and expect_head is not None and not found_head:
        problem = (
            f"the expected head {expect_head[:16]}... is not in the chain: events at the end "
            "were removed, or the chain was recomputed"
        )
    last = max(wanted, default=0)
    if problem is None and last > result.events:
        problem = (
            f"the chain ends at event {result.events} but a signed checkpoint holds event "
            f"{last}: events at the end were removed"
        )
    if problem is not None:
        return replace(result, ok=False, head=None, first_bad=first_bad, problem=problem)
    return result
