"""What a server process keeps in its lifespan state: the local backend (the one
composition root, :mod:`mlcycle.backends.local`) and, for the routes, its services by
name; with auth on, the :class:`~mlcycle.server.auth.AuthContext` the auth middleware
reads."""

from __future__ import annotations

import logging
from typing import Any

from mlcycle.backends.local import LocalBackend
from mlcycle.client.client import Client
from mlcycle.server.auth import STATE_KEY, AuthContext

logger = logging.getLogger("mlcycle.server")


def lifespan_state(backend: LocalBackend, *, auth: bool) -> dict[str, Any]:
    """The lifespan state entries ``backend``, ``store``, ``service`` (tracking, audited),
    ``governance``, ``registry`` (guarded and audited), ``client`` (a facade over the
    backend) and, with ``auth``, ``auth``."""
    state: dict[str, Any] = {
        "backend": backend,
        "store": backend.store,
        "service": backend.tracking_service,
        "governance": backend.governance_service,
        "registry": backend.registry_service,  # attached to governance before any request
        # the stage functions (prediction logs, model cards) for the web UI, over the same
        # backend: a facade, not a second wiring
        "client": Client(settings=backend.settings, backend=backend),
    }
    if auth:
        store = backend.store

        def experiment_of_run(run_id: str) -> str:
            return store.runs.get(run_id).experiment_id

        state[STATE_KEY] = AuthContext(backend.governance_service.authenticator, experiment_of_run)
        if not backend.governance_service.users.list_users():
            logger.warning(
                "auth is on but no user exists: create the first admin on this machine with "
                "`mlcycle users create NAME --admin`, then `mlcycle tokens create --user NAME`"
            )
    return state
