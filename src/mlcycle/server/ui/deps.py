"""The one place the UI takes the services from: the app's lifespan state.

Pages read the services through :func:`services` only, and use only their public
methods, so whatever builds the state (today ``create_app``'s lifespan, tomorrow the
composition root) can change without touching a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from mlcycle.backends.local import LocalBackend
from mlcycle.client.client import Client
from mlcycle.entities.governance import Principal
from mlcycle.governance.service import GovernanceService
from mlcycle.registry.service import RegistryService
from mlcycle.server.auth import principal_of
from mlcycle.server.ui.buckets import SeriesCache
from mlcycle.tracking.service import TrackingService

if TYPE_CHECKING:  # built on first use: pandas and pyarrow load with them, not at start
    from mlcycle.datasets.service import DatasetService
    from mlcycle.deployments.service import DeploymentService
    from mlcycle.monitoring.service import MonitorService


@dataclass(frozen=True)
class UiServices:
    """What the pages read: tracking, the registry and governance (the server's, audited
    and guarded), datasets, deployments and monitoring (built on first use), and who is
    asking (None when auth is off)."""

    tracking: TrackingService
    registry: RegistryService
    governance: GovernanceService
    principal: Principal | None
    stages: Client
    backend: LocalBackend

    @property
    def datasets(self) -> DatasetService:
        return self.backend.dataset_service

    @property
    def deployments(self) -> DeploymentService:
        return self.backend.deployment_service

    @property
    def monitoring(self) -> MonitorService:
        return self.backend.monitoring_service


def services(request: Request) -> UiServices:
    state = request.state
    return UiServices(
        tracking=state.service,
        registry=state.registry,
        governance=state.governance,
        principal=principal_of(request),
        stages=state.client,
        backend=state.backend,
    )


Services = Annotated[UiServices, Depends(services)]


def series_cache(request: Request) -> SeriesCache:
    """The chart series cache of this app (made on first use, kept in the app's state)."""
    state = request.app.state
    cache: SeriesCache | None = getattr(state, "ui_series_cache", None)
    if cache is None:
        cache = state.ui_series_cache = SeriesCache()
    return cache


Cache = Annotated[SeriesCache, Depends(series_cache)]
