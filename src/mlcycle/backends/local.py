"""The one composition root: every service over one store and one artifact store.

:class:`LocalBackend` is what ``mlcycle.Client`` (for a store URI), ``create_app`` (the
tracking server) and the serving process (through its client) all run on, so the audit
sink and the four-eyes guard are wired the same way everywhere:

* one :class:`~mlcycle.governance.service.GovernanceService` over the store, whose audit
  sink every service writes to, and whose approval guard (on with ``auth``) the registry
  and the deployments consult before a protected change;
* the tracking service, built at once; the datasets, registry, deployments, monitoring and
  governance APIs, each built on first use, exactly once (a client that only tracks runs
  does not import pandas).

    >>> backend = open_local(Settings.from_env({"MLCYCLE_TRACKING_URI": "sqlite:///x.db"}))
    >>> backend.registry.list_models()  # doctest: +SKIP
    >>> backend.close()  # doctest: +SKIP

What the services borrow from the client layer (loading a model by URI, scoring a
version on a dataset for the promotion gates, the client handed to retraining jobs) comes
in as :class:`Hooks`; without them those features are off, as on the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlcycle.artifacts import open_artifact_store
from mlcycle.backends.base import Backend, Capability
from mlcycle.backends.local_governance import LocalGovernance
from mlcycle.deployments.monitored import StoredDeployments
from mlcycle.deployments.resolver import RegistryResolver
from mlcycle.deployments.service import DeploymentService
from mlcycle.entities import ModelVersion
from mlcycle.governance.actor import current_actor
from mlcycle.governance.retirement import deployments_using
from mlcycle.governance.service import GovernanceService
from mlcycle.monitoring.triggers import RetrainClient
from mlcycle.monitoring.webhooks import HttpPoster
from mlcycle.ports.datasets import DatasetFiles
from mlcycle.ports.prediction_logs import PredictionLogs
from mlcycle.registry.service import RegistryService, TrustedScorer
from mlcycle.settings import Settings
from mlcycle.store.sql.store import SqlStore, open_store, secret_box
from mlcycle.tracking.service import TrackingService

if TYPE_CHECKING:
    from mlcycle.datasets.service import DatasetService
    from mlcycle.monitoring.service import MonitorService


@dataclass(frozen=True, kw_only=True)
class Hooks:
    """What the services borrow from the client layer (all optional).

    ``load_model(uri, trusted)`` loads a model for the deployments (checking a route
    loads); ``score`` scores a model version on a dataset version for the gates that
    compare two versions; ``retrain_client`` is handed to Python retraining jobs as
    ``RetrainContext.client``.
    """

    load_model: Callable[[str, Sequence[str]], object] | None = None
    score: TrustedScorer | None = None
    retrain_client: RetrainClient | None = None


class LocalBackend(Backend):
    """Every capability over ``store`` and ``artifacts`` (see the module docstring).

    The concrete services stay reachable for the edges that run on a store only (the
    server's routes): :attr:`tracking_service`, :attr:`governance_service`,
    :attr:`registry_service`, :attr:`store`.
    """

    def __init__(
        self,
        store: SqlStore,
        artifacts: DatasetFiles,
        *,
        settings: Settings,
        auth: bool = False,
        hooks: Hooks | None = None,
    ) -> None:
        self.store = store
        self.artifact_store = artifacts
        self.settings = settings
        self.hooks = hooks or Hooks()
        self.governance_service = GovernanceService(store.governance, auth_enabled=auth)
        self.audit = self.governance_service.sink  # every change of every service, audited
        self.guard = self.governance_service.guard if auth else None
        self.tracking_service = TrackingService(store, artifacts, audit=self.audit)
        super().__init__(
            tracking=self.tracking_service,
            artifacts=artifacts,
            logs=self._prediction_logs,
            providers={
                Capability.DATASETS: self._datasets,
                Capability.REGISTRY: self._registry,
                Capability.DEPLOYMENTS: self._deployments,
                Capability.MONITORING: self._monitoring,
                Capability.GOVERNANCE: self._governance,
            },
            where=f"the store {settings.tracking_uri}",
            closer=store.close,
        )

    @property
    def registry_service(self) -> RegistryService:
        """The registry service, attached to governance (approvals move its aliases)."""
        registry: RegistryService = self.require(Capability.REGISTRY)
        return registry

    @property
    def deployment_service(self) -> DeploymentService:
        deployments: DeploymentService = self.require(Capability.DEPLOYMENTS)
        return deployments

    @property
    def monitoring_service(self) -> MonitorService:
        monitoring: MonitorService = self.require(Capability.MONITORING)
        return monitoring

    @property
    def dataset_service(self) -> DatasetService:
        datasets: DatasetService = self.require(Capability.DATASETS)
        return datasets

    # -- the providers: each runs once, on first use ---------------------------------------

    def _datasets(self) -> DatasetService:
        # Imported here for its weight: the dataset service loads pandas and pyarrow (most
        # of a second), which tracking and the command line's start do not pay for.
        from mlcycle.datasets.service import DatasetService

        return DatasetService(self.store.datasets, self.artifact_store, audit=self.audit)

    def _registry(self) -> RegistryService:
        registry = RegistryService(
            self.store.registry,
            self.tracking_service,
            run_inputs=self.store.datasets.run_inputs,
            score=self.hooks.score,
            load_model=self._version_loader(),
            audit=self.audit,
        )
        return self.governance_service.attach_registry(
            registry, deployments_using=deployments_using(self.store.deployments)
        )

    def _version_loader(self) -> Callable[[ModelVersion], object] | None:
        """The model of a version, for the gates that run it (latency): the hooks' loader
        over the version's URI; none without hooks (those gates then fail, saying so)."""
        loader = self.hooks.load_model
        if loader is None:
            return None
        return lambda version: loader(version.model_uri, ())

    def _deployments(self) -> DeploymentService:
        return DeploymentService(
            self.store.deployments,
            RegistryResolver(self.registry_service, load=self.hooks.load_model),
            actor=current_actor,
            audit=self.audit,
            guard=self.guard,
        )

    def _monitoring(self) -> MonitorService:
        # Imported here for its weight: monitoring loads pandas and SciPy.
        from mlcycle.monitoring.service import MonitorService

        return MonitorService(
            self.store.monitoring,
            StoredDeployments(self.deployment_service, self.settings.artifact_uri),
            self.registry_service,
            self.dataset_service,
            poster=HttpPoster(),
            audit=self.audit,
            retrain_env={
                "MLCYCLE_TRACKING_URI": self.settings.tracking_uri,
                "MLCYCLE_ARTIFACT_URI": self.settings.artifact_uri,
            },
            retrain_client=self.hooks.retrain_client,
        )

    def _prediction_logs(self) -> PredictionLogs:
        # Imported here for its weight: the log's writer and reader load NumPy.
        from mlcycle.deployments.prediction_logs import StoredPredictionLogs

        return StoredPredictionLogs(self.artifact_store)

    def _governance(self) -> LocalGovernance:
        self.registry_service  # noqa: B018 - approvals and retirement work through it
        return LocalGovernance(self.governance_service, self, artifacts=self.artifact_store)


def open_local(
    settings: Settings, *, auth: bool = False, hooks: Hooks | None = None
) -> LocalBackend:
    """Open the store at ``settings.tracking_uri`` (creating and migrating a new one) and
    build the :class:`LocalBackend` over it and ``settings.artifact_uri``."""
    store = open_store(settings.tracking_uri, secrets=secret_box(settings))
    return LocalBackend(
        store,
        open_artifact_store(settings.artifact_uri),
        settings=settings,
        auth=auth,
        hooks=hooks,
    )
