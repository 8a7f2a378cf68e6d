"""Monitoring's ports: what the monitor service needs from the store
(:class:`MonitorRepository`), from deployments (:class:`MonitoredDeployments`) and from
the network (:class:`WebhookPoster`).

Every repository method raises NotFoundError naming the monitor, rule or alert that does
not exist, and AlreadyExistsError for a taken monitor or rule name.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mlcycle.entities.deployments import Feedback
from mlcycle.entities.monitoring import (
    Alert,
    AlertRule,
    AlertStatus,
    Delivery,
    DeployedModel,
    Monitor,
    MonitorResult,
    RetrainRun,
)


class MonitorRepository(Protocol):
    # -- monitors ---------------------------------------------------------------------------
    def create_monitor(self, monitor: Monitor) -> Monitor: ...
    def get_monitor(self, name: str) -> Monitor: ...
    def list_monitors(self, deployment: str | None = None) -> builtins.list[Monitor]: ...
    def update_monitor(self, monitor: Monitor) -> Monitor:
        """Replace the stored definition of ``monitor.name`` (found by its ID)."""
        ...

    def delete_monitor(self, name: str) -> None:
        """Delete a monitor with its results, rules, alerts and retraining records."""
        ...

    def claim_run(self, name: str, *, expected: int | None, at: int) -> bool:
        """Set ``last_run_at`` to ``at`` if it still is ``expected``: True when this caller
        won the run (two schedulers never run one monitor twice for the same slot)."""
        ...

    # -- results ----------------------------------------------------------------------------
    def add_result(self, result: MonitorResult) -> MonitorResult: ...
    def get_result(self, result_id: str) -> MonitorResult: ...
    def list_results(
        self, monitor: str, *, since: int | None = None, limit: int | None = None
    ) -> builtins.list[MonitorResult]:
        """Results of ``monitor`` oldest first (the newest ``limit`` when given)."""
        ...

    # -- alert rules ------------------------------------------------------------------------
    def add_rule(self, rule: AlertRule) -> AlertRule: ...
    def list_rules(self, monitor: str) -> builtins.list[AlertRule]: ...
    def delete_rule(self, monitor: str, name: str) -> None: ...
    def set_rule_state(
        self, rule_id: str, *, active_since: int | None, last_fired_at: int | None
    ) -> None: ...

    # -- alerts -----------------------------------------------------------------------------
    def add_alert(self, alert: Alert) -> Alert: ...
    def get_alert(self, alert_id: str) -> Alert: ...
    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        statuses: Sequence[AlertStatus] = (),
        limit: int | None = None,
        before: tuple[int, str] | None = None,
    ) -> builtins.list[Alert]:
        """Alerts newest first; with ``before`` (created_at, id), only older ones (a
        keyset page)."""
        ...

    def ack_alert(self, alert_id: str, *, at: int, by: str | None) -> Alert: ...
    def resolve_alerts(self, rule_id: str, *, at: int) -> int:
        """Mark the rule's open and acknowledged alerts resolved; returns how many."""
        ...

    def add_delivery(self, delivery: Delivery) -> None: ...

    # -- retraining -------------------------------------------------------------------------
    def add_retrain(self, run: RetrainRun) -> RetrainRun: ...
    def update_retrain(self, run: RetrainRun) -> RetrainRun: ...
    def list_retrains(self, monitor: str) -> builtins.list[RetrainRun]: ...


class MonitoredDeployments(Protocol):
    """What monitoring reads of deployments (their model, prediction log and feedback)
    and the one change it makes (a canary for a retrained version)."""

    def deployed_model(self, deployment: str) -> DeployedModel:
        """Raises NotFoundError naming a deployment that does not exist."""
        ...

    def predictions(self, deployment: str, since: int | None, until: int | None) -> Any:
        """The prediction log with ``since <= time < until`` as a pandas DataFrame
        (the columns of :mod:`mlcycle.deployments.prediction_logs`)."""
        ...

    def feedback(self, deployment: str, since: int | None, until: int | None) -> Sequence[Feedback]:
        """Labels received with ``since <= at < until``."""
        ...

    def start_canary(
        self, deployment: str, model_uri: str, *, steps: Sequence[int], interval_s: float
    ) -> object:
        """Start a canary rollout of ``model_uri`` on ``deployment``."""
        ...


class WebhookPoster(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float) -> int:
        """POST ``body`` to ``url``; returns the HTTP status code. Raises OSError (or a
        subclass) when the receiver cannot be reached or does not answer in time."""
        ...
