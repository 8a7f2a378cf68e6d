"""Governance over HTTP: ``/api/v1/governance`` of a tracking server, for
``client.governance`` with an ``http(s)://`` tracking URI (the token is
``MLCYCLE_TOKEN``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import orjson

from mlcycle.entities import ModelVersion, ModelVersionStatus
from mlcycle.entities.governance import (
    ApiToken,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    AuditEvent,
    AuditQuery,
    AuditVerification,
    Grant,
    GrantLevel,
    NewToken,
    Protection,
    ResourceKind,
    Role,
    User,
)
from mlcycle.errors import InvalidInputError
from mlcycle.remote.http import HttpSession

_BASE = "/api/v1/governance"


def _seg(value: str) -> str:
    return quote(value, safe="")


def _user(d: Mapping[str, Any]) -> User:
    return User(
        name=d["name"],
        role=Role(d["role"]),
        disabled=bool(d["disabled"]),
        has_password=bool(d.get("has_password")),
        created_at=int(d["created_at"]),
        updated_at=int(d["updated_at"]),
    )


def _token(d: Mapping[str, Any]) -> ApiToken:
    return ApiToken(
        id=d["id"],
        user=d["user"],
        name=d.get("name"),
        created_at=int(d["created_at"]),
        expires_at=d.get("expires_at"),
        revoked_at=d.get("revoked_at"),
    )


def _grant(d: Mapping[str, Any]) -> Grant:
    return Grant(
        user=d["user"],
        kind=ResourceKind(d["kind"]),
        resource=d["resource"],
        level=GrantLevel(d["level"]),
        created_at=int(d["created_at"]),
    )


def _approval(d: Mapping[str, Any]) -> Approval:
    return Approval(
        id=d["id"],
        kind=ApprovalKind(d["kind"]),
        target=d["target"],
        action=d["action"],
        version=d.get("version"),
        alias=d.get("alias"),
        requester=d["requester"],
        status=ApprovalStatus(d["status"]),
        comment=d.get("comment"),
        gates=tuple(d.get("gates") or ()),
        decided_by=d.get("decided_by"),
        decision_comment=d.get("decision_comment"),
        created_at=int(d["created_at"]),
        decided_at=d.get("decided_at"),
        applied_at=d.get("applied_at"),
    )


def _event(d: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(
        seq=int(d["seq"]),
        id=d["id"],
        at=int(d["at"]),
        actor=d["actor"],
        action=d["action"],
        target=d["target"],
        before=d.get("before"),
        after=d.get("after"),
        prev_hash=d["prev_hash"],
        hash=d["hash"],
    )


def _version(d: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=d["name"],
        version=int(d["version"]),
        run_id=d["run_id"],
        artifact_path=d["artifact_path"],
        flavor=d.get("flavor"),
        status=ModelVersionStatus(d["status"]),
        description=d.get("description"),
        tags=dict(d.get("tags") or {}),
        aliases=tuple(d.get("aliases") or ()),
        created_at=int(d.get("created_at") or 0),
        updated_at=int(d.get("updated_at") or 0),
    )


class RemoteGovernance:
    """The governance API of a tracking server (same methods as the local one)."""

    def __init__(self, http: HttpSession) -> None:
        self.http = http

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return orjson.loads(self.http.request(method, _BASE + path, **kwargs).content)

    # -- who, users, tokens, grants ---------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        found: dict[str, Any] = self._json("GET", "/whoami")
        return found

    def create_user(
        self,
        name: str,
        *,
        role: Role | str = Role.VIEWER,
        admin: bool = False,
        password: str | None = None,
    ) -> User:
        if password is not None:
            raise InvalidInputError(
                "passwords are set on the server machine (`mlcycle users create --password`)",
                field="password",
            )
        chosen = Role.ADMIN.value if admin else Role(role).value
        return _user(self._json("POST", "/users", json={"name": name, "role": chosen}))

    def list_users(self) -> list[User]:
        return [_user(u) for u in self._json("GET", "/users")["users"]]

    def set_disabled(self, name: str, disabled: bool = True) -> User:
        return _user(self._json("PATCH", f"/users/{_seg(name)}", json={"disabled": disabled}))

    def set_role(self, name: str, role: Role | str) -> User:
        body = {"role": Role(role).value}
        return _user(self._json("PATCH", f"/users/{_seg(name)}", json=body))

    def create_token(
        self, user: str, *, expires: str | None = None, name: str | None = None
    ) -> NewToken:
        body = self._json("POST", "/tokens", json={"user": user, "expires": expires, "name": name})
        return NewToken(token=_token(body), secret=body["token"])

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        params = {"user": user} if user else None
        return [_token(t) for t in self._json("GET", "/tokens", params=params)["tokens"]]

    def revoke_token(self, token_id: str) -> ApiToken:
        return _token(self._json("POST", f"/tokens/{_seg(token_id)}/revoke"))

    def grant(
        self, user: str, kind: ResourceKind | str, resource: str, level: GrantLevel | str
    ) -> Grant:
        body = {
            "user": user,
            "kind": ResourceKind(kind).value,
            "resource": resource,
            "level": GrantLevel(level).value,
        }
        return _grant(self._json("POST", "/grants", json=body))

    def revoke_grant(self, user: str, kind: ResourceKind | str, resource: str) -> None:
        body = {"user": user, "kind": ResourceKind(kind).value, "resource": resource}
        self.http.request("POST", f"{_BASE}/grants/delete", json=body)

    def list_grants(self, user: str | None = None) -> list[Grant]:
        params = {"user": user} if user else None
        return [_grant(g) for g in self._json("GET", "/grants", params=params)["grants"]]

    # -- protections and approvals ----------------------------------------------------------

    def protect(
        self, kind: ApprovalKind | str, target: str, name: str = "*", *, protected: bool = True
    ) -> Protection:
        body = {
            "kind": ApprovalKind(kind).value,
            "target": target,
            "name": name,
            "protected": protected,
        }
        d = self._json("POST", "/protections", json=body)
        return Protection(
            kind=ApprovalKind(d["kind"]),
            target=d["target"],
            name=d["name"],
            protected=d["protected"],
        )

    def protections(self) -> tuple[list[Protection], bool]:
        d = self._json("GET", "/protections")
        rules = [
            Protection(
                kind=ApprovalKind(p["kind"]),
                target=p["target"],
                name=p["name"],
                protected=p["protected"],
            )
            for p in d["protections"]
        ]
        return rules, bool(d["enabled"])

    def request_approval(
        self,
        kind: ApprovalKind | str,
        target: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        action: str | None = None,
        comment: str | None = None,
    ) -> Approval:
        body = {
            "kind": ApprovalKind(kind).value,
            "target": target,
            "version": version,
            "alias": alias,
            "action": action,
            "comment": comment,
        }
        return _approval(self._json("POST", "/approvals", json=body, idempotent=False))

    def approve(self, approval_id: str, *, comment: str | None = None) -> Approval:
        path = f"/approvals/{_seg(approval_id)}/approve"
        return _approval(self._json("POST", path, json={"comment": comment}))

    def reject(self, approval_id: str, *, comment: str | None = None) -> Approval:
        path = f"/approvals/{_seg(approval_id)}/reject"
        return _approval(self._json("POST", path, json={"comment": comment}))

    def get_approval(self, approval_id: str) -> Approval:
        return _approval(self._json("GET", f"/approvals/{_seg(approval_id)}"))

    def list_approvals(
        self, *, status: ApprovalStatus | str | None = None, target: str | None = None
    ) -> list[Approval]:
        params: dict[str, str] = {}
        if status is not None:
            params["status"] = ApprovalStatus(status).value
        if target is not None:
            params["target"] = target
        found = self._json("GET", "/approvals", params=params or None)["approvals"]
        return [_approval(a) for a in found]

    # -- audit trail ------------------------------------------------------------------------

    @staticmethod
    def _params(query: AuditQuery) -> dict[str, Any]:
        params: dict[str, Any] = {"after_seq": query.after_seq, "limit": query.limit}
        for key in ("target", "actor", "action", "since"):
            value = getattr(query, key)
            if value is not None:
                params[key] = value
        return params

    def audit_events(self, query: AuditQuery | None = None) -> list[AuditEvent]:
        params = self._params(query or AuditQuery())
        return [_event(e) for e in self._json("GET", "/audit", params=params)["events"]]

    def verify_audit(self) -> AuditVerification:
        d = self._json("GET", "/audit/verify")
        return AuditVerification(
            ok=bool(d["ok"]),
            events=int(d["events"]),
            head=d.get("head"),
            first_bad=d.get("first_bad"),
            problem=d.get("problem"),
        )

    def export_audit(self, query: AuditQuery | None = None) -> Iterator[str]:
        params = self._params(query or AuditQuery())
        params.pop("after_seq")
        params.pop("limit")
        response = self.http.request("GET", f"{_BASE}/audit/export", params=params)
        for line in response.text.splitlines(keepends=True):
            if line.strip():
                yield line if line.endswith("\n") else line + "\n"

    # -- retirement -------------------------------------------------------------------------

    def retire(self, name: str, version: int, *, reason: str) -> ModelVersion:
        path = f"/models/{_seg(name)}/versions/{int(version)}/retire"
        return _version(self._json("POST", path, json={"reason": reason}))

    def set_legal_hold(
        self, name: str, version: int, *, hold: bool = True, reason: str | None = None
    ) -> ModelVersion:
        path = f"/models/{_seg(name)}/versions/{int(version)}/legal-hold"
        return _version(self._json("POST", path, json={"hold": hold, "reason": reason}))
