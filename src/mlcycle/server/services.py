"""The services the native routes work over, and the one accessor routes take them from.

They are the services of the server's :class:`~mlcycle.backends.local.LocalBackend` (the
one composition root, in the lifespan state as ``backend``): the same store, artifact
store, audit sink and governed registry as the tracking routes. A route declares what it
needs with the ``Annotated`` dependencies below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from mlcycle.backends import Hooks
from mlcycle.backends.local import LocalBackend, open_local
from mlcycle.backends.local_governance import LocalGovernance
from mlcycle.client.client import Client
from mlcycle.client.loading import load_model
from mlcycle.client.registry import version_scorer
from mlcycle.deployments.service import DeploymentService
from mlcycle.monitoring.service import MonitorService
from mlcycle.registry.service import RegistryService
from mlcycle.settings import Settings

if TYPE_CHECKING:  # built on first use (pandas and pyarrow load with it, not at start)
    from mlcycle.datasets.service import DatasetService


def open_server_backend(settings: Settings, *, auth: bool) -> LocalBackend:
    """The server's local backend, with the hooks a client's has: deployments check that a
    model loads, the no-regression gate scores versions, retraining jobs get a client; so
    the server refuses and decides exactly as an in-process call does. The client they use
    is a facade over this same backend (no second store)."""
    backend = open_local(settings, auth=auth)
    client = Client(settings=settings, backend=backend)
    backend.hooks = Hooks(
        load_model=lambda uri, trusted: load_model(client, uri, list(trusted)),
        score=version_scorer(client),
        retrain_client=client,
    )
    return backend


def backend_of(request: Request) -> LocalBackend:
    """The backend of the process serving ``request``."""
    found: LocalBackend = request.state.backend
    return found


def _datasets(request: Request) -> DatasetService:
    return backend_of(request).dataset_service


def _registry(request: Request) -> RegistryService:
    return backend_of(request).registry_service


def _deployments(request: Request) -> DeploymentService:
    return backend_of(request).deployment_service


def _monitoring(request: Request) -> MonitorService:
    return backend_of(request).monitoring_service


def _governance(request: Request) -> LocalGovernance:
    found = backend_of(request).governance
    assert isinstance(found, LocalGovernance)  # a local backend's governance
    return found


if TYPE_CHECKING:
    Datasets = Annotated[DatasetService, Depends(_datasets)]
else:  # FastAPI reads only the dependency; the class is named for the type checker
    Datasets = Annotated[object, Depends(_datasets)]
Registry = Annotated[RegistryService, Depends(_registry)]
Deployments = Annotated[DeploymentService, Depends(_deployments)]
Monitoring = Annotated[MonitorService, Depends(_monitoring)]
Governance = Annotated[LocalGovernance, Depends(_governance)]
