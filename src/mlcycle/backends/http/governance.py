"""``HttpGovernance``: users, tokens, grants, approvals, the audit trail, retirement,
model cards, compliance bundles and retention through a tracking server's
``/api/v1/governance`` (the token is ``MLCYCLE_TOKEN``)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from mlcycle.backends.http._wire import entity, get_json, seg, send_json
from mlcycle.entities import ModelVersion
from mlcycle.entities.cards import ModelCard
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
    RetentionReport,
    Role,
    User,
)
from mlcycle.errors import InvalidInputError
from mlcycle.governance.bundle import MANIFEST
from mlcycle.governance.retirement import (
    DEFAULT_PREDICTION_LOG_RETENTION,
    DEFAULT_RETIRED_ARTIFACT_RETENTION,
)
from mlcycle.remote.http import HttpSession

_G = "/api/v1/governance"
_CHUNK = 1 << 20


def _version(name: str, version: int) -> str:
    return f"{_G}/models/{seg(name)}/versions/{seg(version)}"


def _span(value: str | timedelta | int) -> str | int:
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    return value


class HttpGovernance:
    """Governance through a server, acting as the owner of the session's token: every
    method of the in-process governance API, cards, bundles and retention included.

    >>> gov = HttpGovernance(HttpSession("http://127.0.0.1:5000", token="..."))
    >>> gov.export_bundle("churn", 4, "churn-v4.zip")["model"]  # doctest: +SKIP
    'churn'
    """

    def __init__(self, http: HttpSession) -> None:
        self.http = http

    # -- who, users, tokens, grants ---------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        found: dict[str, Any] = get_json(self.http, f"{_G}/whoami")
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
        return entity(
            User, send_json(self.http, "POST", f"{_G}/users", {"name": name, "role": chosen})
        )

    def list_users(self) -> list[User]:
        return [entity(User, u) for u in get_json(self.http, f"{_G}/users")["users"]]

    def set_disabled(self, name: str, disabled: bool = True) -> User:
        done = send_json(self.http, "PATCH", f"{_G}/users/{seg(name)}", {"disabled": disabled})
        return entity(User, done)

    def set_role(self, name: str, role: Role | str) -> User:
        body = {"role": Role(role).value}
        return entity(User, send_json(self.http, "PATCH", f"{_G}/users/{seg(name)}", body))

    def create_token(
        self, user: str, *, expires: str | None = None, name: str | None = None
    ) -> NewToken:
        body = {"user": user, "expires": expires, "name": name}
        made = send_json(self.http, "POST", f"{_G}/tokens", body)
        return NewToken(token=entity(ApiToken, made), secret=made["token"])

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        query = {"user": user} if user else None
        found = get_json(self.http, f"{_G}/tokens", query)["tokens"]
        return [entity(ApiToken, t) for t in found]

    def revoke_token(self, token_id: str) -> ApiToken:
        return entity(ApiToken, send_json(self.http, "POST", f"{_G}/tokens/{seg(token_id)}/revoke"))

    def grant(
        self, user: str, kind: ResourceKind | str, resource: str, level: GrantLevel | str
    ) -> Grant:
        body = {
            "user": user,
            "kind": ResourceKind(kind).value,
            "resource": resource,
            "level": GrantLevel(level).value,
        }
        return entity(Grant, send_json(self.http, "POST", f"{_G}/grants", body))

    def revoke_grant(self, user: str, kind: ResourceKind | str, resource: str) -> None:
        body = {"user": user, "kind": ResourceKind(kind).value, "resource": resource}
        send_json(self.http, "POST", f"{_G}/grants/delete", body)

    def list_grants(self, user: str | None = None) -> list[Grant]:
        query = {"user": user} if user else None
        return [entity(Grant, g) for g in get_json(self.http, f"{_G}/grants", query)["grants"]]

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
        return entity(Protection, send_json(self.http, "POST", f"{_G}/protections", body))

    def protections(self) -> tuple[list[Protection], bool]:
        found = get_json(self.http, f"{_G}/protections")
        rules = [entity(Protection, p) for p in found["protections"]]
        return rules, bool(found["enabled"])

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
        # Not retried: a second request would file a second approval.
        response = self.http.request("POST", f"{_G}/approvals", json=body, idempotent=False)
        return entity(Approval, json.loads(response.content))

    def approve(self, approval_id: str, *, comment: str | None = None) -> Approval:
        path = f"{_G}/approvals/{seg(approval_id)}/approve"
        return entity(Approval, send_json(self.http, "POST", path, {"comment": comment}))

    def reject(self, approval_id: str, *, comment: str | None = None) -> Approval:
        path = f"{_G}/approvals/{seg(approval_id)}/reject"
        return entity(Approval, send_json(self.http, "POST", path, {"comment": comment}))

    def get_approval(self, approval_id: str) -> Approval:
        return entity(Approval, get_json(self.http, f"{_G}/approvals/{seg(approval_id)}"))

    def list_approvals(
        self, *, status: ApprovalStatus | str | None = None, target: str | None = None
    ) -> list[Approval]:
        query: dict[str, str] = {}
        if status is not None:
            query["status"] = ApprovalStatus(status).value
        if target is not None:
            query["target"] = target
        found = get_json(self.http, f"{_G}/approvals", query or None)["approvals"]
        return [entity(Approval, a) for a in found]

    # -- audit trail ------------------------------------------------------------------------

    @staticmethod
    def _audit_params(query: AuditQuery) -> dict[str, Any]:
        found: dict[str, Any] = {"after_seq": query.after_seq, "limit": query.limit}
        for key in ("target", "actor", "action", "since"):
            value = getattr(query, key)
            if value is not None:
                found[key] = value
        return found

    def audit_events(self, query: AuditQuery | None = None) -> list[AuditEvent]:
        ask = self._audit_params(query or AuditQuery())
        return [entity(AuditEvent, e) for e in get_json(self.http, f"{_G}/audit", ask)["events"]]

    def verify_audit(self) -> AuditVerification:
        return entity(AuditVerification, get_json(self.http, f"{_G}/audit/verify"))

    def export_audit(self, query: AuditQuery | None = None) -> Iterator[str]:
        ask = self._audit_params(query or AuditQuery())
        ask.pop("after_seq")
        ask.pop("limit")
        response = self.http.request("GET", f"{_G}/audit/export", params=ask)
        for line in response.text.splitlines(keepends=True):
            if line.strip():
                yield line if line.endswith("\n") else line + "\n"

    # -- retirement -------------------------------------------------------------------------

    def retire(self, name: str, version: int, *, reason: str) -> ModelVersion:
        path = f"{_version(name, version)}/retire"
        return entity(ModelVersion, send_json(self.http, "POST", path, {"reason": reason}))

    def set_legal_hold(
        self, name: str, version: int, *, hold: bool = True, reason: str | None = None
    ) -> ModelVersion:
        path = f"{_version(name, version)}/legal-hold"
        body = {"hold": hold, "reason": reason}
        return entity(ModelVersion, send_json(self.http, "POST", path, body))

    # -- cards, bundles, retention ----------------------------------------------------------

    def card(self, name: str, version: int) -> ModelCard:
        return entity(ModelCard, get_json(self.http, f"{_version(name, version)}/card"))

    def set_card_fields(self, name: str, version: int, **fields: str) -> ModelVersion:
        body = {"fields": fields}
        done = send_json(self.http, "PUT", f"{_version(name, version)}/card", body)
        return entity(ModelVersion, done)

    def export_bundle(self, name: str, version: int, path: str | Path) -> dict[str, Any]:
        """Download the bundle to ``path`` (a partial file until complete); returns its
        manifest, as the in-process call does."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with (
                self.http.stream("GET", f"{_version(name, version)}/bundle") as response,
                open(partial, "wb") as out,
            ):
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        with zipfile.ZipFile(target) as archive:
            manifest: dict[str, Any] = json.loads(archive.read(MANIFEST))
        return manifest

    def apply_retention(
        self,
        *,
        retired_artifacts: str | timedelta | int = DEFAULT_RETIRED_ARTIFACT_RETENTION,
        prediction_logs: str | timedelta | int = DEFAULT_PREDICTION_LOG_RETENTION,
        dry_run: bool = False,
    ) -> RetentionReport:
        body = {
            "retired_artifacts": _span(retired_artifacts),
            "prediction_logs": _span(prediction_logs),
            "dry_run": dry_run,
        }
        return entity(RetentionReport, send_json(self.http, "POST", f"{_G}/retention", body))
