"""``HttpMonitoring``: monitors, results, alert rules and alerts through a tracking
server's ``/api/v1/monitors`` and ``/api/v1/alerts``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlcycle.backends.http._wire import entity, get_json, listed, params, seg, send_json
from mlcycle.entities.codec import list_from_json, to_json
from mlcycle.entities.monitoring import (
    Alert,
    AlertRule,
    AlertStatus,
    Monitor,
    MonitorResult,
    RetrainRun,
    Window,
)
from mlcycle.monitoring.monitors import check_name
from mlcycle.remote.http import HttpSession

_M = "/api/v1/monitors"
_A = "/api/v1/alerts"


def _one(name: str) -> str:
    return f"{_M}/{seg(name)}"


class HttpMonitoring:
    """The monitoring service's public methods (see
    :class:`~mlcycle.monitoring.service.MonitorService`) over HTTP. Monitors run on the
    server, over the prediction logs it keeps.

    >>> monitoring = HttpMonitoring(HttpSession("http://127.0.0.1:5000"))
    >>> monitoring.run("churn-drift").status  # doctest: +SKIP
    """

    def __init__(self, http: HttpSession) -> None:
        self.http = http

    def create(
        self,
        name: str,
        deployment: str,
        *,
        window: str | Window = "1h",
        reference: str | tuple[str, int] | None = None,
        schedule: str | int | None = None,
        min_rows: int = 30,
        retrain: str | None = None,
        retrain_command: str | None = None,
        on_alerts: Sequence[str] = (),
        auto_canary: bool = False,
        canary_steps: Sequence[int] = (10, 50, 100),
        canary_interval: str | float = "10m",
        description: str | None = None,
    ) -> Monitor:
        name = check_name(name)  # the local check: a name with '/' has no route
        body = {
            "name": name,
            "deployment": deployment,
            "window": to_json(window),
            "reference": to_json(reference),
            "schedule": schedule,
            "min_rows": min_rows,
            "retrain": retrain,
            "retrain_command": retrain_command,
            "on_alerts": list(on_alerts),
            "auto_canary": auto_canary,
            "canary_steps": list(canary_steps),
            "canary_interval": canary_interval,
            "description": description,
        }
        return entity(Monitor, send_json(self.http, "POST", _M, body))

    def get(self, name: str) -> Monitor:
        return entity(Monitor, get_json(self.http, _one(name)))

    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        return listed(Monitor, self.http, _M, "monitors", params(deployment=deployment))

    def delete(self, name: str) -> None:
        self.http.request("DELETE", _one(name))

    def run(self, name: str, *, now: int | None = None) -> MonitorResult:
        return entity(
            MonitorResult, send_json(self.http, "POST", f"{_one(name)}/run", {"now": now})
        )

    def run_due(self, *, now: int | None = None, every: bool = False) -> list[MonitorResult]:
        found = send_json(self.http, "POST", f"{_M}/run-due", {"now": now, "every": every})
        return list_from_json(MonitorResult, found["results"])

    def run_all(self, *, now: int | None = None) -> list[MonitorResult]:
        found = send_json(self.http, "POST", f"{_M}/run-all", {"now": now})
        return list_from_json(MonitorResult, found["results"])

    def retrain(self, name: str) -> RetrainRun:
        return entity(RetrainRun, send_json(self.http, "POST", f"{_one(name)}/retrain"))

    def results(
        self, name: str, *, since: int | None = None, limit: int | None = None
    ) -> list[MonitorResult]:
        query = params(since=since, limit=limit)
        return listed(MonitorResult, self.http, f"{_one(name)}/results", "results", query)

    def retrains(self, name: str) -> list[RetrainRun]:
        return listed(RetrainRun, self.http, f"{_one(name)}/retrains", "retrains")

    def add_rule(
        self,
        monitor: str,
        on: str,
        *,
        name: str | None = None,
        severity: str = "warning",
        cooldown: str | int = "1h",
        webhook: str | None = None,
        secret: str | None = None,
        metric: str | None = None,
        tolerance: float | None = None,
    ) -> AlertRule:
        body: dict[str, Any] = {
            "on": on,
            "name": name,
            "severity": severity,
            "cooldown": cooldown,
            "webhook": webhook,
            "secret": secret,
            "metric": metric,
            "tolerance": tolerance,
        }
        return entity(AlertRule, send_json(self.http, "POST", f"{_one(monitor)}/rules", body))

    def rules(self, monitor: str) -> list[AlertRule]:
        return list_from_json(AlertRule, get_json(self.http, f"{_one(monitor)}/rules")["rules"])

    def delete_rule(self, monitor: str, name: str) -> None:
        self.http.request("DELETE", f"{_one(monitor)}/rules/{seg(name)}")

    def alerts(
        self,
        *,
        monitor: str | None = None,
        status: str | AlertStatus | None = None,
        limit: int | None = None,
    ) -> list[Alert]:
        wanted = status.value if isinstance(status, AlertStatus) else status
        query = params(monitor=monitor, status=wanted, limit=limit)
        return listed(Alert, self.http, _A, "alerts", query)

    def get_alert(self, alert_id: str) -> Alert:
        return entity(Alert, get_json(self.http, f"{_A}/{seg(alert_id)}"))

    def ack(self, alert_id: str, *, by: str | None = None) -> Alert:
        return entity(Alert, send_json(self.http, "POST", f"{_A}/{seg(alert_id)}/ack", {"by": by}))

    def replace_schedule(self, name: str, schedule: str | int | None) -> Monitor:
        found = send_json(self.http, "PUT", f"{_one(name)}/schedule", {"schedule": schedule})
        return entity(Monitor, found)
