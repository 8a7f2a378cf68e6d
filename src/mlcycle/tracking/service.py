"""The tracking service: experiments, runs, metrics and artifacts over the ports.

It owns the rules (names, keys, immutable params, terminal statuses), the clock and the ID
factory; the store only persists. The Python client uses it in-process; the HTTP server
puts it behind the REST API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, TypeVar

from mlcycle.clock import system_clock
from mlcycle.entities import (
    ArtifactInfo,
    Direction,
    Experiment,
    LifecycleStage,
    MetricBatch,
    MetricHistory,
    Problem,
    Run,
    RunPage,
    RunStatus,
    Task,
)
from mlcycle.errors import ArtifactNotFoundError, InvalidInputError, NotFoundError
from mlcycle.ids import new_id
from mlcycle.ports.artifacts import ArtifactStore
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.store import TrackingStore
from mlcycle.search import Filter, OrderBy, parse_filter, parse_order_by
from mlcycle.tracking.downsample import downsample
from mlcycle.tracking.lookup import experiment_by_name_or_id
from mlcycle.tracking.names import readable_name
from mlcycle.tracking.validation import check_key, check_name, param_text, tag_text
from mlcycle.types import Clock, IdFactory

DEFAULT_EXPERIMENT = "Default"
_MAX_HISTORY_POINTS = 10_000_000


_E = TypeVar("_E", Task, Direction)


def _enum(kind: type[_E], value: object, field: str) -> _E:
    try:
        return kind(str(value))
    except ValueError as exc:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInputError(
            f"{field} must be one of {allowed}, got {value!r}", field=field
        ) from exc


def make_problem(
    *,
    task: Task | str = Task.OTHER,
    target: str | None = None,
    primary_metric: str | None = None,
    direction: Direction | str = Direction.MAXIMIZE,
    threshold: float | None = None,
) -> Problem:
    """Build a checked :class:`Problem` (a threshold needs a primary metric)."""
    if primary_metric is not None:
        check_key(primary_metric, field="primary_metric")
    if threshold is not None:
        if primary_metric is None:
            raise InvalidInputError(
                "a success threshold needs a primary_metric to apply to", field="threshold"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidInputError("threshold must be a number", field="threshold")
    return Problem(
        task=_enum(Task, task, "task"),
        target=target,
        primary_metric=primary_metric,
        direction=_enum(Direction, direction, "direction"),
        threshold=None if threshold is None else float(threshold),
    )


def _artifact_key(run_id: str, path: str) -> str:
    return f"runs/{run_id}/{path}"


class TrackingService:
    """Experiment tracking over a metadata store and an artifact store."""

    def __init__(
        self,
        store: TrackingStore,
        artifacts: ArtifactStore,
        *,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
        audit: AuditSink | None = None,
    ) -> None:
        self.store = store
        self.artifact_store = artifacts
        self.clock = clock
        self.new_id = new_id
        self.audit = audit

    def _record(
        self,
        action: str,
        target: str,
        before: Mapping[str, object] | None = None,
        after: Mapping[str, object] | None = None,
    ) -> None:
        """One audit event per state change (experiments, run status, deletions)."""
        if self.audit is not None:
            self.audit.record(action, target, before=before, after=after)

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        *,
        problem: Problem | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Experiment:
        check_name(name, field="name")
        clean_tags = {
            check_key(k, field="tag key"): tag_text(k, v) for k, v in (tags or {}).items()
        }
        now = self.clock()
        created = self.store.experiments.create(
            Experiment(
                id=self.new_id(),
                name=name,
                problem=problem or Problem(),
                description=description,
                tags=clean_tags,
                created_at=now,
                updated_at=now,
            )
        )
        self._record("experiment.create", f"experiment:{created.id}", None, {"name": created.name})
        return created

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.experiments.get(experiment_id)

    def find_experiment(self, name: str) -> Experiment | None:
        return self.store.experiments.get_by_name(name)

    def experiment_id(self, name_or_id: str) -> str:
        """The ID of the experiment called ``name_or_id``, else of the one with that ID.
        Raises NotFoundError naming it (one query when it is a name)."""
        found = self.store.experiments.id_by_name(name_or_id)
        if found is not None:
            return found
        return experiment_by_name_or_id(self, name_or_id).id

    def get_experiment_by_name(self, name: str) -> Experiment:
        found = self.store.experiments.get_by_name(name)
        if found is None:
            raise NotFoundError(f"no experiment named {name!r}", field="name")
        return found

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The active experiment called ``name``, created with no problem when missing."""
        found = self.store.experiments.get_by_name(name)
        if found is None:
            try:
                return self.create_experiment(name)
            except Exception:
                found = self.store.experiments.get_by_name(name)  # created concurrently
                if found is None:
                    raise
        if found.lifecycle_stage is LifecycleStage.DELETED:
            raise InvalidInputError(
                f"experiment {name!r} is deleted; restore it before starting runs in it",
                field="experiment",
            )
        return found

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        stages = (
            (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
            if include_deleted
            else (LifecycleStage.ACTIVE,)
        )
        return self.store.experiments.list(stages)

    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        problem: Problem | None = None,
    ) -> Experiment:
        if name is not None:
            check_name(name, field="name")
        before = self.store.experiments.get(experiment_id) if self.audit is not None else None
        updated = self.store.experiments.update(
            experiment_id,
            updated_at=self.clock(),
            name=name,
            description=description,
            problem=problem,
        )
        if before is not None:
            self._record(
                "experiment.update",
                f"experiment:{experiment_id}",
                {"name": before.name, "description": before.description},
                {"name": updated.name, "description": updated.description},
            )
        return updated

    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None:
        clean = {check_key(k, field="tag key"): tag_text(k, v) for k, v in tags.items()}
        if clean:
            self.store.experiments.set_tags(experiment_id, clean)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove one tag of an experiment (NotFoundError when it has no such tag)."""
        self.store.experiments.delete_tag(experiment_id, key)

    def delete_experiment(self, experiment_id: str) -> Experiment:
        """Soft-delete an experiment (its runs go with it at ``gc``); restore undoes it."""
        now = self.clock()
        deleted = self.store.experiments.update(
            experiment_id, updated_at=now, lifecycle_stage=LifecycleStage.DELETED, deleted_at=now
        )
        self._record(
            "experiment.delete",
            f"experiment:{experiment_id}",
            {"name": deleted.name, "lifecycle_stage": LifecycleStage.ACTIVE.value},
            {"name": deleted.name, "lifecycle_stage": deleted.lifecycle_stage.value},
        )
        return deleted

    def restore_experiment(self, experiment_id: str) -> Experiment:
        restored = self.store.experiments.update(
            experiment_id, updated_at=self.clock(), lifecycle_stage=LifecycleStage.ACTIVE
        )
        self._record(
            "experiment.restore",
            f"experiment:{experiment_id}",
            {"name": restored.name, "lifecycle_stage": LifecycleStage.DELETED.value},
            {"name": restored.name, "lifecycle_stage": restored.lifecycle_stage.value},
        )
        return restored

    # -- runs --------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_id: str | None = None,
        description: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        run_name = check_name(name, field="name") if name is not None else readable_name()
        clean = {check_key(k, field="tag key"): tag_text(k, v) for k, v in (tags or {}).items()}
        return self.store.runs.create(
            Run(
                id=self.new_id(),
                experiment_id=experiment_id,
                name=run_name,
                status=RunStatus.RUNNING,
                start_time=self.clock() if start_time is None else start_time,
                parent_id=parent_id,
                description=description,
                tags=clean,
            )
        )

    def get_run(self, run_id: str) -> Run:
        return self.store.runs.get(run_id)

    def end_run(
        self, run_id: str, status: RunStatus = RunStatus.FINISHED, *, error: str | None = None
    ) -> None:
        """Mark a run finished, failed or killed; its metric chunks are compacted first."""
        status = RunStatus(status)
        if not status.is_terminal:
            raise InvalidInputError(
                f"a run ends as FINISHED, FAILED or KILLED, not {status.value}", field="status"
            )
        self.store.metrics.compact(run_id)
        self.store.runs.update(run_id, status=status, end_time=self.clock(), error=error)
        self._record(
            "run.status",
            f"run:{run_id}",
            {"status": RunStatus.RUNNING.value},
            {"status": status.value, "error": error},
        )

    def update_run(
        self, run_id: str, *, name: str | None = None, description: str | None = None
    ) -> None:
        if name is not None:
            check_name(name, field="name")
        self.store.runs.update(run_id, name=name, description=description)

    def log_params(
        self, run_id: str, params: Mapping[str, object], *, allow_ended: bool = False
    ) -> None:
        """Log params; a finished run takes them only with ``allow_ended`` (see
        docs/tracking.md, "Finished runs"), a deleted run never."""
        clean = {check_key(k, field="param key"): param_text(k, v) for k, v in params.items()}
        if clean:
            self.store.runs.log_params(run_id, clean, allow_ended=allow_ended)

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        clean = {check_key(k, field="tag key"): tag_text(k, v) for k, v in tags.items()}
        if clean:
            self.store.runs.set_tags(run_id, clean)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.runs.delete_tag(run_id, key)

    def transaction(self) -> AbstractContextManager[None]:
        """Make the writes of a block one transaction: all of them are stored, or none.

        >>> with service.transaction():  # doctest: +SKIP
        ...     service.log_params(run_id, {"lr": 0.1})
        ...     service.set_tags(run_id, {"team": "a"})
        """
        return self.store.transaction()

    def log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        metrics: Sequence[MetricBatch] = (),
    ) -> None:
        """Log params, tags and metric batches all or nothing: every item is checked first,
        then all are written in one transaction (a refused item leaves nothing behind)."""
        clean_params = {
            check_key(k, field="param key"): param_text(k, v) for k, v in (params or {}).items()
        }
        clean_tags = {
            check_key(k, field="tag key"): tag_text(k, v) for k, v in (tags or {}).items()
        }
        for batch in metrics:
            check_key(batch.key, field="metric key")
        with self.store.transaction():
            if clean_params:
                self.store.runs.log_params(run_id, clean_params)
            if clean_tags:
                self.store.runs.set_tags(run_id, clean_tags)
            if metrics:
                self.store.metrics.write(run_id, metrics)
            if not (clean_params or clean_tags or metrics):
                self.store.runs.get(run_id)  # an unknown run is still an error

    def log_metrics(
        self,
        run_id: str,
        batches: Sequence[MetricBatch],
        *,
        batch_id: str | None = None,
        allow_ended: bool = False,
    ) -> None:
        """Write metric batches in one transaction (see :meth:`ingest_metrics`)."""
        self.ingest_metrics(run_id, batches, batch_id=batch_id, allow_ended=allow_ended)

    def ingest_metrics(
        self,
        run_id: str,
        batches: Sequence[MetricBatch],
        *,
        batch_id: str | None = None,
        allow_ended: bool = False,
    ) -> bool:
        """Write metric batches in one transaction; False when ``batch_id`` was stored before.

        A client that retries a batch sends the same ``batch_id``, so a batch whose first
        attempt was stored (but whose answer was lost) is not stored twice.
        """
        for batch in batches:
            check_key(batch.key, field="metric key")
        return self.store.metrics.write(run_id, batches, batch_id, allow_ended=allow_ended)

    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory:
        if max_points is not None and max_points < 2:
            raise InvalidInputError("max_points must be at least 2", field="max_points")
        history = self.store.metrics.history(run_id, key)
        return downsample(history, max_points) if max_points else history

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Filter | str | None = None,
        order_by: Sequence[OrderBy] | Sequence[str] | str | None = None,
        *,
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage:
        typed_filter = parse_filter(filter) if isinstance(filter, str) or filter is None else filter
        orders: Sequence[OrderBy]
        if order_by is None or isinstance(order_by, str):
            orders = parse_order_by(order_by)
        else:
            orders = [
                o
                for item in order_by
                for o in ((item,) if isinstance(item, OrderBy) else parse_order_by(item))
            ]
        stages = (
            (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
            if include_deleted
            else (LifecycleStage.ACTIVE,)
        )
        return self.store.search_runs(
            experiment_ids, typed_filter, orders, max_results, page_token, stages
        )

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
        """:meth:`search_runs` of experiments given by name or ID (names first, as
        ``Client.get_experiment`` looks them up); returns their IDs with the page. Through
        a server this is one request, where looking the names up first would be one more
        per experiment."""
        experiment_ids = [self.experiment_id(item) for item in experiments]
        page = self.search_runs(
            experiment_ids,
            filter,
            order_by,
            max_results=max_results,
            page_token=page_token,
            include_deleted=include_deleted,
        )
        return experiment_ids, page

    def delete_runs(self, run_ids: Sequence[str]) -> None:
        self.store.runs.set_stage(run_ids, LifecycleStage.DELETED, self.clock())
        for run_id in run_ids:
            self._record("run.delete", f"run:{run_id}", None, {"lifecycle_stage": "deleted"})

    def restore_runs(self, run_ids: Sequence[str]) -> None:
        self.store.runs.set_stage(run_ids, LifecycleStage.ACTIVE, None)
        for run_id in run_ids:
            self._record("run.restore", f"run:{run_id}", None, {"lifecycle_stage": "active"})

    def child_run_ids(self, run_id: str) -> list[str]:
        return self.store.runs.ids(parent_id=run_id)

    # -- artifacts ---------------------------------------------------------------------

    def log_artifact_file(
        self, run_id: str, local_path: str | Path, artifact_path: str
    ) -> ArtifactInfo:
        """Store one local file as ``artifact_path`` of the run."""
        self.store.runs.get(run_id)  # the run must exist before bytes are stored
        size, sha = self.artifact_store.put_file(_artifact_key(run_id, artifact_path), local_path)
        info = ArtifactInfo(path=artifact_path, is_dir=False, size=size, sha256=sha)
        self.store.artifacts.record(run_id, [info], self.clock())
        return info

    def log_artifact_stream(
        self, run_id: str, artifact_path: str, source: BinaryIO
    ) -> ArtifactInfo:
        self.store.runs.get(run_id)
        size, sha = self.artifact_store.put_stream(_artifact_key(run_id, artifact_path), source)
        info = ArtifactInfo(path=artifact_path, is_dir=False, size=size, sha256=sha)
        self.store.artifacts.record(run_id, [info], self.clock())
        return info

    def log_artifact_bytes(self, run_id: str, artifact_path: str, data: bytes) -> ArtifactInfo:
        self.store.runs.get(run_id)
        size, sha = self.artifact_store.put_bytes(_artifact_key(run_id, artifact_path), data)
        info = ArtifactInfo(path=artifact_path, is_dir=False, size=size, sha256=sha)
        self.store.artifacts.record(run_id, [info], self.clock())
        return info

    def artifact_url(
        self, run_id: str, path: str, *, method: str = "GET", expires_s: int = 900
    ) -> str | None:
        """A presigned URL to GET (or PUT) the run's artifact ``path`` straight from (to)
        object storage, valid ``expires_s`` seconds; None when the artifact store cannot
        sign URLs (a local folder): then files go through the server."""
        self.store.runs.get(run_id)
        sign = getattr(self.artifact_store, "presigned_url", None)
        if sign is None:
            return None
        url: str = sign(_artifact_key(run_id, path), method=method, expires_s=expires_s)
        return url

    def commit_artifact(self, run_id: str, path: str, sha256: str) -> ArtifactInfo:
        """Record a file a client put straight into object storage (see
        :meth:`artifact_url`) once its bytes hash to ``sha256``; a file that does not is
        removed and refused (InvalidInputError), so no record points at wrong bytes."""
        self.store.runs.get(run_id)
        key = _artifact_key(run_id, path)
        try:
            handle = self.artifact_store.open(key)
        except ArtifactNotFoundError as exc:
            raise InvalidInputError(
                f"nothing was uploaded to {path!r} of run {run_id}", field="path"
            ) from exc
        digest = hashlib.sha256()
        size = 0
        with handle:
            while block := handle.read(1 << 20):
                digest.update(block)
                size += len(block)
        if digest.hexdigest() != sha256.lower():
            self.artifact_store.delete(key)
            raise InvalidInputError(
                f"the uploaded {path!r} has sha256 {digest.hexdigest()}, not {sha256}: it was "
                "corrupted on the way and was removed",
                field="sha256",
            )
        info = ArtifactInfo(path=path, is_dir=False, size=size, sha256=digest.hexdigest())
        self.store.artifacts.record(run_id, [info], self.clock())
        return info

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """Files under ``path`` (every file when None), with size and sha256."""
        files = self.store.artifacts.list(run_id)
        if path:
            prefix = path.strip("/") + "/"
            files = [f for f in files if f.path.startswith(prefix) or f.path == path.strip("/")]
        return files

    def open_artifact(self, run_id: str, path: str) -> BinaryIO:
        return self.artifact_store.open(_artifact_key(run_id, path))

    def download_artifact(self, run_id: str, path: str, dest: str | Path) -> Path:
        return self.artifact_store.download(_artifact_key(run_id, path), dest)

    def local_artifact_path(self, run_id: str, path: str) -> Path | None:
        """Where the run's artifact (file or folder) ``path`` is on this machine, when the
        artifact store keeps files locally (read in place, no copy); else None."""
        return self.artifact_store.local_path(_artifact_key(run_id, path))

    # -- garbage collection ------------------------------------------------------------

    def collect_garbage(self, older_than_ms: int) -> dict[str, int]:
        """Remove runs and experiments deleted more than ``older_than_ms`` ago, for good,
        with their artifacts. Returns how many of each were removed."""
        cutoff = self.clock() - older_than_ms
        experiment_ids = self.store.experiments.deleted_before(cutoff)
        run_ids = set(self.store.runs.ids(deleted_before=cutoff))
        if experiment_ids:
            run_ids.update(self.store.runs.ids(experiment_ids=experiment_ids))
        ordered = sorted(run_ids)
        for run_id in ordered:
            self.artifact_store.delete_prefix(f"runs/{run_id}")
        self.store.runs.purge(ordered)
        self.store.experiments.purge(experiment_ids)
        if ordered or experiment_ids:
            self._record(
                "gc.purge",
                "store",
                None,
                {"runs": ordered, "experiments": list(experiment_ids)},
            )
        return {"runs": len(ordered), "experiments": len(experiment_ids)}
