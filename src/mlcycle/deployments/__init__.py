"""Deployments: named endpoints serving registered models, rollouts between versions
(A/B split, canary, shadow) with the history of every change, feedback and the
prediction log.

The public API (implemented in :mod:`mlcycle.client.deployments`, over the default
client)::

    >>> import mlcycle
    >>> mlcycle.deployments.create("churn", "models:/churn@champion")  # doctest: +SKIP
    >>> mlcycle.deployments.split(
    ...     "churn", [("models:/churn/3", 50), ("models:/churn/4", 50)])  # doctest: +SKIP
    >>> mlcycle.deployments.canary("churn", "models:/churn/4", interval="10m",
    ...     max_error_rate=0.01, max_p99_ms=50)  # doctest: +SKIP
    >>> mlcycle.deployments.rollback("churn")  # doctest: +SKIP
    >>> mlcycle.deployments.history("churn")  # doctest: +SKIP
    >>> mlcycle.deployments.prediction_log("churn", since=...)  # doctest: +SKIP

Serve one with ``mlcycle deployments serve churn --port 8080``.

The stage's logic lives in submodules:

* :mod:`mlcycle.deployments.service` - :class:`DeploymentService` over the deployments port
* :mod:`mlcycle.deployments.canary_controller` - the canary controller's decision (a pure
  function)
* :mod:`mlcycle.deployments.feedback_items` - feedback items checked into records
* :mod:`mlcycle.deployments.resolver` - model URIs resolved through the registry
* :mod:`mlcycle.deployments.validation` - the rules for names, options, weights and steps
* :mod:`mlcycle.deployments.prediction_logs` - the prediction log's writer and reader
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle._lazy import attach

if TYPE_CHECKING:
    from mlcycle.client.deployments import canary as canary
    from mlcycle.client.deployments import create as create
    from mlcycle.client.deployments import delete as delete
    from mlcycle.client.deployments import feedback as feedback
    from mlcycle.client.deployments import get as get
    from mlcycle.client.deployments import history as history
    from mlcycle.client.deployments import list_deployments as list_deployments
    from mlcycle.client.deployments import prediction_log as prediction_log
    from mlcycle.client.deployments import record_feedback as record_feedback
    from mlcycle.client.deployments import rollback as rollback
    from mlcycle.client.deployments import shadow as shadow
    from mlcycle.client.deployments import split as split
    from mlcycle.client.deployments import status as status
    from mlcycle.entities import Arm as Arm
    from mlcycle.entities import ArmRole as ArmRole
    from mlcycle.entities import ArmStats as ArmStats
    from mlcycle.entities import CanaryPolicy as CanaryPolicy
    from mlcycle.entities import CanaryProgress as CanaryProgress
    from mlcycle.entities import Deployment as Deployment
    from mlcycle.entities import DeploymentEvent as DeploymentEvent
    from mlcycle.entities import DeploymentState as DeploymentState
    from mlcycle.entities import DeploymentStatus as DeploymentStatus
    from mlcycle.entities import Feedback as Feedback
    from mlcycle.entities import FeedbackResult as FeedbackResult
    from mlcycle.entities import ResolvedArm as ResolvedArm
    from mlcycle.entities import ServingOptions as ServingOptions
    from mlcycle.entities import Strategy as Strategy

    list = list_deployments

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Arm": "mlcycle.entities:Arm",
        "ArmRole": "mlcycle.entities:ArmRole",
        "ArmStats": "mlcycle.entities:ArmStats",
        "CanaryPolicy": "mlcycle.entities:CanaryPolicy",
        "CanaryProgress": "mlcycle.entities:CanaryProgress",
        "Deployment": "mlcycle.entities:Deployment",
        "DeploymentEvent": "mlcycle.entities:DeploymentEvent",
        "DeploymentState": "mlcycle.entities:DeploymentState",
        "DeploymentStatus": "mlcycle.entities:DeploymentStatus",
        "Feedback": "mlcycle.entities:Feedback",
        "FeedbackResult": "mlcycle.entities:FeedbackResult",
        "ResolvedArm": "mlcycle.entities:ResolvedArm",
        "ServingOptions": "mlcycle.entities:ServingOptions",
        "Strategy": "mlcycle.entities:Strategy",
        "canary": "mlcycle.client.deployments:canary",
        "create": "mlcycle.client.deployments:create",
        "delete": "mlcycle.client.deployments:delete",
        "feedback": "mlcycle.client.deployments:feedback",
        "get": "mlcycle.client.deployments:get",
        "history": "mlcycle.client.deployments:history",
        "list": "mlcycle.client.deployments:list_deployments",
        "list_deployments": "mlcycle.client.deployments:list_deployments",
        "prediction_log": "mlcycle.client.deployments:prediction_log",
        "record_feedback": "mlcycle.client.deployments:record_feedback",
        "rollback": "mlcycle.client.deployments:rollback",
        "shadow": "mlcycle.client.deployments:shadow",
        "split": "mlcycle.client.deployments:split",
        "status": "mlcycle.client.deployments:status",
    },
)
