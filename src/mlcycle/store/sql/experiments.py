"""Experiments in the SQL store."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mlcycle.entities import Direction, Experiment, LifecycleStage, Problem, Task
from mlcycle.errors import AlreadyExistsError, NotFoundError
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema import EXPERIMENT_TAGS, EXPERIMENTS, ExperimentRow, ExperimentTagRow


def _to_entity(row: Row[Any], tags: Mapping[str, str]) -> Experiment:
    return Experiment(
        id=row.id,
        name=row.name,
        problem=Problem(
            task=Task(row.task),
            target=row.target,
            primary_metric=row.primary_metric,
            direction=Direction(row.direction),
            threshold=row.threshold,
        ),
        description=row.description,
        tags=dict(tags),
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


class SqlExperiments:
    """Create, read, rename, tag, soft-delete and restore experiments."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, experiment: Experiment) -> Experiment:
        p = experiment.problem
        try:
            with self._db.write() as conn:
                conn.execute(
                    insert(EXPERIMENTS).values(
                        id=experiment.id,
                        name=experiment.name,
                        task=p.task.value,
                        target=p.target,
                        primary_metric=p.primary_metric,
                        direction=p.direction.value,
                        threshold=p.threshold,
                        description=experiment.description,
                        lifecycle_stage=experiment.lifecycle_stage.value,
                        created_at=experiment.created_at,
                        updated_at=experiment.updated_at,
                        deleted_at=experiment.deleted_at,
                    )
                )
                self._write_tags(conn, experiment.id, experiment.tags)
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"an experiment named {experiment.name!r} exists already", field="name"
            ) from exc
        return experiment

    def get(self, experiment_id: str) -> Experiment:
        with self._db.read() as conn:
            found = self._load(conn, [ExperimentRow.id == experiment_id])
        if not found:
            raise NotFoundError(f"no experiment with ID {experiment_id!r}", field="experiment_id")
        return found[0]

    def id_by_name(self, name: str) -> str | None:
        """The ID of the experiment ``get_by_name`` would return, in one query."""
        table = EXPERIMENTS
        query = select(table.c.id).where(table.c.name == name).order_by(table.c.created_at)
        with self._db.read() as conn:
            found: str | None = conn.execute(query.limit(1)).scalar()
        return found

    def get_by_name(self, name: str) -> Experiment | None:
        with self._db.read() as conn:
            found = self._load(conn, [ExperimentRow.name == name])
        return found[0] if found else None

    def list(
        self, stages: Sequence[LifecycleStage] = (LifecycleStage.ACTIVE,)
    ) -> builtins.list[Experiment]:
        with self._db.read() as conn:
            return self._load(conn, [ExperimentRow.lifecycle_stage.in_([s.value for s in stages])])

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
    ) -> Experiment:
        values: dict[str, object] = {"updated_at": updated_at}
        if name is not None:
            values["name"] = name
        if description is not None:
            values["description"] = description
        if problem is not None:
            values.update(
                task=problem.task.value,
                target=problem.target,
                primary_metric=problem.primary_metric,
                direction=problem.direction.value,
                threshold=problem.threshold,
            )
        if lifecycle_stage is not None:
            values["lifecycle_stage"] = lifecycle_stage.value
            values["deleted_at"] = deleted_at
        try:
            with self._db.write() as conn:
                result = conn.execute(
                    update(EXPERIMENTS).where(ExperimentRow.id == experiment_id).values(values)
                )
                if result.rowcount == 0:
                    raise NotFoundError(
                        f"no experiment with ID {experiment_id!r}", field="experiment_id"
                    )
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"an experiment named {name!r} exists already", field="name"
            ) from exc
        return self.get(experiment_id)

    def set_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None:
        with self._db.write() as conn:
            if (
                conn.scalar(select(ExperimentRow.id).where(ExperimentRow.id == experiment_id))
                is None
            ):
                raise NotFoundError(
                    f"no experiment with ID {experiment_id!r}", field="experiment_id"
                )
            conn.execute(
                delete(ExperimentTagRow).where(
                    ExperimentTagRow.experiment_id == experiment_id,
                    ExperimentTagRow.key.in_(list(tags)),
                )
            )
            self._write_tags(conn, experiment_id, tags)

    def delete_tag(self, experiment_id: str, key: str) -> None:
        with self._db.write() as conn:
            if (
                conn.scalar(select(ExperimentRow.id).where(ExperimentRow.id == experiment_id))
                is None
            ):
                raise NotFoundError(
                    f"no experiment with ID {experiment_id!r}", field="experiment_id"
                )
            gone = conn.execute(
                delete(ExperimentTagRow).where(
                    ExperimentTagRow.experiment_id == experiment_id, ExperimentTagRow.key == key
                )
            ).rowcount
            if not gone:
                raise NotFoundError(f"experiment {experiment_id} has no tag {key!r}", field="key")

    def deleted_before(self, cutoff: int) -> builtins.list[str]:
        """IDs of experiments deleted before ``cutoff`` (ms), for garbage collection."""
        with self._db.read() as conn:
            rows = conn.execute(
                select(ExperimentRow.id).where(
                    ExperimentRow.lifecycle_stage == LifecycleStage.DELETED.value,
                    ExperimentRow.deleted_at < cutoff,
                )
            )
            return [r[0] for r in rows]

    def purge(self, experiment_ids: Sequence[str]) -> None:
        """Remove experiments for good (their runs must be purged first)."""
        if not experiment_ids:
            return
        with self._db.write() as conn:
            conn.execute(
                delete(ExperimentTagRow).where(ExperimentTagRow.experiment_id.in_(experiment_ids))
            )
            conn.execute(delete(ExperimentRow).where(ExperimentRow.id.in_(experiment_ids)))

    @staticmethod
    def _write_tags(conn: Connection, experiment_id: str, tags: Mapping[str, str]) -> None:
        if tags:
            conn.execute(
                insert(EXPERIMENT_TAGS),
                [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in tags.items()],
            )

    @staticmethod
    def _load(
        conn: Connection, where: builtins.list[ColumnElement[bool]]
    ) -> builtins.list[Experiment]:
        table = EXPERIMENTS
        rows = list(conn.execute(select(table).where(*where).order_by(table.c.created_at)))
        if not rows:
            return []
        tags: dict[str, dict[str, str]] = {r.id: {} for r in rows}
        for exp_id, key, value in conn.execute(
            select(
                ExperimentTagRow.experiment_id, ExperimentTagRow.key, ExperimentTagRow.value
            ).where(ExperimentTagRow.experiment_id.in_(list(tags)))
        ):
            tags[exp_id][key] = value
        return [_to_entity(r, tags[r.id]) for r in rows]
