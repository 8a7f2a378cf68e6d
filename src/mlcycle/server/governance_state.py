"""What a server process builds for governance in its lifespan: the audit sink every
service writes to, the governance service, the registry wired to its approvals, and (with
auth on) the :class:`~mlcycle.server.auth.AuthContext` the auth middleware reads."""

from __future__ import annotations

import logging
from typing import Any

from mlcycle.governance.retirement import deployments_using
from mlcycle.governance.service import GovernanceService
from mlcycle.ports.artifacts import ArtifactStore
from mlcycle.registry.service import RegistryService
from mlcycle.server.auth import STATE_KEY, AuthContext
from mlcycle.store.sql.store import SqlStore
from mlcycle.tracking.service import TrackingService

logger = logging.getLogger("mlcycle.server")


def governance_state(store: SqlStore, artifacts: ArtifactStore, *, auth: bool) -> dict[str, Any]:
    """The lifespan state entries ``service`` (tracking, audited), ``governance``,
    ``registry`` (guarded and audited) and, with ``auth``, ``auth``."""
    governance = GovernanceService(store.governance, auth_enabled=auth)
    service = TrackingService(store, artifacts, audit=governance.sink)
    registry = governance.attach_registry(
        RegistryService(store.registry, service, run_inputs=store.datasets.run_inputs),
        deployments_using=deployments_using(store.deployments),
    )
    state: dict[str, Any] = {"service": service, "governance": governance, "registry": registry}
    if auth:

        def experiment_of_run(run_id: str) -> str:
            return store.runs.get(run_id).experiment_id

        state[STATE_KEY] = AuthContext(governance.authenticator, experiment_of_run)
        if not governance.users.list_users():
            logger.warning(
                "auth is on but no user exists: create the first admin on this machine with "
                "`mlcycle users create NAME --admin`, then `mlcycle tokens create --user NAME`"
            )
    return state
