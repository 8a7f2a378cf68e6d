"""Runs: one execution of training or evaluation code, with what it logged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mlcycle.entities import _html
from mlcycle.entities.experiments import LifecycleStage


class RunStatus(StrEnum):
    """Where a run is in its life. RUNNING and SCHEDULED are not terminal."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


@dataclass(frozen=True, kw_only=True)
class Run:
    """A run as stored: attributes, params, latest metric values and tags.

    ``metrics`` maps each key to its latest value (the value at the highest step).
    """

    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    parent_id: str | None = None
    description: str | None = None
    error: str | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    deleted_at: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> int | None:
        """Milliseconds from start to end, or None while the run is not over."""
        return None if self.end_time is None else self.end_time - self.start_time

    def _repr_html_(self) -> str:
        pairs: list[tuple[str, object]] = [
            ("ID", self.id),
            ("Status", self.status.value),
            ("Experiment", self.experiment_id),
            ("Parent run", self.parent_id),
        ]
        pairs += [(f"params.{k}", v) for k, v in sorted(self.params.items())]
        pairs += [(f"metrics.{k}", v) for k, v in sorted(self.metrics.items())]
        return _html.details(f"Run {_html.fmt(self.name)}", pairs)


@dataclass(frozen=True, kw_only=True)
class RunPage:
    """One page of search results and the token for the next page (None on the last)."""

    runs: list[Run]
    next_page_token: str | None = None
