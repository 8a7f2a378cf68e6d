"""The services the native routes work over, and the one accessor routes take them from.

The server builds them once per process in its lifespan (:func:`build_services`), over the
same store, artifact store, audit sink and governed registry as the tracking routes; a
route declares what it needs with the ``Annotated`` dependencies below, so the wiring can
change in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from mlcycle.client.client import Client
from mlcycle.client.governance import LocalGovernance
from mlcycle.datasets.service import DatasetService
from mlcycle.deployments.service import DeploymentService
from mlcycle.governance.service import GovernanceService
from mlcycle.monitoring.service import MonitorService
from mlcycle.registry.service import RegistryService

STATE_KEY = "services"


@dataclass(frozen=True)
class Services:
    """One of each capability's service, as the server process built them."""

    datasets: DatasetService
    registry: RegistryService
    deployments: DeploymentService
    monitoring: MonitorService
    governance: LocalGovernance


def build_services(client: Client, governance: GovernanceService) -> Services:
    """The services over ``client``'s local tracking service; ``governance`` has the
    client's registry attached (its guard and audit sink)."""
    return Services(
        datasets=client.datasets,
        registry=client.registry,
        deployments=client.deployments,
        monitoring=client.monitoring,
        governance=LocalGovernance(client, governance),
    )


def services_of(request: Request) -> Services:
    """The services of the process serving ``request``."""
    found: Services = getattr(request.state, STATE_KEY)
    return found


def _datasets(request: Request) -> DatasetService:
    return services_of(request).datasets


def _registry(request: Request) -> RegistryService:
    return services_of(request).registry


def _deployments(request: Request) -> DeploymentService:
    return services_of(request).deployments


def _monitoring(request: Request) -> MonitorService:
    return services_of(request).monitoring


def _governance(request: Request) -> LocalGovernance:
    return services_of(request).governance


Datasets = Annotated[DatasetService, Depends(_datasets)]
Registry = Annotated[RegistryService, Depends(_registry)]
Deployments = Annotated[DeploymentService, Depends(_deployments)]
Monitoring = Annotated[MonitorService, Depends(_monitoring)]
Governance = Annotated[LocalGovernance, Depends(_governance)]
