"""What the MLflow routes work with: mlcycle's services and the MLflow-only records.

The tracking service holds experiments, runs, params, metrics, tags and run artifacts; the
registry service registered models, versions and aliases; :class:`SqlMlflow` what MLflow
has beyond those (logged models, run inputs and outputs, MLflow's fields of versions, files
of the MLflow artifact area). One per server process, built in the app's lifespan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from mlcycle.entities import Experiment
from mlcycle.errors import NotFoundError
from mlcycle.ports.api import RegistryAPI
from mlcycle.ports.artifacts import ArtifactStore
from mlcycle.server.mlflow import uris
from mlcycle.store.sql.mlflow import SqlMlflow
from mlcycle.tracking.service import DEFAULT_EXPERIMENT, TrackingService

#: The ID MLflow's client uses for its default experiment when none is set.
DEFAULT_EXPERIMENT_ID = "0"


@dataclass(frozen=True)
class MlflowContext:
    """``area``: where the proxy keeps files outside any run (``mlcycle server
    --artifacts-destination``, MLflow's layout); None: the ``mlflow/`` folder of the tracking
    service's artifact store."""

    tracking: TrackingService
    registry: RegistryAPI
    records: SqlMlflow
    area: ArtifactStore | None = field(default=None)

    @property
    def area_store(self) -> ArtifactStore:
        """The artifact store holding the MLflow artifact area."""
        return self.area if self.area is not None else self.tracking.artifact_store

    def area_key(self, path: str) -> str:
        """The key in :attr:`area_store` of a file of the MLflow artifact area."""
        return path if self.area is not None else uris.area_key(path)

    def experiment_id(self, given: str) -> str:
        """mlcycle's ID for an experiment ID an MLflow client sent: MLflow's default
        experiment "0" is mlcycle's "Default" experiment (created on first use)."""
        if given != DEFAULT_EXPERIMENT_ID:
            return given
        return self.default_experiment().id

    def default_experiment(self) -> Experiment:
        found = self.tracking.find_experiment(DEFAULT_EXPERIMENT)
        if found is not None:
            return found
        try:
            return self.tracking.create_experiment(DEFAULT_EXPERIMENT)
        except Exception:
            found = self.tracking.find_experiment(DEFAULT_EXPERIMENT)  # created concurrently
            if found is None:
                raise
            return found

    def get_experiment(self, given: str) -> Experiment:
        if given == DEFAULT_EXPERIMENT_ID:
            return self.default_experiment()
        try:
            return self.tracking.get_experiment(given)
        except NotFoundError:
            raise NotFoundError(
                f"No Experiment with id={given} exists", field="experiment_id"
            ) from None


def context(request: Request) -> MlflowContext:
    found: MlflowContext = request.state.mlflow
    return found
