"""Deployments in the SQL store: the configuration row, its history and feedback labels.

Every change is a compare-and-set: ``UPDATE deployments ... WHERE id = :id AND revision =
:expected``, plus the history event, in one transaction. When no row matched, another
writer got there first and the caller gets ConflictError. The unique (deployment,
revision) key of the history is a second guard.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from mlcycle.entities.deployment_json import (
    arms_from_list,
    arms_to_list,
    canary_from_dict,
    canary_to_dict,
    options_from_dict,
    options_to_dict,
)
from mlcycle.entities.deployments import (
    Deployment,
    DeploymentEvent,
    DeploymentStatus,
    Feedback,
    Strategy,
)
from mlcycle.errors import AlreadyExistsError, ConflictError, NotFoundError
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema_deployments import DEPLOYMENT_EVENTS, DEPLOYMENTS, FEEDBACK

D = DEPLOYMENTS.c
E = DEPLOYMENT_EVENTS.c
F = FEEDBACK.c

#: Feedback rows written per statement (PostgreSQL allows 65,535 bound parameters).
_FEEDBACK_BATCH = 5000


def _no_deployment(name: str) -> NotFoundError:
    return NotFoundError(f"deployment {name!r} does not exist", field="name")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _values(deployment: Deployment) -> dict[str, Any]:
    return {
        "name": deployment.name,
        "description": deployment.description,
        "model_uri": deployment.model_uri,
        "strategy": deployment.strategy.value,
        "arms": _dumps(arms_to_list(deployment.arms)),
        "stable_arms": _dumps(arms_to_list(deployment.stable_arms)),
        "canary": _dumps(canary_to_dict(deployment.canary)) if deployment.canary else None,
        "options": _dumps(options_to_dict(deployment.options)),
        "revision": deployment.revision,
        "status": deployment.status.value,
        "created_at": deployment.created_at,
        "updated_at": deployment.updated_at,
    }


def _deployment(row: Row[Any]) -> Deployment:
    return Deployment(
        name=row.name,
        model_uri=row.model_uri,
        arms=arms_from_list(json.loads(row.arms)),
        strategy=Strategy(row.strategy),
        canary=canary_from_dict(json.loads(row.canary)) if row.canary else None,
        options=options_from_dict(json.loads(row.options)),
        stable_arms=arms_from_list(json.loads(row.stable_arms)),
        revision=row.revision,
        status=DeploymentStatus(row.status),
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _event_values(deployment_id: str, event: DeploymentEvent) -> dict[str, Any]:
    return {
        "deployment_id": deployment_id,
        "revision": event.revision,
        "action": event.action,
        "at": event.at,
        "actor": event.actor,
        "reason": event.reason,
        "before": _dumps(event.before) if event.before is not None else None,
        "after": _dumps(event.after) if event.after is not None else None,
    }


class SqlDeployments:
    """The deployments repository (see :class:`mlcycle.ports.deployments.DeploymentRepository`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._make_insert: Any = pg_insert if db.dialect == "postgresql" else sqlite_insert

    # -- deployments ------------------------------------------------------------------------

    def create(
        self, deployment: Deployment, event: DeploymentEvent, *, deployment_id: str
    ) -> Deployment:
        try:
            with self._db.write() as conn:
                found = conn.execute(
                    select(D.id, D.status, D.revision).where(D.name == deployment.name)
                ).first()
                if found is None:
                    conn.execute(
                        insert(DEPLOYMENTS).values(id=deployment_id, **_values(deployment))
                    )
                    conn.execute(
                        insert(DEPLOYMENT_EVENTS).values(_event_values(deployment_id, event))
                    )
                    return deployment
                if found.status != DeploymentStatus.DELETED.value:
                    raise self._taken(deployment.name)
                # A deleted deployment's name is reused: same row, history kept, and the
                # revision goes on growing so no serving process mistakes the new one for
                # an old revision.
                revision = found.revision + 1
                revived = replace(deployment, revision=revision)
                result = conn.execute(
                    update(DEPLOYMENTS)
                    .where(D.id == found.id, D.revision == found.revision)
                    .values(_values(revived))
                )
                if result.rowcount != 1:
                    raise self._taken(deployment.name)
                conn.execute(
                    insert(DEPLOYMENT_EVENTS).values(
                        _event_values(found.id, replace(event, revision=revision))
                    )
                )
                return revived
        except IntegrityError as exc:
            raise self._taken(deployment.name) from exc

    @staticmethod
    def _taken(name: str) -> AlreadyExistsError:
        return AlreadyExistsError(f"deployment {name!r} exists already", field="name")

    def get(self, name: str, *, include_deleted: bool = False) -> Deployment:
        with self._db.read() as conn:
            row = conn.execute(select(DEPLOYMENTS).where(D.name == name)).first()
        if row is None or (not include_deleted and row.status == DeploymentStatus.DELETED.value):
            raise _no_deployment(name)
        return _deployment(row)

    def list_deployments(self, *, include_deleted: bool = False) -> list[Deployment]:
        query = select(DEPLOYMENTS).order_by(D.name)
        if not include_deleted:
            query = query.where(D.status != DeploymentStatus.DELETED.value)
        with self._db.read() as conn:
            return [_deployment(r) for r in conn.execute(query)]

    def update(
        self, deployment: Deployment, event: DeploymentEvent, *, expected_revision: int
    ) -> Deployment:
        try:
            with self._db.write() as conn:
                deployment_id = self._id(conn, deployment.name)
                result = conn.execute(
                    update(DEPLOYMENTS)
                    .where(D.id == deployment_id, D.revision == expected_revision)
                    .values(_values(deployment))
                )
                if result.rowcount != 1:
                    current = conn.scalar(select(D.revision).where(D.id == deployment_id))
                    raise _conflict(deployment.name, expected_revision, current)
                conn.execute(insert(DEPLOYMENT_EVENTS).values(_event_values(deployment_id, event)))
        except IntegrityError as exc:
            raise _conflict(deployment.name, expected_revision, None) from exc
        return deployment

    @staticmethod
    def _id(conn: Connection, name: str) -> str:
        found = conn.scalar(select(D.id).where(D.name == name))
        if found is None:
            raise _no_deployment(name)
        return str(found)

    def history(self, name: str) -> list[DeploymentEvent]:
        with self._db.read() as conn:
            deployment_id = self._id(conn, name)
            rows = conn.execute(
                select(DEPLOYMENT_EVENTS)
                .where(E.deployment_id == deployment_id)
                .order_by(E.revision, E.id)
            ).all()
        return [
            DeploymentEvent(
                deployment=name,
                revision=r.revision,
                action=r.action,
                at=r.at,
                actor=r.actor,
                reason=r.reason,
                before=json.loads(r.before) if r.before is not None else None,
                after=json.loads(r.after) if r.after is not None else None,
            )
            for r in rows
        ]

    # -- feedback ---------------------------------------------------------------------------

    def put_feedback(self, items: Sequence[Feedback]) -> int:
        if not items:
            return 0
        # The last label given for a request wins, within a call as across calls.
        latest = {(f.deployment, f.request_id): f for f in items}
        rows = [
            {
                "deployment": f.deployment,
                "request_id": f.request_id,
                "label": _dumps(f.label),
                "at": f.at,
            }
            for f in latest.values()
        ]
        with self._db.write() as conn:
            for start in range(0, len(rows), _FEEDBACK_BATCH):
                stmt = self._make_insert(FEEDBACK)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[F.deployment, F.request_id],
                        set_={"label": stmt.excluded.label, "at": stmt.excluded.at},
                    ),
                    rows[start : start + _FEEDBACK_BATCH],
                )
        return len(rows)

    def feedback(
        self, deployment: str, *, since: int | None = None, until: int | None = None
    ) -> list[Feedback]:
        query = select(FEEDBACK).where(F.deployment == deployment)
        if since is not None:
            query = query.where(F.at >= since)
        if until is not None:
            query = query.where(F.at < until)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(F.at, F.request_id)).all()
        return [
            Feedback(
                deployment=r.deployment,
                request_id=r.request_id,
                label=json.loads(r.label),
                at=r.at,
            )
            for r in rows
        ]


def _conflict(name: str, expected: int, current: int | None) -> ConflictError:
    now = f" (it is at revision {current})" if current is not None else ""
    return ConflictError(
        f"deployment {name!r} changed since revision {expected} was read{now}: "
        "read it again and retry",
        field="revision",
    )
