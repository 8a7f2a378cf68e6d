"""Experiments and the problem they state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mlcycle.entities import _html


class Task(StrEnum):
    """The kind of prediction an experiment is about."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    OTHER = "other"


class Direction(StrEnum):
    """Whether a larger or a smaller primary metric is better."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class LifecycleStage(StrEnum):
    """Soft deletion: deleted objects stay until ``mlcycle gc`` removes them."""

    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True, kw_only=True)
class Problem:
    """What an experiment tries to achieve.

    >>> Problem(task=Task.CLASSIFICATION, target="churned", primary_metric="roc_auc",
    ...         direction=Direction.MAXIMIZE, threshold=0.8).meets(0.85)
    True
    """

    task: Task = Task.OTHER
    target: str | None = None
    primary_metric: str | None = None
    direction: Direction = Direction.MAXIMIZE
    threshold: float | None = None

    def meets(self, value: float) -> bool:
        """True when ``value`` of the primary metric reaches the success threshold."""
        if self.threshold is None:
            return True
        if self.direction is Direction.MAXIMIZE:
            return value >= self.threshold
        return value <= self.threshold


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """A named group of runs that share one problem definition."""

    id: str
    name: str
    problem: Problem = field(default_factory=Problem)
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    created_at: int = 0
    updated_at: int = 0
    deleted_at: int | None = None

    def _repr_html_(self) -> str:
        p = self.problem
        goal = None
        if p.primary_metric is not None:
            goal = f"{p.primary_metric} ({p.direction.value}"
            goal += f", success at {p.threshold:g})" if p.threshold is not None else ")"
        pairs: list[tuple[str, object]] = [
            ("ID", self.id),
            ("Task", p.task.value),
            ("Target", p.target),
            ("Primary metric", goal),
            ("Description", self.description),
            ("Stage", self.lifecycle_stage.value),
        ]
        return _html.details(f"Experiment {_html.fmt(self.name)}", pairs)
