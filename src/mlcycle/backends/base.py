"""The :class:`Backend` and its :class:`Capability` names (see :mod:`mlcycle.backends`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any, cast

from mlcycle.errors import CapabilityUnavailableError
from mlcycle.ports.api import (
    DatasetsAPI,
    DeploymentsAPI,
    GovernanceAPI,
    MonitoringAPI,
    RegistryAPI,
    TrackingAPI,
)
from mlcycle.ports.artifacts import ArtifactStore
from mlcycle.ports.prediction_logs import PredictionLogs


class Capability(StrEnum):
    """What a backend may offer; ``tracking`` every backend offers."""

    TRACKING = "tracking"
    DATASETS = "datasets"
    REGISTRY = "registry"
    DEPLOYMENTS = "deployments"
    MONITORING = "monitoring"
    GOVERNANCE = "governance"


#: What each capability is called in a refusal.
_NOUNS = {
    Capability.DATASETS: "datasets",
    Capability.REGISTRY: "the model registry",
    Capability.DEPLOYMENTS: "deployments",
    Capability.MONITORING: "monitoring",
    Capability.GOVERNANCE: "governance",
}

#: Builds a capability's API on first use (each is built once per backend).
Provider = Callable[[], Any]


class Backend:
    """The APIs of one place: ``tracking`` always, the others when offered.

    ``providers`` build the other capabilities' APIs on first use, exactly once (a local
    backend does not import pandas for a client that only tracks runs). ``logs`` builds
    the :class:`~mlcycle.ports.prediction_logs.PredictionLogs` where serving processes
    write and readers read (part of the deployments capability). ``where`` names the
    place in refusals; ``closer`` releases its connections.
    """

    def __init__(
        self,
        *,
        tracking: TrackingAPI,
        providers: dict[Capability, Provider] | None = None,
        artifacts: ArtifactStore | None = None,
        logs: Callable[[], PredictionLogs] | None = None,
        where: str = "this backend",
        closer: Callable[[], None] | None = None,
    ) -> None:
        self.tracking = tracking
        self.artifacts = artifacts
        self._logs = logs
        self._built_logs: PredictionLogs | None = None
        self.where = where
        self._providers = dict(providers or {})
        self._built: dict[Capability, Any] = {Capability.TRACKING: tracking}
        self._closer = closer
        self._lock = threading.RLock()

    def offer(self, capability: Capability, provider: Provider) -> None:
        """Offer ``capability``, built by ``provider`` on first use (for an API built over
        the backend itself)."""
        with self._lock:
            self._providers[capability] = provider

    def supports(self, capability: Capability | str) -> bool:
        """Whether this backend offers ``capability`` (never raises)."""
        cap = Capability(capability)
        return cap in self._built or cap in self._providers

    def require(self, capability: Capability | str) -> Any:
        """The API of ``capability``, built on first use; the one place a capability this
        backend does not offer is refused (CapabilityUnavailableError)."""
        cap = Capability(capability)
        found = self._built.get(cap)
        if found is not None:
            return found
        with self._lock:
            if cap not in self._built:
                provider = self._providers.get(cap)
                if provider is None:
                    raise CapabilityUnavailableError(
                        f"{_NOUNS.get(cap, cap.value)} not available on {self.where}: it needs "
                        "a local or database store (sqlite:/// or postgresql://), or a server "
                        "that serves it",
                        capability=cap.value,
                        field="tracking_uri",
                    )
                self._built[cap] = provider()
            return self._built[cap]

    @property
    def datasets(self) -> DatasetsAPI:
        return cast(DatasetsAPI, self.require(Capability.DATASETS))

    @property
    def registry(self) -> RegistryAPI:
        return cast(RegistryAPI, self.require(Capability.REGISTRY))

    @property
    def deployments(self) -> DeploymentsAPI:
        return cast(DeploymentsAPI, self.require(Capability.DEPLOYMENTS))

    @property
    def monitoring(self) -> MonitoringAPI:
        return cast(MonitoringAPI, self.require(Capability.MONITORING))

    @property
    def prediction_logs(self) -> PredictionLogs:
        """Where this backend's deployments keep their prediction logs (built on first
        use); refused like the deployments capability when there are none."""
        found = self._built_logs
        if found is not None:
            return found
        if self._logs is None:
            self.require(Capability.DEPLOYMENTS)  # refuses: the log belongs to deployments
            raise CapabilityUnavailableError(
                f"prediction logs not available on {self.where}",
                capability=Capability.DEPLOYMENTS.value,
                field="tracking_uri",
            )
        with self._lock:
            if self._built_logs is None:
                self._built_logs = self._logs()
            return self._built_logs

    @property
    def governance(self) -> GovernanceAPI:
        return cast(GovernanceAPI, self.require(Capability.GOVERNANCE))

    def close(self) -> None:
        """Release the store's (or the server's) connections."""
        if self._closer is not None:
            self._closer()
