"""Governance: users, API tokens, roles and grants, approvals, and the audit trail.

A user holds one global :class:`Role`; :class:`Grant` rows widen what a user may do on one
experiment or registered model. :class:`Permission` is what a request needs. An
:class:`Approval` is a second person's consent to one protected change (moving a protected
alias, a rollout to a protected deployment). :class:`AuditEvent` is one link of the
append-only, hash-chained audit trail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: Tags a retired model version carries (readable by the registry's clients and serving).
RETIRED_REASON_TAG = "mlcycle.retired.reason"
RETIRED_BY_TAG = "mlcycle.retired.by"
RETIRED_AT_TAG = "mlcycle.retired.at"
ARTIFACTS_DELETED_TAG = "mlcycle.retired.artifacts_deleted_at"
LEGAL_HOLD_TAG = "mlcycle.legal_hold"
#: Model card fields the owner sets (stored as version tags ``mlcycle.card.<field>``).
CARD_TAG_PREFIX = "mlcycle.card."
CARD_FIELDS = ("intended_use", "limitations", "ethical_considerations")


class Permission(StrEnum):
    """What a request needs. READ < WRITE < MANAGE on data; APPROVE and ADMIN stand apart.

    PUBLIC marks routes anyone may call (health probes).
    """

    PUBLIC = "public"
    READ = "read"
    WRITE = "write"
    MANAGE = "manage"
    APPROVE = "approve"
    ADMIN = "admin"


class Role(StrEnum):
    """A user's global role.

    viewer: read everything. editor: read, write and manage experiments, runs, datasets
    and models. approver: an editor who may also approve protected changes. admin:
    everything, including users, tokens and grants.
    """

    VIEWER = "viewer"
    EDITOR = "editor"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def permissions(self) -> frozenset[Permission]:
        return _ROLE_PERMISSIONS[self]


_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.PUBLIC, Permission.READ}),
    Role.EDITOR: frozenset(
        {Permission.PUBLIC, Permission.READ, Permission.WRITE, Permission.MANAGE}
    ),
    Role.APPROVER: frozenset(
        {
            Permission.PUBLIC,
            Permission.READ,
            Permission.WRITE,
            Permission.MANAGE,
            Permission.APPROVE,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


class ResourceKind(StrEnum):
    """What a grant is on."""

    EXPERIMENT = "experiment"
    MODEL = "model"


class GrantLevel(StrEnum):
    """A grant's level; each includes the ones before it."""

    READ = "read"
    WRITE = "write"
    MANAGE = "manage"

    @property
    def permissions(self) -> frozenset[Permission]:
        order = [Permission.READ, Permission.WRITE, Permission.MANAGE]
        return frozenset(order[: order.index(Permission(self.value)) + 1])


@dataclass(frozen=True, kw_only=True)
class User:
    """A person or service account that calls the server with a token."""

    name: str
    role: Role = Role.VIEWER
    disabled: bool = False
    has_password: bool = False
    created_at: int = 0
    updated_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role.value,
            "disabled": self.disabled,
            "has_password": self.has_password,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, kw_only=True)
class ApiToken:
    """An API token's record; the secret itself is never stored (only its hash).

    ``id`` is public (shown in listings and used to revoke); the secret is shown once
    when the token is created.
    """

    id: str
    user: str
    name: str | None = None
    created_at: int = 0
    expires_at: int | None = None
    revoked_at: int | None = None

    def active(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "name": self.name,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True, kw_only=True)
class NewToken:
    """A token just created: ``secret`` is the bearer token, shown this once."""

    token: ApiToken
    secret: str


@dataclass(frozen=True, kw_only=True)
class Grant:
    """``user`` may act at ``level`` on one experiment (by ID) or registered model (by name)."""

    user: str
    kind: ResourceKind
    resource: str
    level: GrantLevel
    created_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "kind": self.kind.value,
            "resource": self.resource,
            "level": self.level.value,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who a request acts as: a user, their role and grants.

    >>> Principal(name="ana", role=Role.VIEWER).can(Permission.WRITE)
    False
    """

    name: str
    role: Role
    grants: tuple[Grant, ...] = ()

    def can(
        self,
        permission: Permission,
        kind: ResourceKind | None = None,
        resource: str | None = None,
    ) -> bool:
        """Whether the role, or a grant on ``resource`` of ``kind``, gives ``permission``."""
        if permission in self.role.permissions:
            return True
        if kind is None or resource is None:
            return False
        return any(
            g.kind == kind and g.resource == resource and permission in g.level.permissions
            for g in self.grants
        )


class ApprovalKind(StrEnum):
    """What a protected change is: moving a model alias, or a deployment rollout."""

    ALIAS = "alias"
    DEPLOYMENT = "deployment"


class ApprovalStatus(StrEnum):
    """PENDING until decided; APPROVED may then be APPLIED once (the change happened)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


@dataclass(frozen=True, kw_only=True)
class Approval:
    """A request for a second person's consent to one protected change.

    For ``kind`` ALIAS: ``target`` is the registered model, ``version`` and ``alias`` the
    move. For DEPLOYMENT: ``target`` is the deployment, ``action`` ``start`` or
    ``complete`` (a rollout), ``version`` optionally the model version rolled out.
    ``gates`` are the promotion gates' results at request time.
    """

    id: str
    kind: ApprovalKind
    target: str
    action: str
    requester: str
    status: ApprovalStatus = ApprovalStatus.PENDING
    version: int | None = None
    alias: str | None = None
    comment: str | None = None
    gates: tuple[Mapping[str, Any], ...] = ()
    decided_by: str | None = None
    decision_comment: str | None = None
    created_at: int = 0
    decided_at: int | None = None
    applied_at: int | None = None

    def describe(self) -> str:
        if self.kind == ApprovalKind.ALIAS:
            return f"move {self.target}@{self.alias} to version {self.version}"
        version = f" (version {self.version})" if self.version is not None else ""
        return f"{self.action} a rollout of deployment {self.target}{version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "target": self.target,
            "action": self.action,
            "version": self.version,
            "alias": self.alias,
            "requester": self.requester,
            "status": self.status.value,
            "comment": self.comment,
            "gates": [dict(g) for g in self.gates],
            "decided_by": self.decided_by,
            "decision_comment": self.decision_comment,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "applied_at": self.applied_at,
            "description": self.describe(),
        }


@dataclass(frozen=True, kw_only=True)
class Protection:
    """Whether a change needs an approval: ``kind`` ALIAS protects alias ``name`` of model
    ``target`` (``*`` for every model); DEPLOYMENT protects deployment ``target``."""

    kind: ApprovalKind
    target: str
    name: str
    protected: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "target": self.target,
            "name": self.name,
            "protected": self.protected,
        }


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One link of the audit trail.

    ``seq`` numbers events from 1 with no gaps; ``prev_hash`` is the previous event's
    ``hash``; ``hash`` is the SHA-256 of ``prev_hash`` and this event's canonical JSON.
    """

    seq: int
    id: str
    at: int
    actor: str
    action: str
    target: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    prev_hash: str = ""
    hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "before": None if self.before is None else dict(self.before),
            "after": None if self.after is None else dict(self.after),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, kw_only=True)
class AuditVerification:
    """The result of checking the audit chain.

    ``ok`` when every event's hash and link hold. Otherwise ``first_bad`` is the sequence
    number of the first event that was edited, removed (a gap) or reordered, and
    ``problem`` says what is wrong. ``head`` is the last event's hash: keep it somewhere
    else to detect later removal of events at the end.
    """

    ok: bool
    events: int
    head: str | None
    first_bad: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": self.head,
            "first_bad": self.first_bad,
            "problem": self.problem,
        }


@dataclass(frozen=True, kw_only=True)
class AuditQuery:
    """Filters for the audit trail: ``target`` (exact, or a prefix ending in ``*``),
    ``actor``, ``action`` prefix, events at or after ``since`` (ms), after ``after_seq``."""

    target: str | None = None
    actor: str | None = None
    action: str | None = None
    since: int | None = None
    after_seq: int = 0
    limit: int = 1000


def canonical_json(value: object) -> str:
    """The one JSON text of ``value`` the audit chain hashes: sorted keys, no spaces.

    >>> canonical_json({"b": 1, "a": [1.5, None]})
    '{"a":[1.5,null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


GENESIS_HASH = "0" * 64


def event_hash(
    prev_hash: str,
    *,
    seq: int,
    id: str,
    at: int,
    actor: str,
    action: str,
    target: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> str:
    """SHA-256 (hex) of the previous event's hash and this event's canonical JSON."""
    body = canonical_json(
        {
            "seq": seq,
            "id": id,
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class RetentionReport:
    """What one retention pass removed (or, with ``dry_run``, would remove)."""

    retired_versions: tuple[str, ...] = ()
    held_versions: tuple[str, ...] = ()
    prediction_partitions: tuple[str, ...] = ()
    dry_run: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "retired_artifacts_deleted": list(self.retired_versions),
            "held": list(self.held_versions),
            "prediction_log_partitions_deleted": list(self.prediction_partitions),
            "dry_run": self.dry_run,
        }
