"""``GovernanceService``: users and tokens, approvals, the audit trail, authentication and
retirement over one governance repository, wired together.

The registry is optional (a server answering only auth needs none); when given, approving
an alias request moves the alias through it, and retirement works on its versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlcycle.clock import system_clock
from mlcycle.governance.access import Authenticator
from mlcycle.governance.approvals import ApprovalGuard, Approvals
from mlcycle.governance.audit import AuditTrail, StoreAuditSink
from mlcycle.governance.retirement import DeploymentsUsing, Retirement
from mlcycle.governance.users import UserAdmin
from mlcycle.ids import new_id
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.governance import GovernanceRepository
from mlcycle.registry.service import RegistryService
from mlcycle.types import Clock, IdFactory


class GovernanceService:
    """Every governance capability over ``repository``.

    ``auth_enabled`` turns four-eyes protection on (it needs users told apart, so only a
    server with ``--auth`` sets it).

    >>> gov = GovernanceService(store.governance, auth_enabled=True)  # doctest: +SKIP
    >>> gov.users.create_user("ana", role="approver")  # doctest: +SKIP
    >>> gov.trail.verify().ok  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        repository: GovernanceRepository,
        *,
        auth_enabled: bool = False,
        audit: AuditSink | None = None,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
    ) -> None:
        self.repository = repository
        self.auth_enabled = auth_enabled
        self.sink: AuditSink = audit or StoreAuditSink(repository, clock=clock, new_id=new_id)
        self.users = UserAdmin(repository, audit=self.sink, clock=clock, new_id=new_id)
        self.approvals = Approvals(
            repository, enabled=auth_enabled, audit=self.sink, clock=clock, new_id=new_id
        )
        self.guard = ApprovalGuard(self.approvals)
        self.trail = AuditTrail(repository)
        self.authenticator = Authenticator(repository, clock=clock)
        self._clock = clock
        self._retirement: Retirement | None = None

    def attach_registry(
        self, registry: RegistryService, *, deployments_using: DeploymentsUsing | None = None
    ) -> RegistryService:
        """Let approvals move aliases through ``registry`` and retirement work on it; the
        registry is given this service's guard and audit sink. Returns it."""
        registry.guard = self.guard if self.auth_enabled else None
        registry.audit = self.sink
        self.approvals.apply_alias = registry.set_alias
        self.approvals.remove_alias = registry.delete_alias
        self.approvals.identities = registry.repository.model_identities
        self.approvals.bind_rules()
        self.approvals.gate_results = lambda name, version: _gates(registry, name, version)
        self._retirement = Retirement(
            registry,
            repository=self.repository,
            deployments_using=deployments_using,
            audit=self.sink,
            clock=self._clock,
        )
        return registry

    @property
    def retirement(self) -> Retirement:
        if self._retirement is None:
            raise RuntimeError("attach_registry() first")  # a wiring bug, not user input
        return self._retirement


def _gates(registry: RegistryService, name: str, version: int) -> list[Mapping[str, Any]]:
    return [g.to_dict() for g in registry.gate_results(name, version)]
