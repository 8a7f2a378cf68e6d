"""Governance in the SQL store: users, API tokens, grants, approvals and protections.

The audit trail is :mod:`mlcycle.store.sql.audit`; :class:`SqlGovernance` offers both, as
the one governance repository.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mlcycle.entities.governance import (
    ApiToken,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Grant,
    GrantLevel,
    Protection,
    ResourceKind,
    Role,
    User,
)
from mlcycle.errors import AlreadyExistsError, ConflictError, NotFoundError
from mlcycle.store.sql.audit import SqlAuditTrail
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema import ARTIFACTS
from mlcycle.store.sql.schema_governance import (
    API_TOKENS,
    APPROVALS,
    GRANTS,
    PROTECTIONS,
    USERS,
)

U = USERS.c
T = API_TOKENS.c
G = GRANTS.c
P = APPROVALS.c
R = PROTECTIONS.c


def _no_user(name: str) -> NotFoundError:
    return NotFoundError(f"user {name!r} does not exist", field="user")


def _user(row: Row[Any]) -> User:
    return User(
        name=row.name,
        role=Role(row.role),
        disabled=bool(row.disabled),
        has_password=row.password_hash is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _token(row: Row[Any], user: str) -> ApiToken:
    return ApiToken(
        id=row.id,
        user=user,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _approval(row: Row[Any]) -> Approval:
    return Approval(
        id=row.id,
        kind=ApprovalKind(row.kind),
        target=row.target,
        action=row.action,
        version=row.version,
        alias=row.alias,
        requester=row.requester,
        status=ApprovalStatus(row.status),
        comment=row.comment,
        gates=tuple(json.loads(row.gates)),
        decided_by=row.decided_by,
        decision_comment=row.decision_comment,
        created_at=row.created_at,
        decided_at=row.decided_at,
        applied_at=row.applied_at,
    )


class SqlGovernance(SqlAuditTrail):
    """The governance repository (see :class:`mlcycle.ports.governance.GovernanceRepository`)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._db = db

    # -- users ------------------------------------------------------------------------------

    def create_user(self, user: User, *, user_id: str, password_hash: str | None) -> User:
        try:
            with self._db.write() as conn:
                conn.execute(
                    insert(USERS).values(
                        id=user_id,
                        name=user.name,
                        role=user.role.value,
                        disabled=user.disabled,
                        password_hash=password_hash,
                        created_at=user.created_at,
                        updated_at=user.updated_at,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(f"user {user.name!r} exists already", field="name") from exc
        return self.get_user(user.name)

    def get_user(self, name: str) -> User:
        with self._db.read() as conn:
            row = conn.execute(select(USERS).where(U.name == name)).first()
        if row is None:
            raise _no_user(name)
        return _user(row)

    def list_users(self) -> list[User]:
        with self._db.read() as conn:
            return [_user(r) for r in conn.execute(select(USERS).order_by(U.name))]

    def update_user(
        self,
        name: str,
        *,
        updated_at: int,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> User:
        values: dict[str, Any] = {"updated_at": updated_at}
        if role is not None:
            values["role"] = role.value
        if disabled is not None:
            values["disabled"] = disabled
        if password_hash is not None:
            values["password_hash"] = password_hash
        with self._db.write() as conn:
            if conn.execute(update(USERS).where(U.name == name).values(values)).rowcount == 0:
                raise _no_user(name)
        return self.get_user(name)

    def password_hash(self, name: str) -> str | None:
        with self._db.read() as conn:
            row = conn.execute(select(U.password_hash).where(U.name == name)).first()
        if row is None:
            raise _no_user(name)
        found: str | None = row.password_hash
        return found

    # -- tokens -----------------------------------------------------------------------------

    def create_token(self, token: ApiToken, *, token_hash: str) -> ApiToken:
        with self._db.write() as conn:
            user_id = conn.execute(select(U.id).where(U.name == token.user)).scalar()
            if user_id is None:
                raise _no_user(token.user)
            conn.execute(
                insert(API_TOKENS).values(
                    id=token.id,
                    user_id=user_id,
                    name=token.name,
                    token_hash=token_hash,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                    revoked_at=None,
                )
            )
        return token

    def token_for_auth(self, token_id: str) -> tuple[ApiToken, str, User] | None:
        stmt = (
            select(API_TOKENS, U.name.label("user_name"), U.role, U.disabled, U.password_hash)
            .add_columns(U.created_at.label("user_created_at"), U.updated_at.label("user_upd"))
            .join(USERS, U.id == T.user_id)
            .where(T.id == token_id)
        )
        with self._db.read() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        user = User(
            name=row.user_name,
            role=Role(row.role),
            disabled=bool(row.disabled),
            has_password=row.password_hash is not None,
            created_at=row.user_created_at,
            updated_at=row.user_upd,
        )
        return _token(row, row.user_name), row.token_hash, user

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        stmt = select(API_TOKENS, U.name.label("user_name")).join(USERS, U.id == T.user_id)
        if user is not None:
            stmt = stmt.where(U.name == user)
        with self._db.read() as conn:
            rows = conn.execute(stmt.order_by(T.created_at, T.id)).all()
        return [_token(r, r.user_name) for r in rows]

    def revoke_token(self, token_id: str, *, at: int) -> ApiToken:
        with self._db.write() as conn:
            found = conn.execute(
                update(API_TOKENS)
                .where(T.id == token_id, T.revoked_at.is_(None))
                .values(revoked_at=at)
            ).rowcount
            if found == 0 and conn.execute(select(T.id).where(T.id == token_id)).first() is None:
                raise NotFoundError(f"no token with ID {token_id!r}", field="token")
        return next(t for t in self.list_tokens() if t.id == token_id)

    # -- grants -----------------------------------------------------------------------------

    def _user_id(self, name: str) -> str:
        with self._db.read() as conn:
            found: str | None = conn.execute(select(U.id).where(U.name == name)).scalar()
        if found is None:
            raise _no_user(name)
        return found

    def set_grant(self, grant: Grant) -> Grant:
        user_id = self._user_id(grant.user)
        key = (G.user_id == user_id, G.kind == grant.kind.value, G.resource == grant.resource)
        with self._db.write() as conn:
            conn.execute(delete(GRANTS).where(*key))
            conn.execute(
                insert(GRANTS).values(
                    user_id=user_id,
                    kind=grant.kind.value,
                    resource=grant.resource,
                    level=grant.level.value,
                    created_at=grant.created_at,
                )
            )
        return grant

    def delete_grant(self, user: str, kind: ResourceKind, resource: str) -> None:
        user_id = self._user_id(user)
        with self._db.write() as conn:
            gone = conn.execute(
                delete(GRANTS).where(
                    G.user_id == user_id, G.kind == kind.value, G.resource == resource
                )
            ).rowcount
        if gone == 0:
            raise NotFoundError(
                f"user {user!r} has no grant on {kind.value} {resource!r}", field="resource"
            )

    def list_grants(self, user: str | None = None) -> list[Grant]:
        stmt = select(GRANTS, U.name.label("user_name")).join(USERS, U.id == G.user_id)
        if user is not None:
            stmt = stmt.where(U.name == user)
        with self._db.read() as conn:
            rows = conn.execute(stmt.order_by(U.name, G.kind, G.resource)).all()
        return [
            Grant(
                user=r.user_name,
                kind=ResourceKind(r.kind),
                resource=r.resource,
                level=GrantLevel(r.level),
                created_at=r.created_at,
            )
            for r in rows
        ]

    # -- approvals --------------------------------------------------------------------------

    def create_approval(self, approval: Approval) -> Approval:
        with self._db.write() as conn:
            conn.execute(
                insert(APPROVALS).values(
                    id=approval.id,
                    kind=approval.kind.value,
                    target=approval.target,
                    action=approval.action,
                    version=approval.version,
                    alias=approval.alias,
                    requester=approval.requester,
                    status=approval.status.value,
                    comment=approval.comment,
                    gates=json.dumps([dict(g) for g in approval.gates], default=str),
                    decided_by=None,
                    decision_comment=None,
                    created_at=approval.created_at,
                    decided_at=None,
                    applied_at=None,
                )
            )
        return approval

    def get_approval(self, approval_id: str) -> Approval:
        with self._db.read() as conn:
            row = conn.execute(select(APPROVALS).where(P.id == approval_id)).first()
        if row is None:
            raise NotFoundError(f"no approval request with ID {approval_id!r}", field="approval")
        return _approval(row)

    def list_approvals(
        self, *, status: ApprovalStatus | None = None, target: str | None = None
    ) -> list[Approval]:
        stmt = select(APPROVALS)
        if status is not None:
            stmt = stmt.where(P.status == status.value)
        if target is not None:
            stmt = stmt.where(P.target == target)
        with self._db.read() as conn:
            return [_approval(r) for r in conn.execute(stmt.order_by(P.created_at, P.id))]

    def update_approval(
        self, approval_id: str, *, expect: ApprovalStatus, values: Mapping[str, Any]
    ) -> Approval:
        changes = {k: (v.value if isinstance(v, ApprovalStatus) else v) for k, v in values.items()}
        with self._db.write() as conn:
            done = conn.execute(
                update(APPROVALS)
                .where(P.id == approval_id, P.status == expect.value)
                .values(changes)
            ).rowcount
        if done == 0:
            current = self.get_approval(approval_id)  # NotFoundError for an unknown ID
            raise ConflictError(
                f"approval request {approval_id} is {current.status.value}, not {expect.value}",
                field="approval",
            )
        return self.get_approval(approval_id)

    def find_approved(
        self,
        kind: ApprovalKind,
        target: str,
        action: str,
        *,
        version: int | None,
        alias: str | None,
    ) -> Approval | None:
        stmt = select(APPROVALS).where(
            P.kind == kind.value,
            P.target == target,
            P.action == action,
            P.status == ApprovalStatus.APPROVED.value,
        )
        if version is not None:
            stmt = stmt.where(P.version == version)
        if alias is not None:
            stmt = stmt.where(P.alias == alias)
        with self._db.read() as conn:
            row = conn.execute(stmt.order_by(P.created_at, P.id).limit(1)).first()
        return None if row is None else _approval(row)

    # -- protections ------------------------------------------------------------------------

    def set_protection(self, protection: Protection) -> Protection:
        key = (
            R.kind == protection.kind.value,
            R.target == protection.target,
            R.name == protection.name,
        )
        with self._db.write() as conn:
            conn.execute(delete(PROTECTIONS).where(*key))
            conn.execute(
                insert(PROTECTIONS).values(
                    kind=protection.kind.value,
                    target=protection.target,
                    name=protection.name,
                    protected=protection.protected,
                )
            )
        return protection

    def list_protections(self) -> list[Protection]:
        with self._db.read() as conn:
            rows: Sequence[Row[Any]] = conn.execute(
                select(PROTECTIONS).order_by(R.kind, R.target, R.name)
            ).all()
        return [
            Protection(
                kind=ApprovalKind(r.kind), target=r.target, name=r.name, protected=r.protected
            )
            for r in rows
        ]

    # -- retention --------------------------------------------------------------------------

    def forget_artifacts(self, run_id: str, prefix: str) -> int:
        """Drop the index records of a run's artifacts under ``prefix`` (their bytes were
        deleted by retention); returns how many."""
        a = ARTIFACTS.c
        clean = prefix.strip("/")
        with self._db.write() as conn:
            gone = conn.execute(
                delete(ARTIFACTS).where(
                    a.run_id == run_id,
                    (a.path == clean) | a.path.startswith(clean + "/", autoescape=True),
                )
            ).rowcount
        return int(gone or 0)
