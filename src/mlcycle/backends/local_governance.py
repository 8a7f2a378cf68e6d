"""Governance over a store (:class:`LocalGovernance`, the local
:class:`~mlcycle.ports.api.GovernanceAPI`): users, tokens, grants, approvals, the audit
trail, retirement, retention, model cards and compliance bundles.

In-process there is no authentication: the actor is the OS user and approvals are not
enforced; a server with ``--auth`` builds its backend with them on.

    >>> gov = mlcycle.Client().governance
    >>> gov.create_user("ana", role="approver")  # doctest: +SKIP
    >>> gov.verify_audit().ok  # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from mlcycle.backends.base import Backend
from mlcycle.backends.cards import ModelCards
from mlcycle.durations import parse_duration_ms
from mlcycle.entities import ModelVersion
from mlcycle.entities.cards import ModelCard
from mlcycle.entities.governance import (
    ApiToken,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    AuditEvent,
    AuditQuery,
    AuditVerification,
    Grant,
    GrantLevel,
    NewToken,
    Protection,
    ResourceKind,
    RetentionReport,
    Role,
    User,
)
from mlcycle.governance.actor import current_actor
from mlcycle.governance.retirement import (
    DEFAULT_PREDICTION_LOG_RETENTION,
    DEFAULT_RETIRED_ARTIFACT_RETENTION,
)
from mlcycle.governance.service import GovernanceService
from mlcycle.ports.artifacts import ArtifactStore


def _ms(value: str | timedelta | int, field: str) -> int:
    if isinstance(value, str):
        return parse_duration_ms(value, field=field)
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    return int(value)


class LocalGovernance:
    """Governance over a store: users, tokens, grants, approvals (enforced only with
    auth on), the audit trail, retirement and retention through the governance service;
    model cards and bundles through :class:`~mlcycle.backends.cards.ModelCards`."""

    def __init__(
        self, service: GovernanceService, backend: Backend, *, artifacts: ArtifactStore
    ) -> None:
        self.service = service
        self._artifacts = artifacts
        self._cards = ModelCards(backend, self)

    # -- who, users, tokens, grants ---------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return {
            "name": current_actor(),
            "role": None,
            "authenticated": False,
            "auth_enabled": False,
        }

    def create_user(
        self,
        name: str,
        *,
        role: Role | str = Role.VIEWER,
        admin: bool = False,
        password: str | None = None,
    ) -> User:
        return self.service.users.create_user(name, role=role, admin=admin, password=password)

    def list_users(self) -> list[User]:
        return self.service.users.list_users()

    def set_disabled(self, name: str, disabled: bool = True) -> User:
        return self.service.users.set_disabled(name, disabled)

    def set_role(self, name: str, role: Role | str) -> User:
        return self.service.users.set_role(name, role)

    def create_token(
        self, user: str, *, expires: str | None = None, name: str | None = None
    ) -> NewToken:
        return self.service.users.create_token(user, expires=expires, name=name)

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        return self.service.users.list_tokens(user)

    def revoke_token(self, token_id: str) -> ApiToken:
        return self.service.users.revoke_token(token_id)

    def grant(
        self, user: str, kind: ResourceKind | str, resource: str, level: GrantLevel | str
    ) -> Grant:
        return self.service.users.grant(user, kind, resource, level)

    def revoke_grant(self, user: str, kind: ResourceKind | str, resource: str) -> None:
        self.service.users.revoke_grant(user, kind, resource)

    def list_grants(self, user: str | None = None) -> list[Grant]:
        return self.service.users.list_grants(user)

    # -- protections and approvals ----------------------------------------------------------

    def protect(
        self, kind: ApprovalKind | str, target: str, name: str = "*", *, protected: bool = True
    ) -> Protection:
        return self.service.approvals.protect(kind, target, name, protected=protected)

    def protections(self) -> tuple[list[Protection], bool]:
        """The protection rules, and whether they are enforced (never in-process)."""
        return self.service.approvals.protections(), False

    def request_approval(
        self,
        kind: ApprovalKind | str,
        target: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        action: str | None = None,
        comment: str | None = None,
    ) -> Approval:
        return self.service.approvals.request(
            kind, target, version=version, alias=alias, action=action, comment=comment
        )

    def approve(self, approval_id: str, *, comment: str | None = None) -> Approval:
        return self.service.approvals.approve(approval_id, comment=comment)

    def reject(self, approval_id: str, *, comment: str | None = None) -> Approval:
        return self.service.approvals.reject(approval_id, comment=comment)

    def get_approval(self, approval_id: str) -> Approval:
        return self.service.approvals.get(approval_id)

    def list_approvals(
        self, *, status: ApprovalStatus | str | None = None, target: str | None = None
    ) -> list[Approval]:
        return self.service.approvals.list(status=status, target=target)

    # -- audit trail ------------------------------------------------------------------------

    def audit_events(self, query: AuditQuery | None = None) -> list[AuditEvent]:
        return self.service.trail.events(query)

    def verify_audit(self) -> AuditVerification:
        return self.service.trail.verify()

    def export_audit(self, query: AuditQuery | None = None) -> Iterator[str]:
        return self.service.trail.export_jsonl(query)

    # -- retirement and retention -----------------------------------------------------------

    def retire(self, name: str, version: int, *, reason: str) -> ModelVersion:
        return self.service.retirement.retire(name, version, reason=reason)

    def set_legal_hold(
        self, name: str, version: int, *, hold: bool = True, reason: str | None = None
    ) -> ModelVersion:
        return self.service.retirement.set_legal_hold(name, version, hold=hold, reason=reason)

    def apply_retention(
        self,
        *,
        retired_artifacts: str | timedelta | int = DEFAULT_RETIRED_ARTIFACT_RETENTION,
        prediction_logs: str | timedelta | int = DEFAULT_PREDICTION_LOG_RETENTION,
        dry_run: bool = False,
    ) -> RetentionReport:
        """Delete artifacts of versions retired longer ago than ``retired_artifacts``
        (unless held) and prediction logs older than ``prediction_logs``."""
        return self.service.retirement.apply_retention(
            self._artifacts,
            retired_older_than_ms=_ms(retired_artifacts, "retired_artifacts"),
            prediction_logs_older_than_ms=_ms(prediction_logs, "prediction_logs"),
            dry_run=dry_run,
        )

    # -- model cards and bundles ------------------------------------------------------------

    def set_card_fields(self, name: str, version: int, **fields: str) -> ModelVersion:
        """Set what the owner states on the card (see :meth:`ModelCards.set_card_fields`)."""
        return self._cards.set_card_fields(name, version, **fields)

    def card(self, name: str, version: int) -> ModelCard:
        """The model card of a version (see :class:`~mlcycle.entities.cards.ModelCard`)."""
        return self._cards.card(name, version)

    def export_bundle(self, name: str, version: int, path: str | Path) -> dict[str, Any]:
        """Write the compliance bundle of a version to the zip at ``path``."""
        return self._cards.export_bundle(name, version, path)
