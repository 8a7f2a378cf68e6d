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
from mlcycle.entities.deployment_state import (
    CanaryProgress,
    DeploymentState,
    FeedbackResult,
    ResolvedArm,
    ResolvedModel,
)
from mlcycle.entities.deployments import (
    Arm,
    ArmRole,
    ArmStats,
    CanaryPolicy,
    Deployment,
    DeploymentEvent,
    DeploymentStatus,
    Feedback,
    ServingOptions,
    Strategy,
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
    "Arm",
    "ArmRole",
    "ArmStats",
    "ArtifactInfo",
    "CanaryPolicy",
    "CanaryProgress",
    "ColumnProfile",
    "ColumnSchema",
    "Dataset",
    "DatasetProfile",
    "DatasetVersion",
    "Deployment",
    "DeploymentEvent",
    "DeploymentState",
    "DeploymentStatus",
    "Direction",
    "Experiment",
    "Feedback",
    "FeedbackResult",
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
    "ResolvedArm",
    "ResolvedModel",
    "RuleResult",
    "Run",
    "RunInput",
    "RunPage",
    "RunStatus",
    "ServingOptions",
    "Strategy",
    "Task",
    "Transform",
    "ValidationRecord",
    "ValidationReport",
    "VersionComparison",
]
