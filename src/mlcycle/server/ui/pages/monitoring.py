"""Monitoring: per monitor, drift per feature over time, data quality, performance from
feedback, alerts (acknowledged from the page), retraining history and the HTML report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mlcycle.entities.monitoring import MonitorResult
from mlcycle.monitoring.monitor_page import render_monitor_page
from mlcycle.server.ui.deps import Services
from mlcycle.server.ui.render import page
from mlcycle.server.ui.routing import HtmlRoute, form

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

RESULTS_SHOWN = 30
MAX_ALERTS = 500


def drift_matrix(
    results: Sequence[MonitorResult],
) -> tuple[list[str], list[list[Mapping[str, Any] | None]]]:
    """Features (rows) by result (columns): each cell the feature's drift entry or None."""
    columns = [r.section("feature_drift").get("columns", {}) for r in results]
    features = sorted({name for c in columns if isinstance(c, Mapping) for name in c})
    rows = [
        [
            c.get(f) if isinstance(c, Mapping) and isinstance(c.get(f), Mapping) else None
            for c in columns
        ]
        for f in features
    ]
    return features, rows


def scalars(section: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The section's top-level numbers, strings and booleans (nested details stay in the
    report)."""
    return [(k, v) for k, v in sorted(section.items()) if isinstance(v, int | float | str | bool)]


@router.get("/monitors")
def monitors(request: Request, ui: Services) -> HTMLResponse:
    found = ui.monitoring.list_monitors()
    open_alerts = ui.monitoring.alerts(status="open", limit=MAX_ALERTS)
    counts = {m.name: sum(1 for a in open_alerts if a.monitor == m.name) for m in found}
    return page(request, "monitors.html", title="Monitors", monitors=found, counts=counts)


@router.get("/monitors/{name}")
def monitor(request: Request, ui: Services, name: str) -> HTMLResponse:
    found = ui.monitoring.get(name)
    results = ui.monitoring.results(name, limit=RESULTS_SHOWN)
    features, rows = drift_matrix(results)
    latest = results[-1] if results else None
    return page(
        request,
        "monitor.html",
        title=name,
        m=found,
        results=results,
        features=features,
        rows=rows,
        quality=scalars(latest.section("quality")) if latest else [],
        performance=scalars(latest.section("performance")) if latest else [],
        alerts=ui.monitoring.alerts(monitor=name, limit=100),
        retrains=list(reversed(ui.monitoring.retrains(name))),
        rules=ui.monitoring.rules(name),
    )


@router.get("/monitors/{name}/report")
def monitor_report(ui: Services, name: str) -> HTMLResponse:
    """The monitor's self-contained HTML report, served sandboxed."""
    html = render_monitor_page(ui.monitoring.get(name), ui.monitoring.results(name))
    return HTMLResponse(html, headers={"Content-Security-Policy": "sandbox"})


@router.get("/alerts")
def alerts(request: Request, ui: Services, status: str = "open") -> HTMLResponse:
    """Alerts, newest first, of one status (open, acknowledged, resolved) or all."""
    found = ui.monitoring.alerts(status=status or None, limit=MAX_ALERTS)
    return page(request, "alerts.html", title="Alerts", alerts=found, status=status)


@router.post("/alerts/{alert_id}/ack")
async def ack(request: Request, ui: Services, alert_id: str) -> Response:
    """Acknowledge an alert as the logged-in user, then go back where the form was."""
    fields = await form(request)
    by = ui.principal.name if ui.principal else (fields.get("by") or None)
    alert = await run_in_threadpool(lambda: ui.monitoring.ack(alert_id, by=by))
    back = fields.get("back", "")
    if not back.startswith("/") or back.startswith("//"):
        back = f"/monitors/{alert.monitor}"
    return RedirectResponse(back, status_code=303)
