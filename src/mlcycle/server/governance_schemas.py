"""Request and response bodies of ``/api/v1/governance`` (documented in the OpenAPI
schema; the routes answer with the entities' ``to_dict``, which these describe)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from mlcycle.server.schemas import StrictIn


class WhoAmIOut(BaseModel):
    name: str
    role: str | None
    authenticated: bool
    auth_enabled: bool


class UserIn(StrictIn):
    name: str
    role: Literal["viewer", "editor", "approver", "admin"] = "viewer"


class UserPatch(StrictIn):
    role: Literal["viewer", "editor", "approver", "admin"] | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    name: str
    role: str
    disabled: bool
    has_password: bool
    created_at: int
    updated_at: int


class UserList(BaseModel):
    users: list[UserOut]


class TokenIn(StrictIn):
    user: str
    expires: str | None = Field(default=None, description="a duration such as 90d")
    name: str | None = None


class TokenOut(BaseModel):
    id: str
    user: str
    name: str | None
    created_at: int
    expires_at: int | None
    revoked_at: int | None


class NewTokenOut(TokenOut):
    token: str = Field(description="the bearer token, shown this once")


class TokenList(BaseModel):
    tokens: list[TokenOut]


class GrantIn(StrictIn):
    user: str
    kind: Literal["experiment", "model"]
    resource: str
    level: Literal["read", "write", "manage"] = "read"


class GrantKey(BaseModel):
    user: str
    kind: Literal["experiment", "model"]
    resource: str


class GrantOut(BaseModel):
    user: str
    kind: str
    resource: str
    level: str
    created_at: int


class GrantList(BaseModel):
    grants: list[GrantOut]


class ProtectionIn(StrictIn):
    kind: Literal["alias", "deployment"]
    target: str = Field(description="a model name (or * for every model), or a deployment")
    name: str = Field(default="*", description="the alias, for kind alias")
    protected: bool = True


class ProtectionOut(BaseModel):
    kind: str
    target: str
    name: str
    protected: bool


class ProtectionList(BaseModel):
    protections: list[ProtectionOut]
    enabled: bool


class ApprovalIn(StrictIn):
    kind: Literal["alias", "deployment"]
    target: str
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    alias: str | None = None
    action: str | None = None
    comment: str | None = None


class DecisionIn(StrictIn):
    comment: str | None = None


class ApprovalOut(BaseModel):
    id: str
    kind: str
    target: str
    action: str
    version: int | None
    alias: str | None
    requester: str
    status: str
    comment: str | None
    gates: list[dict[str, Any]]
    decided_by: str | None
    decision_comment: str | None
    created_at: int
    decided_at: int | None
    applied_at: int | None
    description: str


class ApprovalList(BaseModel):
    approvals: list[ApprovalOut]


class AuditEventOut(BaseModel):
    seq: int
    id: str
    at: int
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class AuditList(BaseModel):
    events: list[AuditEventOut]


class VerificationOut(BaseModel):
    ok: bool
    events: int
    head: str | None
    first_bad: int | None
    problem: str | None


class RetireIn(StrictIn):
    reason: str = Field(min_length=1)


class HoldIn(StrictIn):
    hold: bool = True
    reason: str | None = None


class VersionOut(BaseModel):
    name: str
    version: int
    run_id: str
    artifact_path: str
    flavor: str | None
    status: str
    description: str | None
    tags: dict[str, str]
    aliases: list[str]
    created_at: int
    updated_at: int
