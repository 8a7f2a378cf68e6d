"""``/api/v1/governance``: who am I, users, tokens, grants, protections, approvals, the
audit trail and retirement.

User, token and grant administration over HTTP needs auth on (without it anybody could
mint a token for later); ``mlcycle users``/``tokens`` on the server machine always work.
What each route needs is in :mod:`mlcycle.server.permissions`.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from mlcycle.entities import ModelVersion
from mlcycle.entities.cards import ModelCard
from mlcycle.entities.codec import to_json
from mlcycle.entities.governance import AuditQuery, Principal, RetentionReport
from mlcycle.errors import InvalidInputError, PermissionDeniedError
from mlcycle.governance.actor import current_actor
from mlcycle.governance.retirement import (
    DEFAULT_PREDICTION_LOG_RETENTION,
    DEFAULT_RETIRED_ARTIFACT_RETENTION,
)
from mlcycle.governance.service import GovernanceService
from mlcycle.server.auth import principal_of
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.governance_schemas import (
    ApprovalIn,
    ApprovalList,
    ApprovalOut,
    AuditList,
    DecisionIn,
    GrantIn,
    GrantKey,
    GrantList,
    GrantOut,
    HoldIn,
    NewTokenOut,
    ProtectionIn,
    ProtectionList,
    ProtectionOut,
    RetireIn,
    TokenIn,
    TokenList,
    TokenOut,
    UserIn,
    UserList,
    UserOut,
    UserPatch,
    VerificationOut,
    VersionOut,
    WhoAmIOut,
)
from mlcycle.server.responses import returns, returns_file
from mlcycle.server.services import Governance

router = APIRouter(prefix="/api/v1/governance", tags=["governance"], responses=ERROR_RESPONSES)

JSONL = "application/x-ndjson"
MAX_MS = 2**62
VersionPath = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
SinceQuery = Annotated[int | None, Query(ge=0, le=MAX_MS, description="ms since the epoch")]


def _text(value: str | None, field: str) -> str | None:
    if value is not None and "\x00" in value:
        raise InvalidInputError(f"{field} must not contain NUL characters", field=field)
    return value


def _audit_query(
    target: str | None,
    actor: str | None,
    action: str | None,
    since: int | None,
    after_seq: int = 0,
    limit: int = 1000,
) -> AuditQuery:
    return AuditQuery(
        target=_text(target, "target"),
        actor=_text(actor, "actor"),
        action=_text(action, "action"),
        since=since,
        after_seq=after_seq,
        limit=limit,
    )


def _governance(request: Request) -> GovernanceService:
    found: GovernanceService = request.state.governance
    return found


Gov = Annotated[GovernanceService, Depends(_governance)]


def _admin_over_http(gov: GovernanceService) -> None:
    if not gov.auth_enabled:
        raise PermissionDeniedError(
            "user, token and grant administration over HTTP needs a server with auth "
            "(`mlcycle server --auth`); on the server machine use `mlcycle users` and "
            "`mlcycle tokens`"
        )


# -- who am I ---------------------------------------------------------------------------------


@router.get("/whoami", response_model=WhoAmIOut)
def whoami(request: Request, gov: Gov) -> Response:
    """The caller as the server sees them, and whether auth is on."""
    principal: Principal | None = principal_of(request)
    return OrjsonResponse(
        {
            "name": principal.name if principal else current_actor(),
            "role": principal.role.value if principal else None,
            "authenticated": principal is not None,
            "auth_enabled": gov.auth_enabled,
        }
    )


# -- users, tokens, grants --------------------------------------------------------------------


@router.get("/users", response_model=UserList)
def list_users(gov: Gov) -> Response:
    _admin_over_http(gov)
    return OrjsonResponse({"users": [u.to_dict() for u in gov.users.list_users()]})


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserIn, gov: Gov) -> Response:
    """Create a user (tokens are created separately)."""
    _admin_over_http(gov)
    return OrjsonResponse(gov.users.create_user(body.name, role=body.role).to_dict(), 201)


@router.patch("/users/{name}", response_model=UserOut)
def update_user(name: str, body: UserPatch, gov: Gov) -> Response:
    """Change a user's role, or disable (enable) them."""
    _admin_over_http(gov)
    user = gov.users.get_user(name)
    if body.role is not None:
        user = gov.users.set_role(name, body.role)
    if body.disabled is not None:
        user = gov.users.set_disabled(name, body.disabled)
    return OrjsonResponse(user.to_dict())


@router.get("/tokens", response_model=TokenList)
def list_tokens(gov: Gov, user: str | None = None) -> Response:
    _admin_over_http(gov)
    return OrjsonResponse({"tokens": [t.to_dict() for t in gov.users.list_tokens(user)]})


@router.post("/tokens", status_code=201, response_model=NewTokenOut)
def create_token(body: TokenIn, gov: Gov) -> Response:
    """A new token for a user; the answer holds the token, shown this once."""
    _admin_over_http(gov)
    made = gov.users.create_token(body.user, expires=body.expires, name=body.name)
    return OrjsonResponse({**made.token.to_dict(), "token": made.secret}, 201)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut)
def revoke_token(token_id: str, gov: Gov) -> Response:
    _admin_over_http(gov)
    return OrjsonResponse(gov.users.revoke_token(token_id).to_dict())


@router.get("/grants", response_model=GrantList)
def list_grants(gov: Gov, user: str | None = None) -> Response:
    _admin_over_http(gov)
    return OrjsonResponse({"grants": [g.to_dict() for g in gov.users.list_grants(user)]})


@router.post("/grants", status_code=201, response_model=GrantOut)
def set_grant(body: GrantIn, gov: Gov) -> Response:
    """Give a user read, write or manage on one experiment (ID) or model (name)."""
    _admin_over_http(gov)
    grant = gov.users.grant(body.user, body.kind, body.resource, body.level)
    return OrjsonResponse(grant.to_dict(), 201)


@router.post("/grants/delete", status_code=204)
def delete_grant(body: GrantKey, gov: Gov) -> Response:
    _admin_over_http(gov)
    gov.users.revoke_grant(body.user, body.kind, body.resource)
    return Response(status_code=204)


# -- protections and approvals ----------------------------------------------------------------


@router.get("/protections", response_model=ProtectionList)
def list_protections(gov: Gov) -> Response:
    """Protection rules; ``enabled`` is false while the server runs without auth."""
    rules = [p.to_dict() for p in gov.approvals.protections()]
    return OrjsonResponse({"protections": rules, "enabled": gov.auth_enabled})


@router.post("/protections", response_model=ProtectionOut)
def set_protection(body: ProtectionIn, gov: Gov) -> Response:
    """Require (or stop requiring) approval for an alias of a model, or a deployment."""
    _admin_over_http(gov)
    rule = gov.approvals.protect(body.kind, body.target, body.name, protected=body.protected)
    return OrjsonResponse(rule.to_dict())


@router.get("/approvals", response_model=ApprovalList)
def list_approvals(
    gov: Gov,
    status: Literal["pending", "approved", "rejected", "applied"] | None = None,
    target: str | None = None,
) -> Response:
    found = gov.approvals.list(status=status, target=_text(target, "target"))
    return OrjsonResponse({"approvals": [a.to_dict() for a in found]})


@router.post("/approvals", status_code=201, response_model=ApprovalOut)
def request_approval(body: ApprovalIn, gov: Gov) -> Response:
    """Ask for approval of a protected change; the answer shows the gate results."""
    made = gov.approvals.request(
        body.kind,
        body.target,
        version=body.version,
        alias=body.alias,
        action=body.action,
        comment=body.comment,
    )
    return OrjsonResponse(made.to_dict(), 201)


@router.get("/approvals/{approval_id}", response_model=ApprovalOut)
def get_approval(approval_id: str, gov: Gov) -> Response:
    return OrjsonResponse(gov.approvals.get(approval_id).to_dict())


@router.post("/approvals/{approval_id}/approve", response_model=ApprovalOut)
def approve(approval_id: str, body: DecisionIn, gov: Gov) -> Response:
    """Approve (not one's own request); an alias request moves the alias at once."""
    return OrjsonResponse(gov.approvals.approve(approval_id, comment=body.comment).to_dict())


@router.post("/approvals/{approval_id}/reject", response_model=ApprovalOut)
def reject(approval_id: str, body: DecisionIn, gov: Gov) -> Response:
    """Reject (an approver), or withdraw one's own request."""
    return OrjsonResponse(gov.approvals.reject(approval_id, comment=body.comment).to_dict())


# -- audit trail ------------------------------------------------------------------------------


@router.get("/audit", response_model=AuditList)
def list_audit(
    gov: Gov,
    target: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: SinceQuery = None,
    after_seq: Annotated[int, Query(ge=0, le=MAX_MS)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """Audit events, oldest first; page with ``after_seq`` (the last ``seq`` seen)."""
    events = gov.trail.events(_audit_query(target, actor, action, since, after_seq, limit))
    return OrjsonResponse({"events": [e.to_dict() for e in events]})


@router.get("/audit/verify", response_model=VerificationOut)
def verify_audit(gov: Gov) -> Response:
    """Recompute the hash chain; names the first event edited, removed or reordered."""
    return OrjsonResponse(gov.trail.verify().to_dict())


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={200: {"content": {JSONL: {"schema": {"type": "string"}}}}},
)
def export_audit(
    gov: Gov,
    target: str | None = None,
    actor: str | None = None,
    since: SinceQuery = None,
) -> Response:
    """Every matching event as JSON lines, with its hashes (for offline verification)."""
    lines: Iterator[str] = gov.trail.export_jsonl(_audit_query(target, actor, None, since))
    first = next(lines, None)  # a failing query fails here, as an error response
    rest = itertools.chain([] if first is None else [first], lines)
    return StreamingResponse(rest, media_type=JSONL)


# -- retirement -------------------------------------------------------------------------------


@router.post("/models/{name}/versions/{version}/retire", response_model=VersionOut)
def retire(name: str, version: VersionPath, body: RetireIn, gov: Gov) -> Response:
    """Retire a version (refused while an alias or an active deployment points at it)."""
    reason = _text(body.reason, "reason") or ""
    retired = gov.retirement.retire(name, version, reason=reason)
    return OrjsonResponse(_version(retired))


@router.post("/models/{name}/versions/{version}/legal-hold", response_model=VersionOut)
def legal_hold(name: str, version: VersionPath, body: HoldIn, gov: Gov) -> Response:
    """Keep (or release) a retired version's artifacts past the retention period."""
    held = gov.retirement.set_legal_hold(name, version, hold=body.hold, reason=body.reason)
    return OrjsonResponse(_version(held))


def _version(v: ModelVersion) -> dict[str, Any]:
    return v.to_dict()


# -- model cards, compliance bundles, retention -------------------------------------------------


class CardFieldsIn(BaseModel):
    """What the owner states on the card: ``intended_use``, ``limitations``,
    ``ethical_considerations``."""

    fields: dict[str, str]


class RetentionIn(BaseModel):
    """Durations such as ``90d`` (or milliseconds)."""

    retired_artifacts: str | int = DEFAULT_RETIRED_ARTIFACT_RETENTION
    prediction_logs: str | int = DEFAULT_PREDICTION_LOG_RETENTION
    dry_run: bool = False


@router.get("/models/{name}/versions/{version}/card", responses=returns(ModelCard))
def model_card(name: str, version: VersionPath, governance: Governance) -> Response:
    """The model card: version, run, data, evaluations, gates, approvals, deployments,
    monitoring and retirement, in the codec's shape."""
    return OrjsonResponse(to_json(governance.card(name, version)))


@router.put("/models/{name}/versions/{version}/card", responses=returns(ModelVersion))
def set_card_fields(
    name: str, version: VersionPath, body: CardFieldsIn, governance: Governance
) -> Response:
    """Set the owner's statements on the card; answers the version."""
    return OrjsonResponse(to_json(governance.set_card_fields(name, version, **body.fields)))


@router.get(
    "/models/{name}/versions/{version}/bundle",
    response_class=FileResponse,
    responses=returns_file("application/zip"),
)
def compliance_bundle(name: str, version: VersionPath, governance: Governance) -> Response:
    """The compliance bundle (a zip with card, lineage, evaluations, audit events and a
    manifest of hashes), written to a spool file and streamed."""
    handle, spool = tempfile.mkstemp(prefix="mlcycle-bundle-", suffix=".zip")
    os.close(handle)
    try:
        governance.export_bundle(name, version, spool)
    except BaseException:
        Path(spool).unlink(missing_ok=True)
        raise
    return FileResponse(
        spool,
        media_type="application/zip",
        filename=f"{name}-v{version}-bundle.zip",
        background=BackgroundTask(Path(spool).unlink, missing_ok=True),
    )


@router.post("/retention", responses=returns(RetentionReport))
def apply_retention(body: RetentionIn, governance: Governance) -> Response:
    """Delete artifacts of versions retired longer ago than ``retired_artifacts`` (unless
    held) and prediction logs older than ``prediction_logs`` (``dry_run``: only say)."""
    report = governance.apply_retention(
        retired_artifacts=body.retired_artifacts,
        prediction_logs=body.prediction_logs,
        dry_run=body.dry_run,
    )
    return OrjsonResponse(to_json(report))
