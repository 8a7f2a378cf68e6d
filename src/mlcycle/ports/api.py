"""One small typed API per capability: what the client, the CLI and the stage namespaces
call, whoever serves it.

Each protocol names the public methods of a stage's service, with the same names and
signatures: the local services implement them over a store (:mod:`mlcycle.backends.local`),
and an HTTP backend implements them against ``mlcycle server``. A
:class:`~mlcycle.backends.Backend` holds one implementation per capability, or none (the
capability is refused in one place, :meth:`mlcycle.backends.Backend.require`).

    >>> def champion(registry: RegistryAPI, name: str) -> int:
    ...     return registry.resolve_version(name, alias="champion").version

A few parameters take Python-side inputs whose types live with the stage's service, above
this layer; they are typed ``Any`` here under the names below (the service's own signature
is precise):

* ``DataLike`` - :data:`mlcycle.datasets.reading.DataLike` (a DataFrame, Arrow table, path)
* ``RulesLike`` - :data:`mlcycle.datasets.service.RulesLike` (rules, or a YAML file)
* ``TransformLike`` - :data:`mlcycle.datasets.service.TransformLike`
* ``BatchStream`` - :class:`mlcycle.datasets.reading.BatchStream`
* ``ProfileDiff`` - :class:`mlcycle.datasets.diff.ProfileDiff`
* ``GateLike`` - :data:`mlcycle.registry.gates.GateLike` (a gate, or a callable)
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeAlias

from mlcycle.entities import (
    ArmStats,
    Dataset,
    DatasetVersion,
    Deployment,
    DeploymentEvent,
    DeploymentState,
    Feedback,
    FeedbackResult,
    GateResult,
    Lineage,
    ModelLineage,
    ModelVersion,
    ModelVersionStatus,
    Promotion,
    RegisteredModel,
    RunInput,
    ServingOptions,
    ValidationRecord,
    ValidationReport,
    VersionComparison,
)
from mlcycle.entities.cards import ModelCard
from mlcycle.entities.datasets import LoadFormat
from mlcycle.entities.governance import (
    ApiToken,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    AuditEvent,
    AuditQuery,
    AuditVerification,
    Grant,
    GrantLevel,
    NewToken,
    Protection,
    ResourceKind,
    RetentionReport,
    Role,
    User,
)
from mlcycle.entities.models import ModelSource
from mlcycle.entities.monitoring import (
    Alert,
    AlertRule,
    AlertStatus,
    Monitor,
    MonitorResult,
    RetrainRun,
    Window,
)
from mlcycle.ports.backend import TrackingBackend

DataLike: TypeAlias = Any
RulesLike: TypeAlias = Any
TransformLike: TypeAlias = Any
BatchStream: TypeAlias = Any
ProfileDiff: TypeAlias = Any
GateLike: TypeAlias = Any
#: Loads a version's model for the gates that predict: ``load(version) -> model``.
ModelLoader: TypeAlias = Callable[[ModelVersion], Any]
#: One feedback item: ``(prediction_id, truth)`` or a mapping with those keys.
FeedbackItem: TypeAlias = tuple[str, Any] | Mapping[str, Any]

#: Experiments, runs, params, metrics, tags and artifacts (the tracking service, or the
#: server's tracking routes through :class:`~mlcycle.remote.RemoteBackend`).
TrackingAPI: TypeAlias = TrackingBackend


class DatasetsAPI(Protocol):
    """Datasets: register, version, read, validate, split and trace tabular data
    (:class:`~mlcycle.datasets.service.DatasetService`)."""

    def children(self, version: DatasetVersion) -> list[Lineage]: ...
    def clean(
        self,
        version: DatasetVersion,
        how: str,
        /,
        *,
        name: str | None = ...,
        description: str | None = ...,
        **options: Any,
    ) -> DatasetVersion: ...
    def delete(self, name: str, version: int | None = ...) -> None: ...
    def delete_tag(self, version: DatasetVersion, key: str) -> None: ...
    def derive(
        self,
        name: str,
        parents: Sequence[DatasetVersion] | DatasetVersion,
        data: DataLike,
        transform: TransformLike,
        *,
        params: Mapping[str, Any] | None = ...,
        code_ref: str | None = ...,
        description: str | None = ...,
        tags: Mapping[str, str] | None = ...,
        rules: RulesLike | None = ...,
        refuse_on_failure: bool = ...,
    ) -> DatasetVersion: ...
    def diff(self, old: DatasetVersion, new: DatasetVersion) -> ProfileDiff: ...
    def get(self, name: str, version: int | None = ...) -> DatasetVersion: ...
    def get_by_id(self, version_id: str) -> DatasetVersion: ...
    def inputs_of(self, run_id: str) -> list[RunInput]: ...
    def list_datasets(self, *, include_deleted: bool = ...) -> list[Dataset]: ...
    def list_versions(self, name: str, *, include_deleted: bool = ...) -> list[DatasetVersion]: ...
    def load(
        self, version: DatasetVersion, format: LoadFormat = ..., columns: Sequence[str] | None = ...
    ) -> Any: ...
    def log_input(self, run_id: str, version: DatasetVersion, context: str = ...) -> RunInput: ...
    def register(
        self,
        name: str,
        data: DataLike,
        *,
        description: str | None = ...,
        tags: Mapping[str, str] | None = ...,
        rules: RulesLike | None = ...,
        refuse_on_failure: bool = ...,
    ) -> DatasetVersion: ...
    def restore(self, name: str, version: int | None = ...) -> None: ...
    def runs_of(self, version: DatasetVersion) -> list[RunInput]: ...
    def set_tags(self, version: DatasetVersion, tags: Mapping[str, object]) -> None: ...
    def split(
        self,
        version: DatasetVersion,
        *,
        test: float = ...,
        validation: float = ...,
        stratify: str | None = ...,
        group: str | None = ...,
        time: str | None = ...,
        seed: int = ...,
        name: str | None = ...,
    ) -> dict[str, DatasetVersion]: ...
    def stream(
        self, version: DatasetVersion, *, columns: Sequence[str] | None = ...
    ) -> BatchStream: ...
    def validate(
        self, version: DatasetVersion, rules: RulesLike, *, record: bool = ...
    ) -> ValidationReport: ...
    def validations(self, version: DatasetVersion) -> list[ValidationRecord]: ...


class RegistryAPI(Protocol):
    """The model registry: models, versions, aliases, gates, promotion, lineage
    (:class:`~mlcycle.registry.service.RegistryService`)."""

    def add_version(
        self,
        name: str,
        source: ModelSource,
        *,
        flavor: str | None = ...,
        signature: Mapping[str, Any] | None = ...,
        description: str | None = ...,
        tags: Mapping[str, str] | None = ...,
    ) -> ModelVersion: ...
    def check_gates(
        self,
        name: str,
        version: int,
        alias: str = ...,
        *,
        reason: str | None = ...,
        trusted: Sequence[str] = ...,
    ) -> list[GateResult]: ...
    def compare(self, name: str, v1: int, v2: int) -> VersionComparison: ...
    def create_model(
        self,
        name: str,
        *,
        description: str | None = ...,
        owner: str | None = ...,
        tags: Mapping[str, str] | None = ...,
    ) -> RegisteredModel: ...
    def delete_alias(self, name: str, alias: str) -> None: ...
    def delete_model(self, name: str) -> None: ...
    def delete_model_tag(self, name: str, key: str) -> None: ...
    def delete_version(self, name: str, version: int) -> None: ...
    def delete_version_tag(self, name: str, version: int, key: str) -> None: ...
    def gate_results(self, name: str, version: int) -> list[GateResult]: ...
    def get_model(self, name: str) -> RegisteredModel: ...
    def get_version(self, name: str, version: int) -> ModelVersion: ...
    def lineage(
        self, name: str, version: int | None = ..., *, alias: str | None = ...
    ) -> ModelLineage: ...
    def list_models(self, filter: str | None = ...) -> list[RegisteredModel]: ...
    def list_versions(self, name: str, *, include_retired: bool = ...) -> list[ModelVersion]: ...
    def promote(
        self,
        name: str,
        version: int,
        alias: str = ...,
        gates: Sequence[GateLike] | None = ...,
        *,
        defaults: bool = ...,
        tolerance: float = ...,
        force: bool = ...,
        reason: str | None = ...,
        load_model: ModelLoader | None = ...,
        trusted: Sequence[str] = ...,
    ) -> Promotion: ...
    def rename_model(self, name: str, new_name: str) -> RegisteredModel: ...
    def register(
        self,
        name: str,
        source: ModelSource,
        *,
        description: str | None = ...,
        tags: Mapping[str, str] | None = ...,
    ) -> ModelVersion: ...
    def resolve(
        self, name: str, *, version: int | None = ..., alias: str | None = ...
    ) -> ModelSource: ...
    def resolve_version(
        self, name: str, *, version: int | None = ..., alias: str | None = ...
    ) -> ModelVersion: ...
    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion: ...
    def set_status(
        self, name: str, version: int, status: ModelVersionStatus | str
    ) -> ModelVersion: ...
    def update_model(
        self,
        name: str,
        *,
        description: str | None = ...,
        owner: str | None = ...,
        tags: Mapping[str, str] | None = ...,
    ) -> RegisteredModel: ...
    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = ...,
        tags: Mapping[str, str] | None = ...,
    ) -> ModelVersion: ...


class DeploymentsAPI(Protocol):
    """Deployments, their rollouts and feedback
    (:class:`~mlcycle.deployments.service.DeploymentService`)."""

    def canary(
        self,
        name: str,
        candidate: str,
        *,
        steps: Sequence[int] = ...,
        interval_s: float = ...,
        max_error_rate: float | None = ...,
        max_p99_ms: float | None = ...,
        min_accuracy: float | None = ...,
        reason: str | None = ...,
    ) -> Deployment: ...
    def canary_tick(
        self,
        name: str,
        stats: Mapping[str, ArmStats],
        now_ms: int | None = ...,
        expected_revision: int | None = ...,
    ) -> DeploymentEvent | None: ...
    def create(
        self,
        name: str,
        model_uri: str,
        *,
        options: ServingOptions | None = ...,
        description: str | None = ...,
    ) -> Deployment: ...
    def delete(self, name: str, *, reason: str | None = ...) -> Deployment: ...
    def feedback_for(
        self, deployment: str, since: int | None = ..., until: int | None = ...
    ) -> builtins.list[Feedback]: ...
    def get(self, name: str) -> Deployment: ...
    def history(self, name: str) -> builtins.list[DeploymentEvent]: ...
    def list(self, *, include_deleted: bool = ...) -> builtins.list[Deployment]: ...
    def record_feedback(
        self,
        deployment: str,
        items: Iterable[FeedbackItem],
        known: Callable[[str], bool] | None = ...,
    ) -> FeedbackResult: ...
    def rollback(self, name: str, *, reason: str | None = ...) -> Deployment: ...
    def shadow(
        self, name: str, candidate: str, *, percent: float = ..., reason: str | None = ...
    ) -> Deployment: ...
    def split(
        self, name: str, targets: Sequence[tuple[str, float]], *, reason: str | None = ...
    ) -> Deployment: ...
    def status(self, name: str) -> DeploymentState: ...


class MonitoringAPI(Protocol):
    """Monitors on deployments, their results, alert rules, alerts and retraining
    (:class:`~mlcycle.monitoring.service.MonitorService`)."""

    def ack(self, alert_id: str, *, by: str | None = ...) -> Alert: ...
    def add_rule(
        self,
        monitor: str,
        on: str,
        *,
        name: str | None = ...,
        severity: str = ...,
        cooldown: str | int = ...,
        webhook: str | None = ...,
        secret: str | None = ...,
        metric: str | None = ...,
        tolerance: float | None = ...,
    ) -> AlertRule: ...
    def alerts(
        self,
        *,
        monitor: str | None = ...,
        status: str | AlertStatus | None = ...,
        limit: int | None = ...,
    ) -> list[Alert]: ...
    def create(
        self,
        name: str,
        deployment: str,
        *,
        window: str | Window = ...,
        reference: str | tuple[str, int] | None = ...,
        schedule: str | int | None = ...,
        min_rows: int = ...,
        retrain: str | None = ...,
        retrain_command: str | None = ...,
        on_alerts: Sequence[str] = ...,
        auto_canary: bool = ...,
        canary_steps: Sequence[int] = ...,
        canary_interval: str | float = ...,
        description: str | None = ...,
    ) -> Monitor: ...
    def delete(self, name: str) -> None: ...
    def delete_rule(self, monitor: str, name: str) -> None: ...
    def get(self, name: str) -> Monitor: ...
    def get_alert(self, alert_id: str) -> Alert: ...
    def list_monitors(self, deployment: str | None = ...) -> list[Monitor]: ...
    def replace_schedule(self, name: str, schedule: str | int | None) -> Monitor: ...
    def results(
        self, name: str, *, since: int | None = ..., limit: int | None = ...
    ) -> list[MonitorResult]: ...
    def retrain(self, name: str) -> RetrainRun: ...
    def retrains(self, name: str) -> list[RetrainRun]: ...
    def rules(self, monitor: str) -> list[AlertRule]: ...
    def run(self, name: str, *, now: int | None = ...) -> MonitorResult: ...
    def run_due(self, *, now: int | None = ..., every: bool = ...) -> list[MonitorResult]: ...


class GovernanceAPI(Protocol):
    """Users, tokens, grants, approvals, the audit trail, retirement, model cards,
    compliance bundles and retention
    (:class:`~mlcycle.backends.local_governance.LocalGovernance`)."""

    def apply_retention(
        self,
        *,
        retired_artifacts: str | timedelta | int = ...,
        prediction_logs: str | timedelta | int = ...,
        dry_run: bool = ...,
    ) -> RetentionReport: ...
    def approve(self, approval_id: str, *, comment: str | None = ...) -> Approval: ...
    def audit_events(self, query: AuditQuery | None = ...) -> list[AuditEvent]: ...
    def card(self, name: str, version: int) -> ModelCard: ...
    def create_token(
        self, user: str, *, expires: str | None = ..., name: str | None = ...
    ) -> NewToken: ...
    def create_user(
        self, name: str, *, role: Role | str = ..., admin: bool = ..., password: str | None = ...
    ) -> User: ...
    def export_audit(self, query: AuditQuery | None = ...) -> Iterator[str]: ...
    def export_bundle(self, name: str, version: int, path: str | Path) -> dict[str, Any]: ...
    def get_approval(self, approval_id: str) -> Approval: ...
    def grant(
        self, user: str, kind: ResourceKind | str, resource: str, level: GrantLevel | str
    ) -> Grant: ...
    def list_approvals(
        self, *, status: ApprovalStatus | str | None = ..., target: str | None = ...
    ) -> list[Approval]: ...
    def list_grants(self, user: str | None = ...) -> list[Grant]: ...
    def list_tokens(self, user: str | None = ...) -> list[ApiToken]: ...
    def list_users(self) -> list[User]: ...
    def protect(
        self, kind: ApprovalKind | str, target: str, name: str = ..., *, protected: bool = ...
    ) -> Protection: ...
    def protections(self) -> tuple[list[Protection], bool]: ...
    def reject(self, approval_id: str, *, comment: str | None = ...) -> Approval: ...
    def request_approval(
        self,
        kind: ApprovalKind | str,
        target: str,
        *,
        version: int | None = ...,
        alias: str | None = ...,
        action: str | None = ...,
        comment: str | None = ...,
    ) -> Approval: ...
    def retire(self, name: str, version: int, *, reason: str) -> ModelVersion: ...
    def revoke_grant(self, user: str, kind: ResourceKind | str, resource: str) -> None: ...
    def revoke_token(self, token_id: str) -> ApiToken: ...
    def set_card_fields(self, name: str, version: int, **fields: str) -> ModelVersion: ...
    def set_disabled(self, name: str, disabled: bool = ...) -> User: ...
    def set_legal_hold(
        self, name: str, version: int, *, hold: bool = ..., reason: str | None = ...
    ) -> ModelVersion: ...
    def set_role(self, name: str, role: Role | str) -> User: ...
    def verify_audit(self) -> AuditVerification: ...
    def whoami(self) -> dict[str, Any]: ...
