"""What ``status`` reports of a deployment (its arms resolved to model versions now, the
canary's progress) and what storing feedback answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlcycle.entities.deployment_json import arm_to_dict, deployment_to_dict
from mlcycle.entities.deployments import Arm, ArmRole, Deployment


@dataclass(frozen=True, kw_only=True)
class ResolvedModel:
    """A model URI resolved now.

    ``name``/``version`` are the registered model and version a ``models:/`` URI names at
    this moment (an alias URI's version changes when the alias moves); ``source`` is
    where the files are (``runs:/<run_id>/<path>``, or a local directory).
    """

    uri: str
    source: str
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    flavor: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolvedArm:
    """An arm with the model version it serves now; ``error`` says why it does not
    resolve (the version was retired or deleted since)."""

    arm: Arm
    model: ResolvedModel | None = None
    error: str | None = None

    @property
    def version(self) -> int | None:
        return self.model.version if self.model is not None else None

    def to_dict(self) -> dict[str, Any]:
        data = arm_to_dict(self.arm)
        data["version"] = self.version
        data["registered_model"] = self.model.name if self.model else None
        data["source"] = self.model.source if self.model else None
        data["error"] = self.error
        return data


@dataclass(frozen=True, kw_only=True)
class CanaryProgress:
    """Where a canary is: step ``step`` (0-based) of ``steps`` gives the candidate
    ``percent`` of the traffic; the next step is due at ``next_step_at`` (ms since the
    epoch) if the guards hold and enough requests were seen."""

    candidate: str
    step: int
    steps: tuple[int, ...]
    percent: int
    step_started_at: int
    next_step_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "step": self.step,
            "steps": list(self.steps),
            "percent": self.percent,
            "step_started_at": self.step_started_at,
            "next_step_at": self.next_step_at,
        }


@dataclass(frozen=True, kw_only=True)
class DeploymentState:
    """A deployment as ``status`` shows it: the stored configuration, each arm resolved
    to the version it serves now, and the canary's progress (None: no canary)."""

    deployment: Deployment
    arms: tuple[ResolvedArm, ...]
    stable_arms: tuple[ResolvedArm, ...]
    canary: CanaryProgress | None = None

    def arm(self, name: str) -> ResolvedArm:
        """The resolved arm called ``name`` (KeyError when there is none)."""
        for resolved in self.arms:
            if resolved.arm.name == name:
                return resolved
        raise KeyError(name)

    @property
    def serving(self) -> tuple[ResolvedArm, ...]:
        return tuple(a for a in self.arms if a.arm.role is ArmRole.SERVING)

    @property
    def shadow(self) -> tuple[ResolvedArm, ...]:
        return tuple(a for a in self.arms if a.arm.role is ArmRole.SHADOW)

    def to_dict(self) -> dict[str, Any]:
        data = deployment_to_dict(self.deployment)
        data["arms"] = [a.to_dict() for a in self.arms]
        data["stable_arms"] = [a.to_dict() for a in self.stable_arms]
        data["canary_progress"] = self.canary.to_dict() if self.canary else None
        return data


@dataclass(frozen=True, kw_only=True)
class FeedbackResult:
    """What ``record_feedback`` did: how many labels were stored, and the request IDs
    that no answered request carries (not stored)."""

    stored: int
    unknown: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "unknown": list(self.unknown)}
