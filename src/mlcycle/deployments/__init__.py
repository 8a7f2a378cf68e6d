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

from mlcycle.client.deployments import (
    canary,
    create,
    delete,
    feedback,
    get,
    history,
    list_deployments,
    prediction_log,
    record_feedback,
    rollback,
    shadow,
    split,
    status,
)
from mlcycle.client.deployments import list_deployments as list
from mlcycle.entities import (
    Arm,
    ArmRole,
    ArmStats,
    CanaryPolicy,
    CanaryProgress,
    Deployment,
    DeploymentEvent,
    DeploymentState,
    DeploymentStatus,
    Feedback,
    FeedbackResult,
    ResolvedArm,
    ServingOptions,
    Strategy,
)

__all__ = [
    "Arm",
    "ArmRole",
    "ArmStats",
    "CanaryPolicy",
    "CanaryProgress",
    "Deployment",
    "DeploymentEvent",
    "DeploymentState",
    "DeploymentStatus",
    "Feedback",
    "FeedbackResult",
    "ResolvedArm",
    "ServingOptions",
    "Strategy",
    "canary",
    "create",
    "delete",
    "feedback",
    "get",
    "history",
    "list",
    "list_deployments",
    "prediction_log",
    "record_feedback",
    "rollback",
    "shadow",
    "split",
    "status",
]
