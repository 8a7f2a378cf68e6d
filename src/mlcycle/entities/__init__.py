"""Entities: frozen dataclasses and enums that every layer passes around."""

from mlcycle.entities.artifacts import ArtifactInfo
from mlcycle.entities.datasets import (
    ColumnSchema,
    Dataset,
    DatasetVersion,
    Lineage,
    RunInput,
    Transform,
    ValidationRecord,
)
from mlcycle.entities.experiments import Direction, Experiment, LifecycleStage, Problem, Task
from mlcycle.entities.metrics import LatestMetric, MetricBatch, MetricHistory
from mlcycle.entities.profiles import ColumnProfile, DatasetProfile, ProfileSettings
from mlcycle.entities.registry import (
    GateResult,
    ModelLineage,
    ModelVersion,
    ModelVersionStatus,
    Promotion,
    RegisteredModel,
    VersionComparison,
)
from mlcycle.entities.runs import Run, RunPage, RunStatus
from mlcycle.entities.validation import RuleResult, ValidationReport

__all__ = [
    "ArtifactInfo",
    "ColumnProfile",
    "ColumnSchema",
    "Dataset",
    "DatasetProfile",
    "DatasetVersion",
    "Direction",
    "Experiment",
    "GateResult",
    "LatestMetric",
    "LifecycleStage",
    "Lineage",
    "MetricBatch",
    "MetricHistory",
    "ModelLineage",
    "ModelVersion",
    "ModelVersionStatus",
    "Problem",
    "ProfileSettings",
    "Promotion",
    "RegisteredModel",
    "RuleResult",
    "Run",
    "RunInput",
    "RunPage",
    "RunStatus",
    "Task",
    "Transform",
    "ValidationRecord",
    "ValidationReport",
    "VersionComparison",
]
