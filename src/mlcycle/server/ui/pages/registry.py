"""The model registry: models, versions, aliases, gate results, lineage, approvals
(request, approve, reject from the page when the user's role allows), the model card
(owner's statement, importance, evaluation charts, estimated against realised
performance, every section) and retirement."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mlcycle.entities.governance import Permission
from mlcycle.errors import InvalidInputError, MlcycleError, NotFoundError
from mlcycle.server.errors import status_for
from mlcycle.server.ui.card_view import card_view
from mlcycle.server.ui.deps import Services, UiServices
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute, form

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)


def _version_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInputError(
            f"version must be a whole number, got {text!r}", field="version"
        ) from None


@router.get("/models")
def models(request: Request, ui: Services) -> HTMLResponse:
    """Every registered model, its latest version and its aliases."""
    return page(request, "models.html", title="Models", models=ui.registry.list_models())


@router.get("/models/{name}")
def model(request: Request, ui: Services, name: str) -> HTMLResponse:
    found = ui.registry.get_model(name)
    versions = list(reversed(ui.registry.list_versions(name, include_retired=True)))
    pending = ui.governance.approvals.list(status="pending", target=name)
    return page(request, "model.html", title=name, model=found, versions=versions, pending=pending)


def _can(ui: UiServices, permission: Permission) -> bool:
    return ui.principal is None or ui.principal.can(permission)


def _version_page(
    request: Request, ui: UiServices, name: str, number: int, *, error: MlcycleError | None = None
) -> HTMLResponse:
    version = ui.registry.get_version(name, number)
    try:
        lineage = ui.registry.lineage(name, number)
    except NotFoundError:
        lineage = None
    approvals = [
        a for a in ui.governance.approvals.list(target=name) if a.version in (None, number)
    ]
    return page(
        request,
        "version.html",
        status_code=status_for(error) if error else 200,
        title=f"{name} v{number}",
        mv=version,
        gates=ui.registry.gate_results(name, number),
        card=card_view(ui.stages.governance.card(name, number)),
        lineage=lineage,
        approvals=approvals,
        approvals_on=ui.governance.auth_enabled,
        can_request=_can(ui, Permission.WRITE),
        can_approve=_can(ui, Permission.APPROVE),
        can_retire=_can(ui, Permission.MANAGE),
        error=error,
    )


@router.get("/models/{name}/versions/{version}")
def version_page(request: Request, ui: Services, name: str, version: str) -> HTMLResponse:
    """One version: aliases, gate results, lineage from dataset to run, approvals."""
    return _version_page(request, ui, name, _version_number(version))


@router.post("/models/{name}/versions/{version}/approvals")
async def request_approval(request: Request, ui: Services, name: str, version: str) -> Response:
    """Ask for the version to take an alias (``alias`` field, default champion)."""
    number = _version_number(version)
    fields = await form(request)
    try:
        await run_in_threadpool(
            lambda: ui.governance.approvals.request(
                "alias",
                name,
                version=number,
                alias=fields.get("alias") or None,
                comment=fields.get("comment") or None,
            )
        )
    except MlcycleError as exc:
        return await run_in_threadpool(_version_page, request, ui, name, number, error=exc)
    return RedirectResponse(f"/models/{name}/versions/{number}", status_code=303)


@router.post("/approvals/{approval_id}/approve")
async def approve(request: Request, ui: Services, approval_id: str) -> Response:
    """Approve a pending request (the approver role, and someone other than the
    requester); an alias request moves the alias."""
    return await _decide(request, ui, approval_id, "approve")


@router.post("/approvals/{approval_id}/reject")
async def reject(request: Request, ui: Services, approval_id: str) -> Response:
    """Reject a pending request."""
    return await _decide(request, ui, approval_id, "reject")


async def _decide(request: Request, ui: UiServices, approval_id: str, decision: str) -> Response:
    fields = await form(request)
    approval = await run_in_threadpool(ui.governance.approvals.get, approval_id)
    act = (
        ui.governance.approvals.approve if decision == "approve" else ui.governance.approvals.reject
    )
    try:
        await run_in_threadpool(lambda: act(approval_id, comment=fields.get("comment") or None))
    except MlcycleError as exc:
        if approval.version is None:
            raise
        return await run_in_threadpool(
            _version_page, request, ui, approval.target, approval.version, error=exc
        )
    back = (
        f"/models/{approval.target}/versions/{approval.version}" if approval.version else "/models"
    )
    return RedirectResponse(back, status_code=303)


@router.post("/models/{name}/versions/{version}/retire")
async def retire(request: Request, ui: Services, name: str, version: str) -> Response:
    """Retire the version for the ``reason`` given (refused while an alias or an active
    deployment still points at it)."""
    number = _version_number(version)
    fields = await form(request)
    try:
        await run_in_threadpool(
            lambda: ui.governance.retirement.retire(name, number, reason=fields.get("reason", ""))
        )
    except MlcycleError as exc:
        return await run_in_threadpool(_version_page, request, ui, name, number, error=exc)
    return RedirectResponse(f"/models/{name}/versions/{number}", status_code=303)
