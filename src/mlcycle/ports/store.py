"""What the tracking service needs from a metadata store, one protocol per aggregate."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from mlcycle.entities import (
    ArtifactInfo,
    Experiment,
    LatestMetric,
    LifecycleStage,
    MetricBatch,
    MetricHistory,
    Problem,
    Run,
    RunPage,
    RunStatus,
)
from mlcycle.search import Filter, OrderBy


class ExperimentRepository(Protocol):
    def create(self, experiment: Experiment) -> Experiment: ...
    def get(self, experiment_id: str) -> Experiment: ...
    def get_by_name(self, name: str) -> Experiment | None: ...
    def id_by_name(self, name: str) -> str | None: ...
    def list(self, stages: Sequence[LifecycleStage] = ...) -> builtins.list[Experiment]: ...
    def update(
        self,
        experiment_id: str,
        *,
        updated_at: int,
        name: str | None = None,
        description: str | None = None,
        problem: Problem | None = None,
        lifecycle_stage: LifecycleStage | None = None,
        deleted_at: int | None = None,
    ) -> Experiment: ...
    def set_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None: ...
    def delete_tag(self, experiment_id: str, key: str) -> None: ...
    def deleted_before(self, cutoff: int) -> builtins.list[str]: ...
    def purge(self, experiment_ids: Sequence[str]) -> None: ...


class RunRepository(Protocol):
    def create(self, run: Run) -> Run: ...
    def get(self, run_id: str) -> Run: ...
    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        error: str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> None: ...
    def log_params(
        self, run_id: str, params: Mapping[str, str], *, allow_ended: bool = False
    ) -> None: ...
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None: ...
    def delete_tag(self, run_id: str, key: str) -> None: ...
    def set_stage(self, run_ids: Sequence[str], stage: LifecycleStage, at: int | None) -> None: ...
    def ids(
        self,
        *,
        experiment_ids: Sequence[str] | None = None,
        parent_id: str | None = None,
        deleted_before: int | None = None,
    ) -> list[str]: ...
    def purge(self, run_ids: Sequence[str]) -> None: ...


class MetricRepository(Protocol):
    def write(
        self,
        run_id: str,
        batches: Sequence[MetricBatch],
        batch_id: str | None = None,
        *,
        allow_ended: bool = False,
    ) -> bool: ...
    def history(self, run_id: str, key: str) -> MetricHistory: ...
    def latest(self, run_id: str) -> dict[str, LatestMetric]: ...
    def compact(self, run_id: str) -> int: ...


class ArtifactIndex(Protocol):
    def record(self, run_id: str, files: Sequence[ArtifactInfo], at: int) -> None: ...
    def list(self, run_id: str) -> list[ArtifactInfo]: ...


class TrackingStore(Protocol):
    """The metadata store as the tracking service sees it."""

    @property
    def experiments(self) -> ExperimentRepository: ...
    @property
    def runs(self) -> RunRepository: ...
    @property
    def metrics(self) -> MetricRepository: ...
    @property
    def artifacts(self) -> ArtifactIndex: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Filter | None = None,
        order_by: Sequence[OrderBy] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        stages: Sequence[LifecycleStage] = ...,
    ) -> RunPage: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Writes made inside the block commit together, or not at all."""
        ...

    def close(self) -> None: ...
