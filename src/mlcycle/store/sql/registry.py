"""The model registry in the SQL store: registered models, versions, aliases, gate results.

Version numbers are allocated inside the insert's transaction: on PostgreSQL the
registered model's row is locked (``FOR UPDATE``) before reading the highest number, so two
writers registering versions of one model queue; SQLite writers are serial already
(``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mlcycle.entities import (
    GateResult,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
)
from mlcycle.errors import AlreadyExistsError, NotFoundError
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema import (
    GATE_RESULTS,
    MODEL_ALIASES,
    MODEL_VERSION_TAGS,
    MODEL_VERSIONS,
    REGISTERED_MODEL_TAGS,
    REGISTERED_MODELS,
)

M = REGISTERED_MODELS.c
MT = REGISTERED_MODEL_TAGS.c
V = MODEL_VERSIONS.c
VT = MODEL_VERSION_TAGS.c
A = MODEL_ALIASES.c

#: Statuses by stored value: a dict lookup per row of a page, not an Enum call.
_STATUSES = {s.value: s for s in ModelVersionStatus}
G = GATE_RESULTS.c


def _no_model(name: str) -> NotFoundError:
    return NotFoundError(f"registered model {name!r} does not exist", field="name")


def _no_version(name: str, version: int) -> NotFoundError:
    return NotFoundError(f"registered model {name!r} has no version {version}", field="version")


class SqlRegistry:
    """The registry repository (see :class:`mlcycle.ports.registry.RegistryRepository`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- registered models ------------------------------------------------------------------

    def create_model(self, model: RegisteredModel, *, model_id: str) -> RegisteredModel:
        try:
            with self._db.write() as conn:
                self._insert_model(conn, model, model_id)
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"registered model {model.name!r} exists already", field="name"
            ) from exc
        return self.get_model(model.name)

    @staticmethod
    def _insert_model(conn: Connection, model: RegisteredModel, model_id: str) -> None:
        conn.execute(
            insert(REGISTERED_MODELS).values(
                id=model_id,
                name=model.name,
                description=model.description,
                owner=model.owner,
                created_at=model.created_at,
                updated_at=model.updated_at,
            )
        )
        if model.tags:
            conn.execute(
                insert(REGISTERED_MODEL_TAGS),
                [{"model_id": model_id, "key": k, "value": v} for k, v in model.tags.items()],
            )

    def get_model(self, name: str) -> RegisteredModel:
        with self._db.read() as conn:
            rows = conn.execute(select(REGISTERED_MODELS).where(M.name == name)).all()
            if not rows:
                raise _no_model(name)
            return self._models(conn, rows)[0]

    def list_models(self) -> list[RegisteredModel]:
        with self._db.read() as conn:
            rows = conn.execute(select(REGISTERED_MODELS).order_by(M.name)).all()
            return self._models(conn, rows)

    def _models(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        for t in conn.execute(select(REGISTERED_MODEL_TAGS).where(MT.model_id.in_(ids))):
            tags[t.model_id][t.key] = t.value
        latest = dict(
            conn.execute(
                select(V.model_id, func.max(V.version))
                .where(V.model_id.in_(ids))
                .group_by(V.model_id)
            ).all()
        )
        aliases: dict[str, dict[str, int]] = {i: {} for i in ids}
        for a in conn.execute(
            select(A.model_id, A.alias, V.version)
            .join(MODEL_VERSIONS, V.id == A.version_id)
            .where(A.model_id.in_(ids))
        ):
            aliases[a.model_id][a.alias] = a.version
        return [
            RegisteredModel(
                name=r.name,
                description=r.description,
                owner=r.owner,
                tags=tags[r.id],
                created_at=r.created_at,
                updated_at=r.updated_at,
                latest_version=latest.get(r.id),
                aliases=aliases[r.id],
            )
            for r in rows
        ]

    def update_model(
        self,
        name: str,
        *,
        updated_at: int,
        description: str | None = None,
        owner: str | None = None,
    ) -> RegisteredModel:
        values: dict[str, Any] = {"updated_at": updated_at}
        if description is not None:
            values["description"] = description
        if owner is not None:
            values["owner"] = owner
        with self._db.write() as conn:
            if (
                conn.execute(
                    update(REGISTERED_MODELS).where(M.name == name).values(values)
                ).rowcount
                == 0
            ):
                raise _no_model(name)
        return self.get_model(name)

    def set_model_tags(self, name: str, tags: Mapping[str, str]) -> None:
        with self._db.write() as conn:
            model_id = self._model_id(conn, name)
            conn.execute(
                delete(REGISTERED_MODEL_TAGS).where(MT.model_id == model_id, MT.key.in_(list(tags)))
            )
            if tags:
                conn.execute(
                    insert(REGISTERED_MODEL_TAGS),
                    [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()],
                )

    def delete_model_tag(self, name: str, key: str) -> None:
        with self._db.write() as conn:
            model_id = self._model_id(conn, name)
            conn.execute(
                delete(REGISTERED_MODEL_TAGS).where(MT.model_id == model_id, MT.key == key)
            )

    def rename_model(self, name: str, new_name: str, *, updated_at: int) -> RegisteredModel:
        try:
            with self._db.write() as conn:
                model_id = self._model_id(conn, name, lock=True)
                conn.execute(
                    update(REGISTERED_MODELS)
                    .where(M.id == model_id)
                    .values(name=new_name, updated_at=updated_at)
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"registered model {new_name!r} exists already", field="new_name"
            ) from exc
        return self.get_model(new_name)

    def delete_model(self, name: str) -> None:
        """Remove a registered model with its versions, aliases, tags and gate results."""
        with self._db.write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            versions = select(V.id).where(V.model_id == model_id).scalar_subquery()
            conn.execute(delete(MODEL_ALIASES).where(A.model_id == model_id))
            conn.execute(delete(GATE_RESULTS).where(G.version_id.in_(versions)))
            conn.execute(delete(MODEL_VERSION_TAGS).where(VT.version_id.in_(versions)))
            conn.execute(delete(MODEL_VERSIONS).where(V.model_id == model_id))
            conn.execute(delete(REGISTERED_MODEL_TAGS).where(MT.model_id == model_id))
            conn.execute(delete(REGISTERED_MODELS).where(M.id == model_id))

    def model_identities(self) -> dict[str, str]:
        """Every registered model's ID (its identity, which a rename keeps) by its name."""
        with self._db.read() as conn:
            return {
                str(name): str(model_id) for name, model_id in conn.execute(select(M.name, M.id))
            }

    def _model_id(self, conn: Connection, name: str, *, lock: bool = False) -> str:
        query = select(M.id).where(M.name == name)
        if lock and self._db.dialect == "postgresql":
            query = query.with_for_update()
        model_id = conn.scalar(query)
        if model_id is None:
            raise _no_model(name)
        return str(model_id)

    # -- versions ---------------------------------------------------------------------------

    def create_version(
        self, version: ModelVersion, *, model_id: str, version_id: str
    ) -> ModelVersion:
        name = version.name
        for attempt in range(2):  # a second try when another writer created the model first
            try:
                with self._db.write() as conn:
                    try:
                        found = self._model_id(conn, name, lock=True)
                    except NotFoundError:
                        model = RegisteredModel(
                            name=name, created_at=version.created_at, updated_at=version.created_at
                        )
                        self._insert_model(conn, model, model_id)
                        found = model_id
                    number = (
                        conn.scalar(select(func.max(V.version)).where(V.model_id == found)) or 0
                    ) + 1
                    conn.execute(
                        insert(MODEL_VERSIONS).values(
                            id=version_id,
                            model_id=found,
                            version=number,
                            run_id=version.run_id,
                            artifact_path=version.artifact_path,
                            flavor=version.flavor,
                            signature=None
                            if version.signature is None
                            else json.dumps(version.signature, sort_keys=True),
                            status=version.status.value,
                            description=version.description,
                            created_at=version.created_at,
                            updated_at=version.created_at,
                        )
                    )
                    if version.tags:
                        conn.execute(
                            insert(MODEL_VERSION_TAGS),
                            [
                                {"version_id": version_id, "key": k, "value": v}
                                for k, v in version.tags.items()
                            ],
                        )
                    conn.execute(
                        update(REGISTERED_MODELS)
                        .where(M.id == found)
                        .values(updated_at=version.created_at)
                    )
                return self.get_version(name, number)
            except IntegrityError as exc:
                if attempt:
                    raise AlreadyExistsError(
                        f"could not register a new version of {name!r}: {exc.orig}",
                        field="name",
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _version_query(self) -> Any:
        return select(*MODEL_VERSIONS.c, M.name.label("name")).join(
            REGISTERED_MODELS, M.id == V.model_id
        )

    def _versions(
        self, conn: Connection, rows: Sequence[Row[Any]], query: Any = None
    ) -> list[ModelVersion]:
        """The versions of ``rows`` with their tags and aliases; ``query`` (the statement
        that gave ``rows``) selects their tags by subquery rather than by 1,000 IDs."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        chosen: Any = ids if query is None else query.with_only_columns(V.id)
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        for t in conn.execute(select(MODEL_VERSION_TAGS).where(VT.version_id.in_(chosen))):
            tags[t.version_id][t.key] = t.value
        aliases: dict[str, list[str]] = {i: [] for i in ids}
        for a in conn.execute(
            select(A.version_id, A.alias).where(A.version_id.in_(chosen)).order_by(A.alias)
        ):
            aliases[a.version_id].append(a.alias)
        return [
            ModelVersion(
                name=r.name,
                version=r.version,
                run_id=r.run_id,
                artifact_path=r.artifact_path,
                flavor=r.flavor,
                signature=None if r.signature is None else json.loads(r.signature),
                status=_STATUSES[r.status],
                description=r.description,
                tags=tags[r.id],
                aliases=tuple(aliases[r.id]),
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]

    def get_version(self, name: str, version: int) -> ModelVersion:
        with self._db.read() as conn:
            rows = conn.execute(
                self._version_query().where(M.name == name, V.version == version)
            ).all()
            if not rows:
                self._model_id(conn, name)
                raise _no_version(name, version)
            return self._versions(conn, rows)[0]

    def latest_version(self, name: str) -> ModelVersion:
        with self._db.read() as conn:
            rows = conn.execute(
                self._version_query().where(M.name == name).order_by(V.version.desc()).limit(1)
            ).all()
            if not rows:
                self._model_id(conn, name)
                raise NotFoundError(f"registered model {name!r} has no versions", field="version")
            return self._versions(conn, rows)[0]

    def list_versions(
        self,
        name: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        exclude: Sequence[ModelVersionStatus] = (),
    ) -> list[ModelVersion]:
        with self._db.read() as conn:
            model_id = self._model_id(conn, name)
            query = self._version_query().where(V.model_id == model_id).order_by(V.version)
            if after is not None:
                query = query.where(V.version > after)
            if exclude:
                query = query.where(V.status.not_in([s.value for s in exclude]))
            if limit is not None:
                query = query.limit(limit)
            return self._versions(conn, conn.execute(query).all(), query)

    def versions_of_run(self, run_id: str) -> list[ModelVersion]:
        with self._db.read() as conn:
            rows = conn.execute(
                self._version_query().where(V.run_id == run_id).order_by(M.name, V.version)
            ).all()
            return self._versions(conn, rows)

    def _version_id(self, conn: Connection, name: str, version: int) -> str:
        found = conn.scalar(
            select(V.id)
            .join(REGISTERED_MODELS, M.id == V.model_id)
            .where(M.name == name, V.version == version)
        )
        if found is None:
            self._model_id(conn, name)
            raise _no_version(name, version)
        return str(found)

    def update_version(
        self,
        name: str,
        version: int,
        *,
        updated_at: int,
        status: ModelVersionStatus | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        values: dict[str, Any] = {"updated_at": updated_at}
        if status is not None:
            values["status"] = ModelVersionStatus(status).value
        if description is not None:
            values["description"] = description
        with self._db.write() as conn:
            version_id = self._version_id(conn, name, version)
            conn.execute(update(MODEL_VERSIONS).where(V.id == version_id).values(values))
        return self.get_version(name, version)

    def set_version_tags(self, name: str, version: int, tags: Mapping[str, str]) -> None:
        with self._db.write() as conn:
            version_id = self._version_id(conn, name, version)
            conn.execute(
                delete(MODEL_VERSION_TAGS).where(
                    VT.version_id == version_id, VT.key.in_(list(tags))
                )
            )
            if tags:
                conn.execute(
                    insert(MODEL_VERSION_TAGS),
                    [{"version_id": version_id, "key": k, "value": v} for k, v in tags.items()],
                )

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        with self._db.write() as conn:
            version_id = self._version_id(conn, name, version)
            conn.execute(
                delete(MODEL_VERSION_TAGS).where(VT.version_id == version_id, VT.key == key)
            )

    def delete_version(self, name: str, version: int, *, updated_at: int) -> None:
        """Remove one version with its aliases, tags and gate results. New versions count
        up from the highest number left, so deleting the latest version frees its number."""
        with self._db.write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            version_id = self._version_id(conn, name, version)
            conn.execute(delete(MODEL_ALIASES).where(A.version_id == version_id))
            conn.execute(delete(GATE_RESULTS).where(G.version_id == version_id))
            conn.execute(delete(MODEL_VERSION_TAGS).where(VT.version_id == version_id))
            conn.execute(delete(MODEL_VERSIONS).where(V.id == version_id))
            conn.execute(
                update(REGISTERED_MODELS).where(M.id == model_id).values(updated_at=updated_at)
            )

    # -- aliases ----------------------------------------------------------------------------

    def alias_version(self, name: str, alias: str) -> ModelVersion:
        with self._db.read() as conn:
            rows = conn.execute(
                self._version_query()
                .join(MODEL_ALIASES, A.version_id == V.id)
                .where(M.name == name, A.alias == alias)
            ).all()
            if not rows:
                self._model_id(conn, name)
                raise NotFoundError(
                    f"registered model {name!r} has no alias {alias!r}", field="alias"
                )
            return self._versions(conn, rows)[0]

    def set_alias(self, name: str, alias: str, version: int, *, at: int) -> int | None:
        with self._db.write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            version_id = self._version_id(conn, name, version)
            previous = conn.scalar(
                select(V.version)
                .join(MODEL_ALIASES, A.version_id == V.id)
                .where(A.model_id == model_id, A.alias == alias)
            )
            conn.execute(delete(MODEL_ALIASES).where(A.model_id == model_id, A.alias == alias))
            conn.execute(
                insert(MODEL_ALIASES).values(
                    model_id=model_id, alias=alias, version_id=version_id, updated_at=at
                )
            )
            conn.execute(update(REGISTERED_MODELS).where(M.id == model_id).values(updated_at=at))
        return None if previous is None else int(previous)

    def delete_alias(self, name: str, alias: str) -> None:
        with self._db.write() as conn:
            model_id = self._model_id(conn, name)
            gone = conn.execute(
                delete(MODEL_ALIASES).where(A.model_id == model_id, A.alias == alias)
            ).rowcount
            if not gone:
                raise NotFoundError(
                    f"registered model {name!r} has no alias {alias!r}", field="alias"
                )

    # -- gate results -----------------------------------------------------------------------

    def add_gate_results(
        self, name: str, version: int, results: Sequence[GateResult], *, ids: Sequence[str]
    ) -> None:
        if not results:
            return
        with self._db.write() as conn:
            version_id = self._version_id(conn, name, version)
            conn.execute(
                insert(GATE_RESULTS),
                [
                    {
                        "id": row_id,
                        "version_id": version_id,
                        "alias": r.alias,
                        "gate": r.gate,
                        "passed": r.passed,
                        "value": r.value,
                        "threshold": r.threshold,
                        "detail": r.detail,
                        "forced": r.forced,
                        "reason": r.reason,
                        "created_at": r.created_at,
                    }
                    for row_id, r in zip(ids, results, strict=True)
                ],
            )

    def gate_results(self, name: str, version: int) -> list[GateResult]:
        with self._db.read() as conn:
            version_id = self._version_id(conn, name, version)
            rows = conn.execute(
                select(GATE_RESULTS).where(G.version_id == version_id).order_by(G.created_at, G.id)
            ).all()
        return [
            GateResult(
                gate=r.gate,
                passed=bool(r.passed),
                value=r.value,
                threshold=r.threshold,
                detail=r.detail,
                alias=r.alias,
                forced=bool(r.forced),
                reason=r.reason,
                created_at=r.created_at,
            )
            for r in rows
        ]
