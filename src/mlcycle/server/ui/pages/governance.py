"""The audit trail, with filters and the hash chain's verification."""

from __future__ import annotations

from collections import deque

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
    limit: str = "200",
) -> HTMLResponse:
    """Audit events, newest first, filtered by target (a prefix with ``*``), actor, action."""
    count = int(limit) if limit.isdigit() else 0
    if not 1 <= count <= MAX_EVENTS:
        raise InvalidInputError(
            f"limit must be a whole number from 1 to {MAX_EVENTS}", field="limit"
        )
    query = AuditQuery(target=target or None, actor=actor or None, action=action or None)
    newest = deque(ui.governance.trail.iter_all(query), maxlen=count)  # the last ``count``
    events = list(reversed(newest))
    return page(
        request,
        "audit.html",
        title="Audit trail",
        events=events,
        verification=ui.governance.trail.verify(),
        view={"target": target, "actor": actor, "action": action, "limit": count},
    )
