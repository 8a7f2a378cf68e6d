"""What monitoring reads of a client's deployments: the model a deployment serves, its
prediction log and its feedback (the :class:`~mlcycle.ports.monitoring.MonitoredDeployments`
port over the deployment service and the prediction log files)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlcycle.deployments.prediction_logs import read_prediction_log
from mlcycle.entities import ArmRole, Feedback
from mlcycle.entities.monitoring import DeployedModel

if TYPE_CHECKING:
    from mlcycle.client.client import Client


class ClientDeployments:
    """The deployments of ``client`` as monitoring sees them."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def deployed_model(self, deployment: str) -> DeployedModel:
        service = self._client.deployments
        found = service.get(deployment)
        resolved = service.resolver.resolve(found.model_uri)
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
        return read_prediction_log(self._client.settings.artifact_uri, deployment, since, until)

    def feedback(self, deployment: str, since: int | None, until: int | None) -> Sequence[Feedback]:
        return self._client.deployments.feedback_for(deployment, since, until)

    def start_canary(
        self, deployment: str, model_uri: str, *, steps: Sequence[int], interval_s: float
    ) -> object:
        return self._client.deployments.canary(
            deployment,
            model_uri,
            steps=steps,
            interval_s=interval_s,
            reason="started by a monitor's retraining trigger",
        )
