"""The tracking backend a client talks to: the in-process service or a tracking server.

Both implement this protocol, so ``mlcycle.Client`` and runs work the same against a local
store and a remote server; the user changes a URI, not code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from mlcycle.entities import (
    ArtifactInfo,
    Experiment,
    MetricBatch,
    MetricHistory,
    Problem,
    Run,
    RunPage,
    RunStatus,
)
from mlcycle.search import Filter, OrderBy


class TrackingBackend(Protocol):
    # experiments
    def create_experiment(
        self,
        name: str,
        *,
        problem: Problem | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Experiment: ...
    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def find_experiment(self, name: str) -> Experiment | None: ...
    def get_or_create_experiment(self, name: str) -> Experiment: ...
    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]: ...
    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        problem: Problem | None = None,
    ) -> Experiment: ...
    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None: ...
    def delete_experiment(self, experiment_id: str) -> Experiment: ...
    def restore_experiment(self, experiment_id: str) -> Experiment: ...

    # runs
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_id: str | None = None,
        description: str | None = None,
        start_time: int | None = None,
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def end_run(
        self, run_id: str, status: RunStatus = ..., *, error: str | None = None
    ) -> None: ...
    def update_run(
        self, run_id: str, *, name: str | None = None, description: str | None = None
    ) -> None: ...
    def log_params(self, run_id: str, params: Mapping[str, object]) -> None: ...
    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None: ...
    def delete_tag(self, run_id: str, key: str) -> None: ...
    def log_metrics(
        self, run_id: str, batches: Sequence[MetricBatch], *, batch_id: str | None = None
    ) -> None: ...
    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory: ...
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Filter | str | None = None,
        order_by: Sequence[OrderBy] | Sequence[str] | str | None = None,
        *,
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage: ...
    def search_runs_in(
        self,
        experiments: Sequence[str],
        filter: Filter | str | None = None,
        order_by: Sequence[OrderBy] | Sequence[str] | str | None = None,
        *,
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> tuple[list[str], RunPage]:
        """``search_runs`` of experiments by name or ID; their IDs and the page."""
        ...

    def delete_runs(self, run_ids: Sequence[str]) -> None: ...
    def restore_runs(self, run_ids: Sequence[str]) -> None: ...
    def child_run_ids(self, run_id: str) -> list[str]: ...

    # artifacts
    def log_artifact_file(
        self, run_id: str, local_path: str | Path, artifact_path: str
    ) -> ArtifactInfo: ...
    def log_artifact_bytes(self, run_id: str, artifact_path: str, data: bytes) -> ArtifactInfo: ...
    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]: ...
    def open_artifact(self, run_id: str, path: str) -> BinaryIO: ...
    def download_artifact(self, run_id: str, path: str, dest: str | Path) -> Path: ...
    def local_artifact_path(self, run_id: str, path: str) -> Path | None:
        """Where the artifact ``path`` is on this machine (read in place), or None."""
        ...

    # maintenance
    def collect_garbage(self, older_than_ms: int) -> dict[str, int]: ...
