"""Runs, their params and tags in the SQL store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

import orjson
from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mlcycle.entities import LifecycleStage, Run, RunStatus
from mlcycle.errors import ConflictError, InvalidInputError, NotFoundError
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema import (
    PARAMS,
    RUNS,
    TAGS,
    ArtifactRow,
    ExperimentRow,
    LatestMetricRow,
    MetricChunkRow,
    ParamRow,
    RunRow,
    TagRow,
)
from mlcycle.store.sql.summary import EMPTY, Summary, change, encode

_STATUS = {s.value: s for s in RunStatus}
_STAGE = {s.value: s for s in LifecycleStage}
_CHUNK = 500  # IDs per IN (...) list


def not_found(run_id: str) -> NotFoundError:
    return NotFoundError(f"no run with ID {run_id!r}", field="run_id")


#: The runs columns :func:`runs_from_tuples` reads, in its order.
RUN_COLUMNS = (
    RUNS.c.id,
    RUNS.c.experiment_id,
    RUNS.c.name,
    RUNS.c.status,
    RUNS.c.start_time,
    RUNS.c.end_time,
    RUNS.c.parent_id,
    RUNS.c.description,
    RUNS.c.error,
    RUNS.c.lifecycle_stage,
    RUNS.c.deleted_at,
    RUNS.c.summary,
)
_RUN_FIELDS = tuple(f.name for f in fields(Run))
_new = object.__new__
_set = object.__setattr__


def load_runs(rows: Sequence[Row[Any]]) -> list[Run]:
    """Build Run entities from ``rows`` of the runs table (their ``summary`` column holds
    params, latest metrics and tags, so no other table is read)."""
    return runs_from_tuples(tuple(getattr(r, c.name) for c in RUN_COLUMNS) for r in rows)


def runs_from_tuples(rows: Iterable[Sequence[Any]]) -> list[Run]:
    """Build Run entities from tuples that start with the :data:`RUN_COLUMNS` values.

    A page of search results is thousands of runs, so this skips the frozen dataclass's
    ``__init__`` (one guarded ``setattr`` per field) and fills each instance's
    ``__dict__`` in one step; the result compares equal to ``Run(...)`` with the same
    values (a test checks it, and that the fields below are all of Run's).
    """
    loads = orjson.loads
    status_of = _STATUS
    stage_of = _STAGE
    runs: list[Run] = []
    append = runs.append
    for row in rows:
        raw = row[11]
        if raw and raw != EMPTY:
            data = loads(raw)
            params = data.get("p", {})
            metrics = data.get("m", {})
            special = data.get("x")
            if special:
                metrics.update({k: float(v) for k, v in special.items()})
            tags = data.get("t", {})
        else:
            params, metrics, tags = {}, {}, {}
        run = _new(Run)
        _set(
            run,
            "__dict__",
            {
                "id": row[0],
                "experiment_id": row[1],
                "name": row[2],
                "status": status_of[row[3]],
                "start_time": row[4],
                "end_time": row[5],
                "parent_id": row[6],
                "description": row[7],
                "error": row[8],
                "lifecycle_stage": stage_of[row[9]],
                "deleted_at": row[10],
                "params": params,
                "metrics": metrics,
                "tags": tags,
            },
        )
        append(run)
    return runs


if _RUN_FIELDS != (
    "id",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "parent_id",
    "description",
    "error",
    "lifecycle_stage",
    "deleted_at",
    "params",
    "metrics",
    "tags",
):  # pragma: no cover - a guard for whoever adds a field to Run
    raise ImportError("Run's fields changed: update runs_from_tuples in store/sql/runs.py")


def lock_run(conn: Connection, run_id: str) -> str | None:
    """The run's status, locking its row on PostgreSQL (None when there is no such run).

    Every write to a run's children takes this lock first: the summary update needs it at
    the end anyway, and taking it after the children's foreign-key share locks would let two
    writers of one run deadlock, each waiting to upgrade its share lock.
    """
    found = _lock(conn, run_id)
    return None if found is None else found[0]


def _lock(conn: Connection, run_id: str) -> tuple[str, str] | None:
    query = select(RunRow.status, RunRow.lifecycle_stage).where(RunRow.id == run_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else (row[0], row[1])


def require_writable(conn: Connection, run_id: str, *, allow_ended: bool = False) -> None:
    """Raise unless the run exists, is not deleted and, unless ``allow_ended``, is not over
    (params and metrics of a finished run are then frozen)."""
    found = _lock(conn, run_id)
    if found is None:
        raise not_found(run_id)
    status, stage = found
    if stage == LifecycleStage.DELETED.value:
        raise InvalidInputError(
            f"The run {run_id} must be in the 'active' state. Current state is deleted.",
            field="run_id",
        )
    if not allow_ended and RunStatus(status).is_terminal:
        raise InvalidInputError(
            f"run {run_id} is {status}: params and metrics cannot be logged to a finished run",
            field="run_id",
        )


class SqlRuns:
    """Runs: create, read, status changes, params (immutable), tags, delete and restore."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, run: Run) -> Run:
        try:
            with self._db.write() as conn:
                if (
                    conn.scalar(
                        select(ExperimentRow.lifecycle_stage).where(
                            ExperimentRow.id == run.experiment_id
                        )
                    )
                    != LifecycleStage.ACTIVE.value
                ):
                    raise NotFoundError(
                        f"no active experiment with ID {run.experiment_id!r}",
                        field="experiment_id",
                    )
                if run.parent_id is not None and (
                    conn.scalar(select(RunRow.id).where(RunRow.id == run.parent_id)) is None
                ):
                    raise NotFoundError(f"no parent run with ID {run.parent_id!r}", field="parent")
                conn.execute(
                    insert(RUNS).values(
                        id=run.id,
                        experiment_id=run.experiment_id,
                        name=run.name,
                        status=run.status.value,
                        start_time=run.start_time,
                        end_time=run.end_time,
                        parent_id=run.parent_id,
                        description=run.description,
                        error=run.error,
                        lifecycle_stage=run.lifecycle_stage.value,
                        deleted_at=run.deleted_at,
                        summary=encode(Summary(params=dict(run.params), tags=dict(run.tags))),
                    )
                )
                if run.tags:
                    conn.execute(
                        insert(TAGS),
                        [{"run_id": run.id, "key": k, "value": v} for k, v in run.tags.items()],
                    )
        except IntegrityError as exc:
            raise ConflictError(f"a run with ID {run.id!r} exists already", field="run_id") from exc
        return run

    def get(self, run_id: str) -> Run:
        with self._db.read() as conn:
            rows = list(conn.execute(select(RUNS).where(RUNS.c.id == run_id)))
        if not rows:
            raise not_found(run_id)
        return load_runs(rows)[0]

    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        error: str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        values: dict[str, object] = {}
        if status is not None:
            values["status"] = status.value
            values["end_time"] = end_time
        if error is not None:
            values["error"] = error
        if name is not None:
            values["name"] = name
        if description is not None:
            values["description"] = description
        if not values:
            return
        with self._db.write() as conn:
            if conn.execute(update(RUNS).where(RunRow.id == run_id).values(values)).rowcount == 0:
                raise not_found(run_id)

    def log_params(
        self, run_id: str, params: Mapping[str, str], *, allow_ended: bool = False
    ) -> None:
        """Store params; a key logged before with another value raises ConflictError.
        A finished run takes none unless ``allow_ended``; a deleted run never."""
        with self._db.write() as conn:
            require_writable(conn, run_id, allow_ended=allow_ended)
            rows = conn.execute(
                select(ParamRow.key, ParamRow.value).where(
                    ParamRow.run_id == run_id, ParamRow.key.in_(list(params))
                )
            )
            existing: dict[str, str] = {key: value for key, value in rows}  # noqa: C416
            for key, value in params.items():
                old = existing.get(key)
                if old is not None and old != value:
                    raise ConflictError(
                        f"param {key!r} of run {run_id} was logged as {old!r} and cannot change "
                        f"to {value!r}: params are immutable",
                        field=f"params.{key}",
                    )
            new = [
                {"run_id": run_id, "key": k, "value": v}
                for k, v in params.items()
                if k not in existing
            ]
            if new:
                conn.execute(insert(PARAMS), new)
                change(conn, run_id, params={r["key"]: r["value"] for r in new})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        with self._db.write() as conn:
            require_writable(conn, run_id, allow_ended=True)  # not on a deleted run
            conn.execute(delete(TagRow).where(TagRow.run_id == run_id, TagRow.key.in_(list(tags))))
            conn.execute(
                insert(TAGS),
                [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()],
            )
            change(conn, run_id, tags=tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._db.write() as conn:
            require_writable(conn, run_id, allow_ended=True)  # not on a deleted run
            result = conn.execute(delete(TagRow).where(TagRow.run_id == run_id, TagRow.key == key))
            if result.rowcount == 0:
                raise NotFoundError(f"run {run_id} has no tag {key!r}", field="key")
            change(conn, run_id, drop_tags=[key])

    def set_stage(self, run_ids: Sequence[str], stage: LifecycleStage, at: int | None) -> None:
        """Soft-delete (``at`` = deletion time) or restore (``at`` = None) runs."""
        with self._db.write() as conn:
            found = set(conn.scalars(select(RunRow.id).where(RunRow.id.in_(list(run_ids)))))
            missing = [r for r in run_ids if r not in found]
            if missing:
                raise not_found(missing[0])
            conn.execute(
                update(RUNS)
                .where(RunRow.id.in_(list(run_ids)))
                .values(lifecycle_stage=stage.value, deleted_at=at)
            )

    def ids(
        self,
        *,
        experiment_ids: Sequence[str] | None = None,
        parent_id: str | None = None,
        deleted_before: int | None = None,
    ) -> list[str]:
        """Run IDs by experiment, by parent, or deleted before a time (for gc)."""
        query = select(RunRow.id)
        if experiment_ids is not None:
            query = query.where(RunRow.experiment_id.in_(list(experiment_ids)))
        if parent_id is not None:
            query = query.where(RunRow.parent_id == parent_id)
        if deleted_before is not None:
            query = query.where(
                RunRow.lifecycle_stage == LifecycleStage.DELETED.value,
                RunRow.deleted_at < deleted_before,
            )
        with self._db.read() as conn:
            return list(conn.scalars(query))

    def purge(self, run_ids: Sequence[str]) -> None:
        """Remove runs and everything they logged, for good."""
        with self._db.write() as conn:
            for start in range(0, len(run_ids), _CHUNK):
                part = list(run_ids[start : start + _CHUNK])
                for table in (ParamRow, TagRow, LatestMetricRow, MetricChunkRow, ArtifactRow):
                    conn.execute(delete(table).where(table.run_id.in_(part)))
                conn.execute(update(RUNS).where(RunRow.parent_id.in_(part)).values(parent_id=None))
                conn.execute(delete(RunRow).where(RunRow.id.in_(part)))
