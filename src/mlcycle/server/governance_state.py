"""What a server process builds for governance in its lifespan: the audit sink every
service writes to, the governance service, the registry wired to its approvals, and (with
auth on) the :class:`~mlcycle.server.auth.AuthContext` the auth middleware reads."""

from __future__ import annotations

import logging
from typing import Any

from mlcycle.artifacts.local import LocalArtifactStore
from mlcycle.client.client import Client
from mlcycle.governance.retirement import deployments_using
from mlcycle.governance.service import GovernanceService
from mlcycle.server.auth import STATE_KEY, AuthContext
from mlcycle.server.services import STATE_KEY as SERVICES_KEY
from mlcycle.server.services import build_services
from mlcycle.settings import Settings
from mlcycle.store.sql.store import SqlStore
from mlcycle.tracking.service import TrackingService

logger = logging.getLogger("mlcycle.server")


def governance_state(
    store: SqlStore, artifacts: LocalArtifactStore, *, auth: bool, settings: Settings
) -> dict[str, Any]:
    """The lifespan state entries ``service`` (tracking, audited), ``governance``,
    ``registry`` (guarded and audited), ``services`` (every capability's service, see
    :mod:`mlcycle.server.services`) and, with ``auth``, ``auth``."""
    governance = GovernanceService(store.governance, auth_enabled=auth)
    service = TrackingService(store, artifacts, audit=governance.sink)
    client = Client(settings=settings, backend=service)
    registry = governance.attach_registry(
        client.registry, deployments_using=deployments_using(store.deployments)
    )
    state: dict[str, Any] = {
        "service": service,
        "governance": governance,
        "registry": registry,
        SERVICES_KEY: build_services(client, governance),
    }
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
