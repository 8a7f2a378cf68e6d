"""The capability APIs name the services' own methods, with their signatures (a service
may take more optional parameters in-process).

mypy checks the structural fit (the assignments in :func:`_fits`); the tests check that
each protocol method exists on its service with the same parameters, so the protocols and
the services cannot drift apart.
"""

from __future__ import annotations

import inspect

import pytest

from mlcycle.backends.local_governance import LocalGovernance
from mlcycle.datasets.service import DatasetService
from mlcycle.deployments.service import DeploymentService
from mlcycle.monitoring.service import MonitorService
from mlcycle.ports import api
from mlcycle.registry.service import RegistryService
from mlcycle.tracking.service import TrackingService

PAIRS: list[tuple[type, type]] = [
    (api.DatasetsAPI, DatasetService),
    (api.RegistryAPI, RegistryService),
    (api.DeploymentsAPI, DeploymentService),
    (api.MonitoringAPI, MonitorService),
    (api.GovernanceAPI, LocalGovernance),
    (api.TrackingAPI, TrackingService),
]


def _fits(
    datasets: DatasetService,
    registry: RegistryService,
    deployments: DeploymentService,
    monitoring: MonitorService,
    governance: LocalGovernance,
    tracking: TrackingService,
) -> None:
    """Never called: mypy refuses these lines if a service stops fitting its protocol."""
    _d: api.DatasetsAPI = datasets
    _r: api.RegistryAPI = registry
    _p: api.DeploymentsAPI = deployments
    _m: api.MonitoringAPI = monitoring
    _g: api.GovernanceAPI = governance
    _t: api.TrackingAPI = tracking


def _methods(cls: type) -> list[str]:
    return [n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")]


@pytest.mark.parametrize(("protocol", "service"), PAIRS, ids=lambda c: c.__name__)
def test_each_protocol_method_is_the_services_own(protocol: type, service: type) -> None:
    methods = _methods(protocol)
    assert methods, f"{protocol.__name__} names no method"
    for name in methods:
        theirs = list(inspect.signature(getattr(service, name)).parameters.values())
        ours = list(inspect.signature(getattr(protocol, name)).parameters.values())
        where = f"{protocol.__name__}.{name}"
        assert [p.name for p in ours] == [q.name for q in theirs[: len(ours)]], where
        for p, q in zip(ours, theirs, strict=False):
            assert p.kind == q.kind, f"{where}({p.name})"
            assert (p.default is p.empty) == (q.default is q.empty), f"{where}({p.name})"
        # what the service takes beyond the protocol is optional (in-process extras)
        assert all(q.default is not q.empty for q in theirs[len(ours) :]), where
