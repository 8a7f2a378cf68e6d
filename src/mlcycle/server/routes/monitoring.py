"""``/api/v1/monitors`` and ``/api/v1/alerts``: monitors on deployments, running them,
their results, retraining triggers, alert rules, alerts (list, show, acknowledge) and the
HTML report, over the server's monitoring service (every change audited).

Monitors run where the server runs: they read the prediction logs under the server's
artifact location. Answers are entities in the one codec's shape; listings page with
``page_token`` and ``max_results``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import HTMLResponse, Response

from mlcycle.entities.codec import from_json, to_json
from mlcycle.entities.monitoring import Alert, AlertRule, Monitor, MonitorResult, RetrainRun, Window
from mlcycle.monitoring.monitor_page import render_monitor_page
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.paging import (
    DEFAULT_MAX_RESULTS,
    MaxResults,
    PageToken,
    encode_token,
    key_of,
    page,
)
from mlcycle.server.responses import listing, returns
from mlcycle.server.services import Monitoring

router = APIRouter(tags=["monitoring"], responses=ERROR_RESPONSES)

_M = "/api/v1/monitors"
_A = "/api/v1/alerts"
Text = Annotated[str, Field(max_length=100_000)]
MAX_MS = 2**62
Ms = Annotated[int | None, Field(ge=0, le=MAX_MS)]
MsQuery = Annotated[int | None, Query(ge=0, le=MAX_MS, description="ms since the epoch")]
Limit = Annotated[int | None, Query(ge=1, le=1_000_000)]


class MonitorIn(BaseModel):
    """A monitor; ``window`` is a span such as ``1h`` or ``10000rows``, ``reference`` a
    dataset version ``NAME@VERSION`` (or ``[name, version]``), ``schedule`` a span or
    milliseconds."""

    name: Text
    deployment: Text
    window: Any = "1h"
    reference: Any = None
    schedule: Any = None
    min_rows: Any = 30
    retrain: Text | None = None
    retrain_command: Text | None = None
    on_alerts: list[Text] = []
    auto_canary: bool = False
    canary_steps: list[Any] = [10, 50, 100]
    canary_interval: Any = "10m"
    description: Text | None = None


class ScheduleIn(BaseModel):
    schedule: Any = None


class RunIn(BaseModel):
    now: Ms = None


class RunDueIn(BaseModel):
    now: Ms = None
    every: bool = False


class RuleIn(BaseModel):
    on: Text
    name: Text | None = None
    severity: Text = "warning"
    cooldown: Any = "1h"
    webhook: Text | None = None
    secret: Text | None = None
    metric: Text | None = None
    tolerance: Annotated[float | None, Field(allow_inf_nan=False)] = None


class AckIn(BaseModel):
    by: Text | None = None


def _json(value: Any, status_code: int = 200) -> Response:
    return OrjsonResponse(to_json(value), status_code=status_code)


def _window(value: Any) -> Any:
    return from_json(Window, value) if isinstance(value, dict) else value


def _reference(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# -- monitors ---------------------------------------------------------------------------------


@router.post(_M, status_code=201, responses=returns(Monitor, 201))
def create_monitor(body: MonitorIn, monitoring: Monitoring) -> Response:
    """Create a monitor on a deployment (the deployment and reference must exist)."""
    created = monitoring.create(
        body.name,
        body.deployment,
        window=_window(body.window),
        reference=_reference(body.reference),
        schedule=body.schedule,
        min_rows=body.min_rows,
        retrain=body.retrain,
        retrain_command=body.retrain_command,
        on_alerts=body.on_alerts,
        auto_canary=body.auto_canary,
        canary_steps=body.canary_steps,
        canary_interval=body.canary_interval,
        description=body.description,
    )
    return _json(created, 201)


@router.get(_M, responses=returns(listing("monitors", Monitor)))
def list_monitors(
    monitoring: Monitoring,
    deployment: Annotated[str | None, Query(max_length=1000)] = None,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Monitors by name (of one deployment with ``deployment``)."""
    found = sorted(monitoring.list_monitors(deployment), key=lambda m: m.name)
    chosen, token = page(found, key=lambda m: m.name, token=page_token, limit=max_results)
    return OrjsonResponse({"monitors": to_json(chosen), "next_page_token": token})


@router.post(f"{_M}/run-due", responses=returns({"results": [MonitorResult]}))
def run_due(body: RunDueIn, monitoring: Monitoring) -> Response:
    """Run the monitors whose schedule is due (``every``: unscheduled ones too)."""
    results = monitoring.run_due(now=body.now, every=body.every)
    return OrjsonResponse({"results": to_json(results)})


@router.post(f"{_M}/run-all", responses=returns({"results": [MonitorResult]}))
def run_all(body: RunIn, monitoring: Monitoring) -> Response:
    """Run every monitor once, now."""
    return OrjsonResponse({"results": to_json(monitoring.run_all(now=body.now))})


@router.get(f"{_M}/{{name}}", responses=returns(Monitor))
def get_monitor(name: str, monitoring: Monitoring) -> Response:
    return _json(monitoring.get(name))


@router.delete(f"{_M}/{{name}}", status_code=204)
def delete_monitor(name: str, monitoring: Monitoring) -> Response:
    """Delete the monitor with its results, rules, alerts and retraining records."""
    monitoring.delete(name)
    return Response(status_code=204)


@router.put(f"{_M}/{{name}}/schedule", responses=returns(Monitor))
def set_schedule(name: str, body: ScheduleIn, monitoring: Monitoring) -> Response:
    """How often the scheduler runs the monitor (null: only when asked)."""
    return _json(monitoring.replace_schedule(name, body.schedule))


@router.post(f"{_M}/{{name}}/run", responses=returns(MonitorResult))
def run_monitor(name: str, body: RunIn, monitoring: Monitoring) -> Response:
    """Run the monitor once: drift, quality and performance over its window; fires its
    alert rules and retraining."""
    return _json(monitoring.run(name, now=body.now))


@router.post(f"{_M}/{{name}}/retrain", responses=returns(RetrainRun))
def retrain(name: str, monitoring: Monitoring) -> Response:
    """Trigger the monitor's retraining now."""
    return _json(monitoring.retrain(name))


@router.get(f"{_M}/{{name}}/results", responses=returns(listing("results", MonitorResult)))
def results(
    name: str,
    monitoring: Monitoring,
    since: MsQuery = None,
    limit: Limit = None,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Results oldest first (the newest ``limit`` of them when given)."""
    found = monitoring.results(name, since=since, limit=limit)
    chosen, token = page(
        found, key=lambda r: (r.created_at, r.id), token=page_token, limit=max_results
    )
    return OrjsonResponse({"results": to_json(chosen), "next_page_token": token})


@router.get(f"{_M}/{{name}}/retrains", responses=returns(listing("retrains", RetrainRun)))
def retrains(
    name: str,
    monitoring: Monitoring,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Retraining triggers and their outcome, oldest first."""
    found = monitoring.retrains(name)
    chosen, token = page(
        found, key=lambda r: (r.started_at, r.id), token=page_token, limit=max_results
    )
    return OrjsonResponse({"retrains": to_json(chosen), "next_page_token": token})


@router.get(
    f"{_M}/{{name}}/report",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
def report(name: str, monitoring: Monitoring, limit: Limit = None) -> Response:
    """The monitor's report as a self-contained HTML page."""
    page_html = render_monitor_page(monitoring.get(name), monitoring.results(name, limit=limit))
    return HTMLResponse(page_html)


# -- alert rules ------------------------------------------------------------------------------


@router.post(f"{_M}/{{name}}/rules", status_code=201, responses=returns(AlertRule, 201))
def add_rule(name: str, body: RuleIn, monitoring: Monitoring) -> Response:
    """Add an alert rule (``on``: ``drift``, ``drift.COLUMN``, ``quality``, ...)."""
    added = monitoring.add_rule(
        name,
        body.on,
        name=body.name,
        severity=body.severity,
        cooldown=body.cooldown,
        webhook=body.webhook,
        secret=body.secret,
        metric=body.metric,
        tolerance=body.tolerance,
    )
    return _json(added, 201)


@router.get(f"{_M}/{{name}}/rules", responses=returns({"rules": [AlertRule]}))
def list_rules(name: str, monitoring: Monitoring) -> Response:
    return OrjsonResponse({"rules": to_json(monitoring.rules(name))})


@router.delete(f"{_M}/{{name}}/rules/{{rule}}", status_code=204)
def delete_rule(name: str, rule: str, monitoring: Monitoring) -> Response:
    monitoring.delete_rule(name, rule)
    return Response(status_code=204)


# -- alerts -----------------------------------------------------------------------------------


@router.get(_A, responses=returns(listing("alerts", Alert)))
def list_alerts(
    monitoring: Monitoring,
    monitor: Annotated[str | None, Query(max_length=1000)] = None,
    status: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = None,
    page_token: PageToken = None,
    max_results: MaxResults = DEFAULT_MAX_RESULTS,
) -> Response:
    """Alerts, newest first (``status``: open, acknowledged or resolved)."""
    if limit is not None:  # the newest ``limit``, paged in memory
        found = monitoring.alerts(monitor=monitor, status=status, limit=limit)
        chosen, token = page(
            found,
            key=lambda a: (a.created_at, a.id),
            token=page_token,
            limit=max_results,
            descending=True,
        )
    else:  # a keyset page straight from the store
        before = None if page_token is None else key_of(page_token, tuple)
        found = monitoring.alerts(
            monitor=monitor, status=status, limit=max_results + 1, before=before
        )
        chosen = found[:max_results]
        last = chosen[-1] if chosen else None
        more = len(found) > max_results and last is not None
        token = encode_token([last.created_at, last.id]) if more and last else None
    return OrjsonResponse({"alerts": to_json(chosen), "next_page_token": token})


@router.get(f"{_A}/{{alert_id}}", responses=returns(Alert))
def get_alert(alert_id: str, monitoring: Monitoring) -> Response:
    return _json(monitoring.get_alert(alert_id))


@router.post(f"{_A}/{{alert_id}}/ack", responses=returns(Alert))
def ack_alert(alert_id: str, body: AckIn, monitoring: Monitoring) -> Response:
    """Acknowledge an open alert (an acknowledged or resolved one is left as it is)."""
    return _json(monitoring.ack(alert_id, by=body.by))
