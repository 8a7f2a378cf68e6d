"""Datasets in the SQL store: names, versions, lineage, validation reports, run inputs.

A version row holds what registration computed once (schema and profile as JSON); the
Parquet bytes live in the artifact store under ``storage_key``. Every write is one
transaction, so a version is stored with its lineage, source fingerprint and validation
report, or not at all.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from mlcycle.entities import (
    ColumnSchema,
    Dataset,
    DatasetProfile,
    DatasetVersion,
    LifecycleStage,
    Lineage,
    RunInput,
    Transform,
    ValidationRecord,
    ValidationReport,
)
from mlcycle.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema import (
    DATASET_SOURCES,
    DATASET_VALIDATIONS,
    DATASET_VERSION_PARENTS,
    DATASET_VERSIONS,
    DATASETS,
    RUN_INPUTS,
    RUNS,
)

_ACTIVE = (LifecycleStage.ACTIVE,)
_CHUNK = 500  # IDs per IN (...) list

D = DATASETS.c
V = DATASET_VERSIONS.c
P = DATASET_VERSION_PARENTS.c
VAL = DATASET_VALIDATIONS.c
RI = RUN_INPUTS.c


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _stages(stages: Sequence[LifecycleStage]) -> list[str]:
    return [LifecycleStage(s).value for s in stages]


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _version_columns() -> list[Any]:
    return [*DATASET_VERSIONS.c, D.name.label("name")]


def _dataset_entity(row: Row[Any], latest: int | None = None, count: int = 0) -> Dataset:
    return Dataset(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        latest_version=latest,
        version_count=count,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        deleted_at=row.deleted_at,
    )


def _lineage_query() -> Any:
    """Parent edges with the names and numbers of both ends."""
    parent = DATASET_VERSIONS.alias("parent")
    parent_ds = DATASETS.alias("parent_ds")
    return (
        select(
            *DATASET_VERSION_PARENTS.c,
            parent.c.version.label("parent_version"),
            parent_ds.c.name.label("parent_name"),
            V.version.label("child_version"),
            D.name.label("child_name"),
        )
        .join(parent, parent.c.id == P.parent_id)
        .join(parent_ds, parent_ds.c.id == parent.c.dataset_id)
        .join(DATASET_VERSIONS, V.id == P.version_id)
        .join(DATASETS, D.id == V.dataset_id)
    )


def _transform(row: Row[Any]) -> Transform:
    return Transform(name=row.transform, params=json.loads(row.params), code_ref=row.code_ref)


class SqlDatasets:
    """The dataset repository (see :class:`mlcycle.ports.datasets.DatasetRepository`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._make_insert: Any = pg_insert if db.dialect == "postgresql" else sqlite_insert

    # -- versions ---------------------------------------------------------------------------

    def create_version(
        self,
        version: DatasetVersion,
        *,
        parent_ids: Sequence[str] = (),
        transform: Transform | None = None,
        fingerprint: str | None = None,
        validation: ValidationRecord | None = None,
    ) -> DatasetVersion:
        try:
            with self._db.write() as conn:
                dataset_id = self._dataset_for_write(conn, version)
                taken = conn.scalar(
                    select(V.version).where(V.dataset_id == dataset_id, V.digest == version.digest)
                )
                if taken is not None:
                    raise AlreadyExistsError(
                        f"version {taken} of dataset {version.name!r} has this content already",
                        field="data",
                    )
                number = (
                    conn.scalar(select(func.max(V.version)).where(V.dataset_id == dataset_id)) or 0
                ) + 1
                conn.execute(
                    insert(DATASET_VERSIONS).values(
                        id=version.id,
                        dataset_id=dataset_id,
                        version=number,
                        digest=version.digest,
                        storage_key=version.storage_key,
                        num_rows=version.num_rows,
                        num_columns=version.num_columns,
                        size_bytes=version.size_bytes,
                        schema=_dumps(
                            [
                                {"name": c.name, "type": c.type, "logical_type": c.logical_type}
                                for c in version.schema
                            ]
                        ),
                        profile=_dumps(version.profile.to_dict()),
                        description=version.description,
                        tags=_dumps(dict(version.tags)),
                        created_at=version.created_at,
                        lifecycle_stage=version.lifecycle_stage.value,
                        deleted_at=version.deleted_at,
                    )
                )
                if parent_ids:
                    if transform is None:
                        raise InvalidInputError(
                            "a derived version needs a transform", field="transform"
                        )
                    self._insert_parents(
                        conn, version.id, parent_ids, transform, version.created_at
                    )
                if fingerprint is not None:
                    self._insert_source(conn, fingerprint, version.digest, version.created_at)
                if validation is not None:
                    self._insert_validation(conn, validation)
        except IntegrityError as exc:
            # A concurrent registration took the name, number or digest first.
            raise ConflictError(
                f"dataset {version.name!r} was changed by another writer at the same time; "
                "register again",
                field="name",
            ) from exc
        return self.get_version_by_id(version.id)

    def _dataset_for_write(self, conn: Connection, version: DatasetVersion) -> str:
        row = conn.execute(select(D.id, D.lifecycle_stage).where(D.name == version.name)).first()
        if row is None:
            conn.execute(
                insert(DATASETS).values(
                    id=version.dataset_id,
                    name=version.name,
                    created_at=version.created_at,
                    updated_at=version.created_at,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    deleted_at=None,
                )
            )
            return version.dataset_id
        if row.lifecycle_stage == LifecycleStage.DELETED.value:
            raise InvalidInputError(
                f"dataset {version.name!r} is deleted; restore it "
                f"(mlcycle.datasets.restore({version.name!r})) or choose another name",
                field="name",
            )
        conn.execute(update(DATASETS).where(D.id == row.id).values(updated_at=version.created_at))
        dataset_id: str = row.id
        return dataset_id

    def _insert_parents(
        self,
        conn: Connection,
        version_id: str,
        parent_ids: Sequence[str],
        transform: Transform,
        at: int,
    ) -> None:
        wanted = list(dict.fromkeys(parent_ids))
        found = set(conn.scalars(select(V.id).where(V.id.in_(wanted))))
        missing = [p for p in wanted if p not in found]
        if missing:
            raise NotFoundError(f"no dataset version with ID {missing[0]!r}", field="parents")
        if version_id in found:
            raise InvalidInputError("a version cannot be its own parent", field="parents")
        existing = set(conn.scalars(select(P.parent_id).where(P.version_id == version_id)))
        start = len(existing)
        rows = [
            {
                "version_id": version_id,
                "parent_id": parent_id,
                "position": start + i,
                "transform": transform.name,
                "params": _dumps(dict(transform.params)),
                "code_ref": transform.code_ref,
                "created_at": at,
            }
            for i, parent_id in enumerate(p for p in wanted if p not in existing)
        ]
        if rows:
            conn.execute(insert(DATASET_VERSION_PARENTS), rows)

    def _insert_source(self, conn: Connection, fingerprint: str, digest: str, at: int) -> None:
        stmt = self._make_insert(DATASET_SOURCES).values(
            fingerprint=fingerprint, digest=digest, created_at=at
        )
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["fingerprint"]))

    def _insert_validation(self, conn: Connection, record: ValidationRecord) -> None:
        conn.execute(
            insert(DATASET_VALIDATIONS).values(
                id=record.id,
                version_id=record.version_id,
                created_at=record.created_at,
                passed=record.report.passed,
                report=_dumps(record.report.to_dict()),
            )
        )

    def get_version(
        self, name: str, version: int | None = None, *, include_deleted: bool = False
    ) -> DatasetVersion:
        """The given version of ``name`` (the latest active one when ``version`` is None).

        Raises NotFoundError naming what is missing or deleted.
        """
        with self._db.read() as conn:
            dataset = conn.execute(select(DATASETS).where(D.name == name)).first()
            if dataset is None:
                raise NotFoundError(f"no dataset named {name!r}", field="name")
            if dataset.lifecycle_stage == LifecycleStage.DELETED.value and not include_deleted:
                raise NotFoundError(
                    f"dataset {name!r} is deleted (restore it to use it)", field="name"
                )
            query = (
                select(*_version_columns())
                .join(DATASETS, D.id == V.dataset_id)
                .where(V.dataset_id == dataset.id)
            )
            if version is None:
                query = query.where(V.lifecycle_stage == LifecycleStage.ACTIVE.value)
                query = query.order_by(V.version.desc()).limit(1)
            else:
                query = query.where(V.version == version)
            rows = list(conn.execute(query))
            if not rows:
                if version is None:
                    raise NotFoundError(f"dataset {name!r} has no active versions", field="name")
                raise NotFoundError(f"dataset {name!r} has no version {version}", field="version")
            if rows[0].lifecycle_stage == LifecycleStage.DELETED.value and not include_deleted:
                raise NotFoundError(
                    f"version {version} of dataset {name!r} is deleted (restore it to use it)",
                    field="version",
                )
            return self._entities(conn, rows)[0]

    def get_version_by_id(self, version_id: str) -> DatasetVersion:
        with self._db.read() as conn:
            rows = list(
                conn.execute(
                    select(*_version_columns())
                    .join(DATASETS, D.id == V.dataset_id)
                    .where(V.id == version_id)
                )
            )
            if not rows:
                raise NotFoundError(f"no dataset version with ID {version_id!r}", field="version")
            return self._entities(conn, rows)[0]

    def find_by_digest(self, digest: str, name: str | None = None) -> DatasetVersion | None:
        """The oldest version with this content (of dataset ``name`` if given), any stage."""
        query = (
            select(*_version_columns())
            .join(DATASETS, D.id == V.dataset_id)
            .where(V.digest == digest)
            .order_by(V.created_at, V.id)
            .limit(1)
        )
        if name is not None:
            query = query.where(D.name == name)
        with self._db.read() as conn:
            rows = list(conn.execute(query))
            return self._entities(conn, rows)[0] if rows else None

    def digest_of_source(self, fingerprint: str) -> str | None:
        with self._db.read() as conn:
            found: str | None = conn.scalar(
                select(DATASET_SOURCES.c.digest).where(DATASET_SOURCES.c.fingerprint == fingerprint)
            )
            return found

    def add_source(self, fingerprint: str, digest: str, at: int) -> None:
        with self._db.write() as conn:
            self._insert_source(conn, fingerprint, digest, at)

    def list_versions(
        self, name: str, stages: Sequence[LifecycleStage] = _ACTIVE
    ) -> builtins.list[DatasetVersion]:
        """Versions of ``name`` in the given stages, oldest first."""
        dataset = self.get_dataset(name)
        if dataset.lifecycle_stage not in stages:
            raise NotFoundError(f"dataset {name!r} is deleted (restore it to use it)", field="name")
        with self._db.read() as conn:
            rows = list(
                conn.execute(
                    select(*_version_columns())
                    .join(DATASETS, D.id == V.dataset_id)
                    .where(V.dataset_id == dataset.id, V.lifecycle_stage.in_(_stages(stages)))
                    .order_by(V.version)
                )
            )
            return self._entities(conn, rows)

    def set_version_stage(self, version_id: str, stage: LifecycleStage, at: int | None) -> None:
        with self._db.write() as conn:
            result = conn.execute(
                update(DATASET_VERSIONS)
                .where(V.id == version_id)
                .values(lifecycle_stage=stage.value, deleted_at=at)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no dataset version with ID {version_id!r}", field="version")

    def set_tags(self, version_id: str, tags: Mapping[str, str]) -> None:
        self._change_tags(version_id, dict(tags), ())

    def delete_tag(self, version_id: str, key: str) -> None:
        self._change_tags(version_id, {}, (key,))

    def _change_tags(self, version_id: str, add: dict[str, str], drop: Sequence[str]) -> None:
        with self._db.write() as conn:
            raw = conn.scalar(select(V.tags).where(V.id == version_id))
            if raw is None:
                raise NotFoundError(f"no dataset version with ID {version_id!r}", field="version")
            tags: dict[str, str] = json.loads(raw)
            for key in drop:
                if key not in tags:
                    raise NotFoundError(f"the dataset version has no tag {key!r}", field="key")
                del tags[key]
            tags.update(add)
            conn.execute(
                update(DATASET_VERSIONS).where(V.id == version_id).values(tags=_dumps(tags))
            )

    # -- datasets ---------------------------------------------------------------------------

    def get_dataset(self, name: str) -> Dataset:
        with self._db.read() as conn:
            row = conn.execute(select(DATASETS).where(D.name == name)).first()
            if row is None:
                raise NotFoundError(f"no dataset named {name!r}", field="name")
            latest, count = conn.execute(
                select(func.max(V.version), func.count(V.id)).where(
                    V.dataset_id == row.id, V.lifecycle_stage == LifecycleStage.ACTIVE.value
                )
            ).one()
            return _dataset_entity(row, latest, count)

    def list_datasets(self, stages: Sequence[LifecycleStage] = _ACTIVE) -> builtins.list[Dataset]:
        """Datasets by name, with the latest active version number and the active count."""
        counts = (
            select(
                V.dataset_id,
                func.max(V.version).label("latest"),
                func.count(V.id).label("versions"),
            )
            .where(V.lifecycle_stage == LifecycleStage.ACTIVE.value)
            .group_by(V.dataset_id)
            .subquery()
        )
        query = (
            select(DATASETS, counts.c.latest, counts.c.versions)
            .outerjoin(counts, counts.c.dataset_id == D.id)
            .where(D.lifecycle_stage.in_(_stages(stages)))
            .order_by(D.name)
        )
        with self._db.read() as conn:
            return [_dataset_entity(r, r.latest, r.versions or 0) for r in conn.execute(query)]

    def set_dataset_stage(self, name: str, stage: LifecycleStage, at: int | None) -> Dataset:
        with self._db.write() as conn:
            result = conn.execute(
                update(DATASETS)
                .where(D.name == name)
                .values(lifecycle_stage=stage.value, deleted_at=at)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no dataset named {name!r}", field="name")
        return self.get_dataset(name)

    # -- lineage ----------------------------------------------------------------------------

    def add_parents(
        self, version_id: str, parent_ids: Sequence[str], transform: Transform, at: int
    ) -> None:
        """Record parents of a version (edges recorded before are kept as they are)."""
        with self._db.write() as conn:
            if conn.scalar(select(V.id).where(V.id == version_id)) is None:
                raise NotFoundError(f"no dataset version with ID {version_id!r}", field="version")
            self._insert_parents(conn, version_id, parent_ids, transform, at)

    def children(self, version_id: str) -> builtins.list[Lineage]:
        """Versions made from ``version_id``, oldest first."""
        query = _lineage_query().where(P.parent_id == version_id).order_by(V.created_at, V.id)
        with self._db.read() as conn:
            return [self._lineage(r) for r in conn.execute(query)]

    def _parents(self, conn: Connection, ids: Sequence[str]) -> dict[str, list[Lineage]]:
        found: dict[str, list[Lineage]] = {}
        for part in _chunks(ids):
            query = (
                _lineage_query().where(P.version_id.in_(part)).order_by(P.version_id, P.position)
            )
            for row in conn.execute(query):
                found.setdefault(row.version_id, []).append(self._lineage(row))
        return found

    @staticmethod
    def _lineage(row: Row[Any]) -> Lineage:
        return Lineage(
            version_id=row.version_id,
            parent_id=row.parent_id,
            parent_name=row.parent_name,
            parent_version=row.parent_version,
            child_name=row.child_name,
            child_version=row.child_version,
            transform=_transform(row),
            created_at=row.created_at,
        )

    # -- validation reports -----------------------------------------------------------------

    def add_validation(self, record: ValidationRecord) -> None:
        with self._db.write() as conn:
            if conn.scalar(select(V.id).where(V.id == record.version_id)) is None:
                raise NotFoundError(
                    f"no dataset version with ID {record.version_id!r}", field="version"
                )
            self._insert_validation(conn, record)

    def validations(self, version_id: str) -> builtins.list[ValidationRecord]:
        """The version's validation reports, oldest first."""
        with self._db.read() as conn:
            if conn.scalar(select(V.id).where(V.id == version_id)) is None:
                raise NotFoundError(f"no dataset version with ID {version_id!r}", field="version")
            rows = conn.execute(
                select(DATASET_VALIDATIONS)
                .where(VAL.version_id == version_id)
                .order_by(VAL.created_at, VAL.id)
            )
            return [self._validation(r) for r in rows]

    @staticmethod
    def _validation(row: Row[Any]) -> ValidationRecord:
        return ValidationRecord(
            id=row.id,
            version_id=row.version_id,
            created_at=row.created_at,
            report=ValidationReport.from_dict(json.loads(row.report)),
        )

    def _latest_validations(
        self, conn: Connection, ids: Sequence[str]
    ) -> dict[str, ValidationReport]:
        latest: dict[str, Any] = {}
        for part in _chunks(ids):
            rows = conn.execute(
                select(VAL.id, VAL.version_id, VAL.created_at, VAL.report)
                .where(VAL.version_id.in_(part))
                .order_by(VAL.created_at, VAL.id)
            )
            for row in rows:
                latest[row.version_id] = row  # the last one wins
        return {
            vid: ValidationReport.from_dict(json.loads(row.report)) for vid, row in latest.items()
        }

    # -- run inputs -------------------------------------------------------------------------

    def add_run_input(self, run_input: RunInput) -> RunInput:
        """Record that a run used a version in a context (recording it twice keeps one)."""
        with self._db.write() as conn:
            if conn.scalar(select(RUNS.c.id).where(RUNS.c.id == run_input.run_id)) is None:
                raise NotFoundError(f"no run with ID {run_input.run_id!r}", field="run_id")
            stage = conn.scalar(select(V.lifecycle_stage).where(V.id == run_input.version_id))
            if stage is None:
                raise NotFoundError(
                    f"no dataset version with ID {run_input.version_id!r}", field="dataset"
                )
            if stage == LifecycleStage.DELETED.value:
                raise InvalidInputError(
                    f"dataset version {run_input.name}@{run_input.version} is deleted",
                    field="dataset",
                )
            stmt = self._make_insert(RUN_INPUTS).values(
                run_id=run_input.run_id,
                version_id=run_input.version_id,
                context=run_input.context,
                created_at=run_input.created_at,
            )
            conn.execute(
                stmt.on_conflict_do_nothing(index_elements=["run_id", "version_id", "context"])
            )
            rows = list(
                conn.execute(
                    self._inputs_query().where(
                        RI.run_id == run_input.run_id,
                        RI.version_id == run_input.version_id,
                        RI.context == run_input.context,
                    )
                )
            )
        return self._run_input(rows[0])

    def run_inputs(self, run_id: str) -> builtins.list[RunInput]:
        """The dataset versions a run used, in the order it logged them."""
        with self._db.read() as conn:
            if conn.scalar(select(RUNS.c.id).where(RUNS.c.id == run_id)) is None:
                raise NotFoundError(f"no run with ID {run_id!r}", field="run_id")
            rows = conn.execute(
                self._inputs_query()
                .where(RI.run_id == run_id)
                .order_by(RI.created_at, D.name, V.version, RI.context)
            )
            return [self._run_input(r) for r in rows]

    def version_inputs(self, version_id: str) -> builtins.list[RunInput]:
        """The runs that used a version, oldest first."""
        with self._db.read() as conn:
            if conn.scalar(select(V.id).where(V.id == version_id)) is None:
                raise NotFoundError(f"no dataset version with ID {version_id!r}", field="version")
            rows = conn.execute(
                self._inputs_query()
                .where(RI.version_id == version_id)
                .order_by(RI.created_at, RI.run_id, RI.context)
            )
            return [self._run_input(r) for r in rows]

    @staticmethod
    def _inputs_query() -> Any:
        return (
            select(*RUN_INPUTS.c, V.version, V.digest, D.name)
            .join(DATASET_VERSIONS, V.id == RI.version_id)
            .join(DATASETS, D.id == V.dataset_id)
        )

    @staticmethod
    def _run_input(row: Row[Any]) -> RunInput:
        return RunInput(
            run_id=row.run_id,
            version_id=row.version_id,
            name=row.name,
            version=row.version,
            digest=row.digest,
            context=row.context,
            created_at=row.created_at,
        )

    # -- rows to entities -------------------------------------------------------------------

    def _entities(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[DatasetVersion]:
        ids = [r.id for r in rows]
        parents = self._parents(conn, ids)
        validations = self._latest_validations(conn, ids)
        return [
            DatasetVersion(
                id=r.id,
                dataset_id=r.dataset_id,
                name=r.name,
                version=r.version,
                digest=r.digest,
                storage_key=r.storage_key,
                num_rows=r.num_rows,
                num_columns=r.num_columns,
                size_bytes=r.size_bytes,
                schema=tuple(ColumnSchema(**c) for c in json.loads(r.schema)),
                profile=DatasetProfile.from_dict(json.loads(r.profile)),
                created_at=r.created_at,
                description=r.description,
                tags=json.loads(r.tags),
                lifecycle_stage=LifecycleStage(r.lifecycle_stage),
                deleted_at=r.deleted_at,
                parents=tuple(parents.get(r.id, ())),
                validation=validations.get(r.id),
            )
            for r in rows
        ]
