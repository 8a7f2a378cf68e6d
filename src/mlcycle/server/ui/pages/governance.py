"""The audit trail, with filters and the hash chain's verification."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlcycle.entities.governance import AuditQuery
from mlcycle.errors import InvalidInputError
from mlcycle.server.ui.deps import Services
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

MAX_EVENTS = 1000


@router.get("/audit")
def audit(
    request: Request,
    ui: Services,
    target: str = "",
    actor: str = "",
    action: str = "",
    limit: int = 200,
) -> HTMLResponse:
    """Audit events, newest first, filtered by target (a prefix with ``*``), actor, action."""
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidInputError(f"limit must be from 1 to {MAX_EVENTS}", field="limit")
    query = AuditQuery(
        target=target or None, actor=actor or None, action=action or None, limit=MAX_EVENTS
    )
    events = list(reversed(ui.governance.trail.events(query)))[:limit]
    return page(
        request,
        "audit.html",
        title="Audit trail",
        events=events,
        verification=ui.governance.trail.verify(),
        view={"target": target, "actor": actor, "action": action, "limit": limit},
    )
