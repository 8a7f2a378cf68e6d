"""Governance ports: what the governance service needs from the store
(:class:`GovernanceRepository`), and what other services ask of governance
(:class:`ChangeGuard`, consulted before a protected change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mlcycle.entities.governance import (
    ApiToken,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    AuditEvent,
    AuditQuery,
    Grant,
    Protection,
    ResourceKind,
    Role,
    User,
)


class GovernanceRepository(Protocol):
    """Users, tokens, grants, approvals, protections and the audit trail in the store.

    Methods raise NotFoundError naming what does not exist, AlreadyExistsError for a
    taken name.
    """

    # users
    def create_user(self, user: User, *, user_id: str, password_hash: str | None) -> User: ...
    def get_user(self, name: str) -> User: ...
    def list_users(self) -> list[User]: ...
    def update_user(
        self,
        name: str,
        *,
        updated_at: int,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> User: ...
    def password_hash(self, name: str) -> str | None: ...

    # tokens
    def create_token(self, token: ApiToken, *, token_hash: str) -> ApiToken: ...
    def token_for_auth(self, token_id: str) -> tuple[ApiToken, str, User] | None:
        """The token, its stored hash and its user; None for an unknown ID."""
        ...

    def list_tokens(self, user: str | None = None) -> list[ApiToken]: ...
    def revoke_token(self, token_id: str, *, at: int) -> ApiToken: ...

    # grants
    def set_grant(self, grant: Grant) -> Grant: ...
    def delete_grant(self, user: str, kind: ResourceKind, resource: str) -> None: ...
    def list_grants(self, user: str | None = None) -> list[Grant]: ...

    # approvals and protections
    def create_approval(self, approval: Approval) -> Approval: ...
    def get_approval(self, approval_id: str) -> Approval: ...
    def list_approvals(
        self, *, status: ApprovalStatus | None = None, target: str | None = None
    ) -> list[Approval]: ...
    def update_approval(
        self, approval_id: str, *, expect: ApprovalStatus, values: Mapping[str, Any]
    ) -> Approval:
        """Change an approval whose status is still ``expect`` (ConflictError if not)."""
        ...

    def find_approved(
        self,
        kind: ApprovalKind,
        target: str,
        action: str,
        *,
        version: int | None,
        alias: str | None,
    ) -> Approval | None:
        """The oldest APPROVED (not yet applied) approval for exactly this change."""
        ...

    def set_protection(self, protection: Protection) -> Protection: ...
    def list_protections(self) -> list[Protection]: ...

    # audit trail
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
        """Append one event to the chain (serialised: concurrent appends never fork it)."""
        ...

    def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        """Events matching ``query`` in chain order (``seq`` ascending)."""
        ...

    # retention
    def forget_artifacts(self, run_id: str, prefix: str) -> int:
        """Drop the index records of a run's artifacts under ``prefix``."""
        ...


class ChangeGuard(Protocol):
    """Asked by a service before a protected change; raises ApprovalRequiredError (with
    how to ask for one) when the change needs an approval that was not given."""

    def require(
        self,
        kind: ApprovalKind,
        target: str,
        action: str,
        *,
        version: int | None = None,
        alias: str | None = None,
    ) -> str | None:
        """Check (and use up) the approval of one change; returns the approval's ID, or
        None when the change is not protected."""
        ...
