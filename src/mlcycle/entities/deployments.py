"""Deployments: a named endpoint, the model versions behind it (arms) and how traffic
is split between them (single, A/B, canary, shadow), with the history of every change.

These are the contract between the deployment service (which stores and changes them)
and the serving process (which reads them, routes requests and reports back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Strategy(StrEnum):
    """How a deployment's traffic is split right now."""

    SINGLE = "single"
    SPLIT = "split"
    CANARY = "canary"
    SHADOW = "shadow"


class ArmRole(StrEnum):
    """What an arm's answers are for.

    SERVING arms answer requests in proportion to their weight; a SHADOW arm receives a copy
    of ``weight`` percent of the traffic, and its answers are logged, never returned.
    """

    SERVING = "serving"
    SHADOW = "shadow"


@dataclass(frozen=True, kw_only=True)
class Arm:
    """One model behind a deployment.

    ``model_uri`` is what the user named (``models:/churn@champion``, ``models:/churn/4``,
    ``runs:/...``); an alias URI follows the alias, so the arm's version changes when the
    alias moves (the serving process reloads it). ``weight`` is a percentage (0-100);
    the weights of SERVING arms add up to 100.
    """

    name: str
    model_uri: str
    weight: float = 100.0
    role: ArmRole = ArmRole.SERVING


@dataclass(frozen=True, kw_only=True)
class CanaryPolicy:
    """A phased rollout of ``candidate`` arm: its weight rises through ``steps`` (percent)
    every ``interval_s`` seconds while the guards hold; a breached guard rolls back.

    ``step`` is the index in ``steps`` of the current weight; ``step_started_at`` (ms since
    the epoch) when it began.
    """

    candidate: str
    steps: tuple[int, ...]
    interval_s: float
    max_error_rate: float | None = None
    max_p99_ms: float | None = None
    min_accuracy: float | None = None
    step: int = 0
    step_started_at: int = 0


@dataclass(frozen=True, kw_only=True)
class ServingOptions:
    """Per-deployment serving settings.

    ``trusted`` names types outside skops' trusted set that the deployment's models may
    hold (``sklearn.tree._tree.Tree`` for a forest), as ``mlcycle.models.load(trusted=...)``.
    """

    max_batch_size: int = 64
    max_latency_ms: float = 2.0
    log_sample_rate: float = 1.0
    routing_key: str | None = None
    trusted: tuple[str, ...] = ()


class DeploymentStatus(StrEnum):
    """Whether a deployment is live or soft-deleted."""

    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """A named endpoint and its current traffic configuration.

    ``model_uri`` is the stable target (what the deployment was created with, or what the
    last completed rollout moved it to); ``arms`` is what serves now. ``revision`` grows by
    one with every change, so a serving process can tell that it must reload.
    ``stable_arms`` is the last configuration known to be good: ``rollback`` returns to it.
    """

    name: str
    model_uri: str
    arms: tuple[Arm, ...]
    strategy: Strategy = Strategy.SINGLE
    canary: CanaryPolicy | None = None
    options: ServingOptions = field(default_factory=ServingOptions)
    stable_arms: tuple[Arm, ...] = ()
    revision: int = 1
    status: DeploymentStatus = DeploymentStatus.ACTIVE
    description: str | None = None
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, kw_only=True)
class DeploymentEvent:
    """One change in a deployment's history (created, split, canary step, rollback...).

    ``before`` and ``after`` are JSON-ready snapshots of the arms (and strategy); ``reason``
    says why (a breached guard, a user's command).
    """

    deployment: str
    revision: int
    action: str
    at: int
    actor: str | None = None
    reason: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ArmStats:
    """What a serving process observed of one arm since ``since`` (ms since the epoch):
    the canary's guards are judged on these."""

    arm: str
    version: int | None
    since: int
    requests: int = 0
    errors: int = 0
    p99_ms: float | None = None
    labelled: int = 0
    accuracy: float | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """Ground truth for an answered request, for performance monitoring."""

    deployment: str
    request_id: str
    label: Any
    at: int
