"""Deployments as JSON-ready dictionaries and back: what the store keeps in its JSON
columns, what the history's ``before``/``after`` snapshots hold, and what ``--json`` prints.

>>> arm = Arm(name="a", model_uri="models:/churn/3", weight=50.0)
>>> arm_from_dict(arm_to_dict(arm)) == arm
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mlcycle.entities.deployments import (
    Arm,
    ArmRole,
    CanaryPolicy,
    Deployment,
    DeploymentEvent,
    ServingOptions,
    Strategy,
)


def arm_to_dict(arm: Arm) -> dict[str, Any]:
    return {
        "name": arm.name,
        "model_uri": arm.model_uri,
        "weight": arm.weight,
        "role": arm.role.value,
    }


def arm_from_dict(data: Mapping[str, Any]) -> Arm:
    return Arm(
        name=str(data["name"]),
        model_uri=str(data["model_uri"]),
        weight=float(data.get("weight", 100.0)),
        role=ArmRole(data.get("role", ArmRole.SERVING.value)),
    )


def arms_to_list(arms: Iterable[Arm]) -> list[dict[str, Any]]:
    return [arm_to_dict(a) for a in arms]


def arms_from_list(data: Sequence[Mapping[str, Any]] | None) -> tuple[Arm, ...]:
    return tuple(arm_from_dict(a) for a in data or ())


def canary_to_dict(policy: CanaryPolicy) -> dict[str, Any]:
    return {
        "candidate": policy.candidate,
        "steps": list(policy.steps),
        "interval_s": policy.interval_s,
        "max_error_rate": policy.max_error_rate,
        "max_p99_ms": policy.max_p99_ms,
        "min_accuracy": policy.min_accuracy,
        "step": policy.step,
        "step_started_at": policy.step_started_at,
    }


def canary_from_dict(data: Mapping[str, Any]) -> CanaryPolicy:
    def optional(key: str) -> float | None:
        value = data.get(key)
        return None if value is None else float(value)

    return CanaryPolicy(
        candidate=str(data["candidate"]),
        steps=tuple(int(s) for s in data["steps"]),
        interval_s=float(data["interval_s"]),
        max_error_rate=optional("max_error_rate"),
        max_p99_ms=optional("max_p99_ms"),
        min_accuracy=optional("min_accuracy"),
        step=int(data.get("step", 0)),
        step_started_at=int(data.get("step_started_at", 0)),
    )


def options_to_dict(options: ServingOptions) -> dict[str, Any]:
    return {
        "max_batch_size": options.max_batch_size,
        "max_latency_ms": options.max_latency_ms,
        "log_sample_rate": options.log_sample_rate,
        "routing_key": options.routing_key,
        "trusted": list(options.trusted),
    }


def options_from_dict(data: Mapping[str, Any] | None) -> ServingOptions:
    data = data or {}
    default = ServingOptions()
    return ServingOptions(
        max_batch_size=int(data.get("max_batch_size", default.max_batch_size)),
        max_latency_ms=float(data.get("max_latency_ms", default.max_latency_ms)),
        log_sample_rate=float(data.get("log_sample_rate", default.log_sample_rate)),
        routing_key=data.get("routing_key"),
        trusted=tuple(str(t) for t in data.get("trusted") or ()),
    )


def traffic_snapshot(deployment: Deployment) -> dict[str, Any]:
    """What a history event's ``before``/``after`` holds: the traffic configuration."""
    return {
        "model_uri": deployment.model_uri,
        "strategy": deployment.strategy.value,
        "arms": arms_to_list(deployment.arms),
        "canary": canary_to_dict(deployment.canary) if deployment.canary else None,
        "options": options_to_dict(deployment.options),
        "status": deployment.status.value,
    }


def deployment_to_dict(deployment: Deployment) -> dict[str, Any]:
    """The whole deployment, JSON-ready (times in milliseconds since the epoch)."""
    return {
        "name": deployment.name,
        "model_uri": deployment.model_uri,
        "strategy": deployment.strategy.value,
        "arms": arms_to_list(deployment.arms),
        "stable_arms": arms_to_list(deployment.stable_arms),
        "canary": canary_to_dict(deployment.canary) if deployment.canary else None,
        "options": options_to_dict(deployment.options),
        "revision": deployment.revision,
        "status": deployment.status.value,
        "description": deployment.description,
        "created_at": deployment.created_at,
        "updated_at": deployment.updated_at,
    }


def event_to_dict(event: DeploymentEvent) -> dict[str, Any]:
    return {
        "deployment": event.deployment,
        "revision": event.revision,
        "action": event.action,
        "at": event.at,
        "actor": event.actor,
        "reason": event.reason,
        "before": dict(event.before) if event.before is not None else None,
        "after": dict(event.after) if event.after is not None else None,
    }


def strategy_for(arms: Sequence[Arm]) -> Strategy:
    """SINGLE for one serving arm, SPLIT for several (shadow arms are not counted)."""
    serving = [a for a in arms if a.role is ArmRole.SERVING]
    return Strategy.SPLIT if len(serving) > 1 else Strategy.SINGLE
