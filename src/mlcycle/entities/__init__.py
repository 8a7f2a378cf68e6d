"""Entities: frozen dataclasses and enums that every layer passes around."""

from mlcycle.entities.artifacts import ArtifactInfo
from mlcycle.entities.experiments import Direction, Experiment, LifecycleStage, Problem, Task
from mlcycle.entities.metrics import LatestMetric, MetricBatch, MetricHistory
from mlcycle.entities.runs import Run, RunPage, RunStatus

__all__ = [
    "ArtifactInfo",
    "Direction",
    "Experiment",
    "LatestMetric",
    "LifecycleStage",
    "MetricBatch",
    "MetricHistory",
    "Problem",
    "Run",
    "RunPage",
    "RunStatus",
    "Task",
]
