"""What monitoring reads of the stored deployments: the model a deployment serves, its
prediction log and its feedback (the :class:`~mlcycle.ports.monitoring.MonitoredDeployments`
port over the deployment service and the prediction log files)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlcycle.deployments.prediction_logs import read_prediction_log
from mlcycle.deployments.service import DeploymentService
from mlcycle.entities import ArmRole, Deployment, Feedback
from mlcycle.entities.monitoring import DeployedModel


class StoredDeployments:
    """The deployments of ``service`` as monitoring sees them; prediction logs are read
    under ``artifact_root``."""

    def __init__(self, service: DeploymentService, artifact_root: str) -> None:
        self._service = service
        self._artifact_root = artifact_root

    def deployed_model(self, deployment: str) -> DeployedModel:
        found = self._service.get(deployment)
        resolved = self._service.resolver.resolve(found.model_uri)
        return DeployedModel(
            deployment=found.name,
            model_uri=found.model_uri,
            name=resolved.name,
            version=resolved.version,
            alias=resolved.alias,
            shadow_arms=tuple(a.name for a in found.arms if a.role is ArmRole.SHADOW),
            trusted=tuple(found.options.trusted),
        )

    def predictions(self, deployment: str, since: int | None, until: int | None) -> Any:
        return read_prediction_log(self._artifact_root, deployment, since, until)

    def feedback(self, deployment: str, since: int | None, until: int | None) -> Sequence[Feedback]:
        return self._service.feedback_for(deployment, since, until)

    def start_canary(
        self, deployment: str, model_uri: str, *, steps: Sequence[int], interval_s: float
    ) -> Deployment:
        return self._service.canary(
            deployment,
            model_uri,
            steps=steps,
            interval_s=interval_s,
            reason="started by a monitor's retraining trigger",
        )
