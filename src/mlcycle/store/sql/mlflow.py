"""What the MLflow-compatible API keeps beyond mlcycle's own tables.

Experiments, runs, params, metrics, tags, run artifacts and the model registry of MLflow
clients live in mlcycle's tables (one data model). This module holds the rest: MLflow 3
logged models, the models and datasets a run used or produced, MLflow's fields of a model
version (source URI, stage...), and files uploaded through the artifact proxy outside any
run. It also reads a few details MLflow's wire format needs (the step and time of each
latest metric value) in one query per page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mlcycle.entities import ArtifactInfo, LatestMetric, LifecycleStage
from mlcycle.errors import AlreadyExistsError, NotFoundError
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.runs import not_found
from mlcycle.store.sql.schema import (
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    ArtifactRow,
    LatestMetricRow,
    RunRow,
)
from mlcycle.store.sql.schema_mlflow import (
    MLFLOW_ARTIFACTS,
    MLFLOW_EXPERIMENTS,
    MLFLOW_LOGGED_MODELS,
    MLFLOW_MODEL_VERSIONS,
    MLFLOW_RUN_DATASETS,
    MLFLOW_RUN_MODELS,
)

L = MLFLOW_LOGGED_MODELS.c
RM = MLFLOW_RUN_MODELS.c
D = MLFLOW_RUN_DATASETS.c
X = MLFLOW_MODEL_VERSIONS.c
F = MLFLOW_ARTIFACTS.c
E = MLFLOW_EXPERIMENTS.c
_CHUNK = 500  # IDs per IN (...) list


@dataclass(frozen=True, kw_only=True)
class LoggedModel:
    """An MLflow logged model. ``artifact_path`` is relative to the source run's artifacts
    (or, with no source run, to the MLflow artifact area); ``metrics`` are MLflow metric
    dicts (key, value, timestamp, step, run_id, dataset_name, dataset_digest)."""

    id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    artifact_path: str
    status: str
    status_message: str | None = None
    model_type: str | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    created_at: int = 0
    updated_at: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Sequence[Mapping[str, Any]] = ()
    #: false when ``source_run_id`` names no run of this server (MLflow takes any string)
    files_in_run: bool = True

    @property
    def files_run_id(self) -> str | None:
        """The run whose artifacts hold the model's files; None: the MLflow area does."""
        return self.source_run_id if self.files_in_run else None


@dataclass(frozen=True, kw_only=True)
class RunDataset:
    """A dataset reference an MLflow client logged as a run input."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class VersionExtras:
    """MLflow's fields of a model version that mlcycle's ModelVersion does not have."""

    source: str
    model_id: str | None = None
    run_link: str | None = None
    user_id: str | None = None
    stage: str = "None"


@dataclass(frozen=True, kw_only=True)
class RunModels:
    """Logged models a run used (inputs) and produced (outputs, with their steps)."""

    inputs: list[str] = field(default_factory=list)
    outputs: list[tuple[str, int]] = field(default_factory=list)


def _model(r: Row[Any]) -> LoggedModel:
    return LoggedModel(
        id=r.id,
        experiment_id=r.experiment_id,
        name=r.name,
        source_run_id=r.source_run_id,
        artifact_path=r.artifact_path,
        status=r.status,
        status_message=r.status_message,
        model_type=r.model_type,
        lifecycle_stage=LifecycleStage(r.lifecycle_stage),
        created_at=r.created_at,
        updated_at=r.updated_at,
        tags=orjson.loads(r.tags),
        params=orjson.loads(r.params),
        metrics=orjson.loads(r.metrics),
        files_in_run=bool(r.files_in_run),
    )


def _chunks(items: Sequence[str]) -> list[list[str]]:
    return [list(items[i : i + _CHUNK]) for i in range(0, len(items), _CHUNK)]


class SqlMlflow:
    """The MLflow-only records (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- logged models ----------------------------------------------------------------------

    def create_logged_model(self, model: LoggedModel) -> LoggedModel:
        try:
            with self._db.write() as conn:
                conn.execute(
                    insert(MLFLOW_LOGGED_MODELS).values(
                        id=model.id,
                        experiment_id=model.experiment_id,
                        name=model.name,
                        source_run_id=model.source_run_id,
                        artifact_path=model.artifact_path,
                        status=model.status,
                        status_message=model.status_message,
                        model_type=model.model_type,
                        lifecycle_stage=model.lifecycle_stage.value,
                        created_at=model.created_at,
                        updated_at=model.updated_at,
                        tags=orjson.dumps(dict(model.tags)).decode(),
                        params=orjson.dumps(dict(model.params)).decode(),
                        metrics=orjson.dumps(list(model.metrics)).decode(),
                        files_in_run=model.files_in_run,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"a logged model with ID {model.id!r} exists already", field="model_id"
            ) from exc
        return model

    def get_logged_model(self, model_id: str) -> LoggedModel:
        with self._db.read() as conn:
            row = conn.execute(select(MLFLOW_LOGGED_MODELS).where(L.id == model_id)).first()
        if row is None:
            raise NotFoundError(f"no logged model with ID {model_id!r}", field="model_id")
        return _model(row)

    def logged_models(
        self, experiment_ids: Sequence[str], *, source_run_id: str | None = None
    ) -> list[LoggedModel]:
        """Active logged models of the experiments (or of one source run), newest first."""
        query = select(MLFLOW_LOGGED_MODELS).where(L.lifecycle_stage == LifecycleStage.ACTIVE.value)
        if source_run_id is not None:
            query = query.where(L.source_run_id == source_run_id)
        else:
            query = query.where(L.experiment_id.in_(list(experiment_ids)))
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(L.created_at.desc(), L.id.desc())).all()
        return [_model(r) for r in rows]

    def update_logged_model(
        self,
        model_id: str,
        *,
        updated_at: int,
        status: str | None = None,
        status_message: str | None = None,
        tags: Mapping[str, str] | None = None,
        drop_tag: str | None = None,
        params: Mapping[str, str] | None = None,
        metrics: Sequence[Mapping[str, Any]] = (),
        lifecycle_stage: LifecycleStage | None = None,
    ) -> LoggedModel:
        """Change a logged model: tags and params are merged, metrics appended."""
        with self._db.write() as conn:
            query = select(MLFLOW_LOGGED_MODELS).where(L.id == model_id)
            if self._db.dialect == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            if row is None:
                raise NotFoundError(f"no logged model with ID {model_id!r}", field="model_id")
            current = _model(row)
            values: dict[str, Any] = {"updated_at": updated_at}
            if status is not None:
                values["status"] = status
            if status_message is not None:
                values["status_message"] = status_message
            if lifecycle_stage is not None:
                values["lifecycle_stage"] = lifecycle_stage.value
            if tags or drop_tag is not None:
                merged = {**current.tags, **(tags or {})}
                if drop_tag is not None and merged.pop(drop_tag, None) is None:
                    raise NotFoundError(
                        f"logged model {model_id} has no tag {drop_tag!r}", field="tag_key"
                    )
                values["tags"] = orjson.dumps(merged).decode()
            if params:
                values["params"] = orjson.dumps({**current.params, **params}).decode()
            if metrics:
                values["metrics"] = orjson.dumps([*current.metrics, *metrics]).decode()
            conn.execute(update(MLFLOW_LOGGED_MODELS).where(L.id == model_id).values(values))
        return self.get_logged_model(model_id)

    # -- models and datasets of runs --------------------------------------------------------

    def link_models(
        self, run_id: str, models: Sequence[tuple[str, int]], *, direction: str
    ) -> None:
        """Record logged models a run produced (``direction="output"``) or used."""
        if not models:
            return
        with self._db.write() as conn:
            self._require_run(conn, run_id)
            ids = [m for m, _ in models]
            conn.execute(
                delete(MLFLOW_RUN_MODELS).where(
                    RM.run_id == run_id, RM.direction == direction, RM.model_id.in_(ids)
                )
            )
            conn.execute(
                insert(MLFLOW_RUN_MODELS),
                [
                    {"run_id": run_id, "model_id": m, "direction": direction, "step": step}
                    for m, step in dict(models).items()
                ],
            )

    def run_models(self, run_ids: Sequence[str]) -> dict[str, RunModels]:
        found: dict[str, RunModels] = {}
        with self._db.read() as conn:
            for part in _chunks(run_ids):
                rows = conn.execute(
                    select(RM.run_id, RM.model_id, RM.direction, RM.step)
                    .where(RM.run_id.in_(part))
                    .order_by(RM.run_id, RM.step, RM.model_id)
                )
                for run_id, model_id, direction, step in rows:
                    links = found.setdefault(run_id, RunModels())
                    if direction == "output":
                        links.outputs.append((model_id, step))
                    else:
                        links.inputs.append(model_id)
        return found

    def add_datasets(self, run_id: str, datasets: Sequence[RunDataset], *, at: int) -> None:
        """Record dataset inputs of a run; one logged again (same name and digest) is
        replaced with its new tags."""
        if not datasets:
            return
        unique = {(d.name, d.digest): d for d in datasets}
        with self._db.write() as conn:
            self._require_run(conn, run_id)
            conn.execute(
                delete(MLFLOW_RUN_DATASETS).where(
                    D.run_id == run_id,
                    or_(*(and_(D.name == n, D.digest == g) for n, g in unique)),
                )
            )
            conn.execute(
                insert(MLFLOW_RUN_DATASETS),
                [
                    {
                        "run_id": run_id,
                        "name": d.name,
                        "digest": d.digest,
                        "source_type": d.source_type,
                        "source": d.source,
                        "schema": d.schema,
                        "profile": d.profile,
                        "tags": orjson.dumps(dict(d.tags)).decode(),
                        "created_at": at,
                    }
                    for d in unique.values()
                ],
            )

    def run_datasets(self, run_ids: Sequence[str]) -> dict[str, list[RunDataset]]:
        found: dict[str, list[RunDataset]] = {}
        with self._db.read() as conn:
            for part in _chunks(run_ids):
                rows = conn.execute(
                    select(MLFLOW_RUN_DATASETS)
                    .where(D.run_id.in_(part))
                    .order_by(D.run_id, D.created_at, D.name)
                )
                for r in rows:
                    found.setdefault(r.run_id, []).append(
                        RunDataset(
                            name=r.name,
                            digest=r.digest,
                            source_type=r.source_type,
                            source=r.source,
                            schema=r.schema,
                            profile=r.profile,
                            tags=orjson.loads(r.tags),
                        )
                    )
        return found

    @staticmethod
    def _require_run(conn: Connection, run_id: str) -> None:
        if conn.scalar(select(RunRow.id).where(RunRow.id == run_id)) is None:
            raise not_found(run_id)

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, list[LatestMetric]]:
        """Each run's latest point per metric key, with its step and time."""
        found: dict[str, list[LatestMetric]] = {}
        t = LatestMetricRow
        with self._db.read() as conn:
            for part in _chunks(run_ids):
                rows = conn.execute(
                    select(t.run_id, t.key, t.value, t.is_nan, t.step, t.timestamp).where(
                        t.run_id.in_(part)
                    )
                ).all()  # one fetch: thousands of rows for a page of runs
                for run_id, key, value, is_nan, step, ts in rows:
                    found.setdefault(run_id, []).append(
                        LatestMetric(
                            key=key,
                            value=math.nan if is_nan or value is None else float(value),
                            step=step,
                            timestamp=ts,
                        )
                    )
        return found

    # -- model versions ---------------------------------------------------------------------

    @staticmethod
    def _version_id(conn: Connection, name: str, version: int) -> str:
        found = conn.scalar(
            select(MODEL_VERSIONS.c.id)
            .join(REGISTERED_MODELS, REGISTERED_MODELS.c.id == MODEL_VERSIONS.c.model_id)
            .where(REGISTERED_MODELS.c.name == name, MODEL_VERSIONS.c.version == version)
        )
        if found is None:
            raise NotFoundError(
                f"registered model {name!r} has no version {version}", field="version"
            )
        return str(found)

    def set_version_extras(self, name: str, version: int, extras: VersionExtras) -> None:
        with self._db.write() as conn:
            version_id = self._version_id(conn, name, version)
            conn.execute(delete(MLFLOW_MODEL_VERSIONS).where(X.version_id == version_id))
            conn.execute(
                insert(MLFLOW_MODEL_VERSIONS).values(
                    version_id=version_id,
                    source=extras.source,
                    model_id=extras.model_id,
                    run_link=extras.run_link,
                    user_id=extras.user_id,
                    stage=extras.stage,
                )
            )

    def version_extras(self, name: str) -> dict[int, VersionExtras]:
        """MLflow's fields of each version of ``name`` that has them, by version number."""
        with self._db.read() as conn:
            rows = conn.execute(
                select(MODEL_VERSIONS.c.version, MLFLOW_MODEL_VERSIONS)
                .join(MODEL_VERSIONS, MODEL_VERSIONS.c.id == X.version_id)
                .join(REGISTERED_MODELS, REGISTERED_MODELS.c.id == MODEL_VERSIONS.c.model_id)
                .where(REGISTERED_MODELS.c.name == name)
            )
            return {
                r.version: VersionExtras(
                    source=r.source,
                    model_id=r.model_id,
                    run_link=r.run_link,
                    user_id=r.user_id,
                    stage=r.stage,
                )
                for r in rows
            }

    # -- experiments ------------------------------------------------------------------------

    def set_artifact_location(self, experiment_id: str, location: str) -> None:
        """Keep the ``artifact_location`` a client gave the experiment."""
        with self._db.write() as conn:
            conn.execute(delete(MLFLOW_EXPERIMENTS).where(E.experiment_id == experiment_id))
            conn.execute(
                insert(MLFLOW_EXPERIMENTS).values(
                    experiment_id=experiment_id, artifact_location=location
                )
            )

    def artifact_locations(self, experiment_ids: Sequence[str]) -> dict[str, str]:
        """The ``artifact_location`` given to each of the experiments that had one."""
        found: dict[str, str] = {}
        with self._db.read() as conn:
            for part in _chunks(list(experiment_ids)):
                rows = conn.execute(
                    select(E.experiment_id, E.artifact_location).where(E.experiment_id.in_(part))
                )
                found.update({str(i): str(loc) for i, loc in rows.tuples()})
        return found

    # -- artifacts --------------------------------------------------------------------------

    def record_artifact(self, info: ArtifactInfo, *, at: int) -> None:
        """Add or replace the record of a file of the MLflow artifact area."""
        with self._db.write() as conn:
            conn.execute(delete(MLFLOW_ARTIFACTS).where(F.path == info.path))
            conn.execute(
                insert(MLFLOW_ARTIFACTS).values(
                    path=info.path, size=info.size or 0, sha256=info.sha256 or "", created_at=at
                )
            )

    def artifacts(self, prefix: str) -> list[ArtifactInfo]:
        """Files of the MLflow artifact area at ``prefix`` or under the folder ``prefix``."""
        clean = prefix.strip("/")
        query = select(F.path, F.size, F.sha256).order_by(F.path)
        if clean:
            query = query.where(
                or_(F.path == clean, F.path.startswith(clean + "/", autoescape=True))
            )
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [ArtifactInfo(path=p, is_dir=False, size=s, sha256=h) for p, s, h in rows]

    def delete_artifacts(self, prefix: str) -> list[str]:
        """Forget the files at or under ``prefix``; returns their paths."""
        found = [f.path for f in self.artifacts(prefix)]
        with self._db.write() as conn:
            for part in _chunks(found):
                conn.execute(delete(MLFLOW_ARTIFACTS).where(F.path.in_(part)))
        return found

    def delete_run_artifacts(self, run_id: str, prefix: str) -> list[str]:
        """Forget the run's artifacts at or under ``prefix``; returns their paths."""
        clean = prefix.strip("/")
        t = ArtifactRow
        where = [t.run_id == run_id]
        if clean:
            where.append(or_(t.path == clean, t.path.startswith(clean + "/", autoescape=True)))
        with self._db.write() as conn:
            self._require_run(conn, run_id)
            paths = list(conn.scalars(select(t.path).where(*where)))
            conn.execute(delete(t).where(*where))
        return paths
