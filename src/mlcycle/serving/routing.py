"""The routing table: which arm answers a request, and which shadows get a copy.

A table is immutable; the runtime builds a new one (models loaded and warmed) and swaps it
in with one assignment, so a request sees either the old table or the new one, never half.

SERVING arms answer in proportion to their weights. With a routing key (the
``x-routing-key`` header, or the deployment's ``routing_key`` input field) the choice is a
stable hash of the key, so the same key always lands on the same arm while the weights
stay; without one it is random. A SHADOW arm of weight ``w`` receives a copy of ``w``
percent of the requests.
"""

from __future__ import annotations

import random
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from mlcycle.entities.deployments import ArmRole, Deployment
from mlcycle.serving.batching import MicroBatcher
from mlcycle.serving.metrics import ArmMetrics
from mlcycle.serving.model import ServedModel
from mlcycle.serving.sources import ArmTarget


@dataclass(slots=True, eq=False)
class ArmRuntime:
    """One arm, ready: its resolved target, loaded model, batcher and metric children."""

    target: ArmTarget
    model: ServedModel
    batcher: MicroBatcher
    metrics: ArmMetrics

    @property
    def name(self) -> str:
        return self.target.arm.name

    @property
    def weight(self) -> float:
        return self.target.arm.weight

    @property
    def role(self) -> ArmRole:
        return self.target.arm.role


def _fraction(key: str, salt: bytes = b"") -> float:
    """A stable number in [0, 1) for ``key``."""
    return zlib.crc32(salt + key.encode("utf-8", "surrogatepass")) / 4294967296.0


class RouteTable:
    """The arms of one deployment revision, and how a request picks among them."""

    def __init__(self, deployment: Deployment, arms: list[ArmRuntime]) -> None:
        self.deployment = deployment
        self.arms = arms
        self.serving = [a for a in arms if a.role is ArmRole.SERVING and a.weight > 0]
        if not self.serving:  # no weight anywhere: the first serving arm takes everything
            self.serving = [a for a in arms if a.role is ArmRole.SERVING][:1]
        self.shadows = [a for a in arms if a.role is ArmRole.SHADOW and a.weight > 0]
        self._bounds = list(accumulate(max(a.weight, 0.0) for a in self.serving))
        self._total = self._bounds[-1] if self._bounds else 0.0
        self.primary = max(self.serving, key=lambda a: a.weight) if self.serving else None
        self.signature = tuple((a.name, a.target.key, a.role.value) for a in arms)

    @property
    def revision(self) -> int:
        return self.deployment.revision

    def pick(self, key: str | None) -> ArmRuntime:
        """The serving arm for a request with routing ``key`` (None: random)."""
        if len(self.serving) == 1 or self._total <= 0:
            return self.serving[0]
        point = (_fraction(key) if key is not None else random.random()) * self._total
        return self.serving[min(bisect_right(self._bounds, point), len(self.serving) - 1)]

    def shadows_for(self, key: str | None) -> list[ArmRuntime]:
        """The shadow arms that get a copy of this request."""
        if not self.shadows:
            return []
        chosen = []
        for arm in self.shadows:
            draw = _fraction(key, b"shadow:") if key is not None else random.random()
            if draw * 100.0 < arm.weight:
                chosen.append(arm)
        return chosen

    def by_version(self, label: str) -> ArmRuntime | None:
        """The serving arm whose model version label is ``label``."""
        for arm in self.serving:
            if arm.target.label == label or str(arm.target.version) == label:
                return arm
        return None
