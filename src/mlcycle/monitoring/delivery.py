"""Judging a result against a monitor's alert rules, and delivering what fires: a line in
the log, and a signed webhook POST (with retries) when its rule names one. Every alert and
every delivery is stored."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from mlcycle.entities.monitoring import (
    Alert,
    AlertRule,
    Delivery,
    DeliveryStatus,
    Monitor,
    MonitorResult,
    Severity,
)
from mlcycle.monitoring import alerts as rules
from mlcycle.monitoring.webhooks import RetryPolicy, deliver, encode
from mlcycle.ports.monitoring import MonitorRepository, WebhookPoster
from mlcycle.types import Clock, IdFactory

ALERT_LOGGER = "mlcycle.monitoring.alerts"
EVENT = "alert.fired"
_LEVELS = {
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.CRITICAL: logging.CRITICAL,
}


def payload(alert: Alert, result: MonitorResult, sent_at: int) -> dict[str, Any]:
    """The JSON body of an alert's webhook."""
    data = alert.to_dict()
    data.pop("deliveries")
    return {
        "event": EVENT,
        "sent_at": sent_at,
        "alert": data,
        "result": result.to_dict(details=False),
    }


Record = Callable[..., None]


class AlertDelivery:
    """Judges results against alert rules (with their cooldown), stores the alerts that
    fire, sends them to the log and their rule's webhook, and records each delivery.

    ``record(action, monitor, before=..., after=...)`` writes the audit trail.
    """

    def __init__(
        self,
        repository: MonitorRepository,
        poster: WebhookPoster | None,
        retry: RetryPolicy,
        *,
        record: Record,
        clock: Clock,
        new_id: IdFactory,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._repository = repository
        self._record = record
        self._poster = poster
        self.retry = retry
        self._clock = clock
        self._new_id = new_id
        self._sleep = sleep
        self._log = logging.getLogger(ALERT_LOGGER)

    def judge(self, monitor: Monitor, result: MonitorResult, now: int) -> list[Alert]:
        """Judge ``result`` with every rule of ``monitor``: update each rule's state,
        resolve the alerts of rules that cleared, store and deliver those that fire."""
        fired: list[Alert] = []
        for rule in self._repository.list_rules(monitor.name):
            verdict = rules.judge(rule, result)
            decision = rules.decide(rule, verdict.active, now)
            if decision.cleared and self._repository.resolve_alerts(rule.id, at=now):
                self._log.info("alert rule %s of monitor %s cleared", rule.name, monitor.name)
            if decision.changes(rule):
                self._repository.set_rule_state(
                    rule.id,
                    active_since=decision.active_since,
                    last_fired_at=decision.last_fired_at,
                )
            if not decision.fire:
                continue
            alert = Alert(
                id=self._new_id(),
                rule=rule.name,
                monitor=monitor.name,
                deployment=monitor.deployment,
                result_id=result.id,
                condition=rule.label,
                severity=rule.severity,
                message=f"monitor {monitor.name!r} on deployment {monitor.deployment!r}: "
                f"{verdict.message}",
                created_at=now,
                details=dict(verdict.details),
            )
            self._repository.add_alert(alert)
            self._record("alert", monitor.name, after=alert.to_dict())
            self.deliver(alert, rule, result)
            fired.append(alert)
        return fired

    def deliver(self, alert: Alert, rule: AlertRule, result: MonitorResult) -> list[Delivery]:
        done = [self._to_log(alert)]
        if rule.webhook_url is not None:
            done.append(self._to_webhook(alert, rule, result))
        for delivery in done:
            self._repository.add_delivery(delivery)
        return done

    def _to_log(self, alert: Alert) -> Delivery:
        self._log.log(
            _LEVELS[alert.severity],
            "ALERT %s [%s] %s (alert %s)",
            alert.rule,
            alert.severity.value,
            alert.message,
            alert.id,
        )
        return Delivery(
            id=self._new_id(),
            alert_id=alert.id,
            channel="log",
            target=ALERT_LOGGER,
            status=DeliveryStatus.DELIVERED,
            attempts=1,
            created_at=self._clock(),
        )

    def _to_webhook(self, alert: Alert, rule: AlertRule, result: MonitorResult) -> Delivery:
        url = str(rule.webhook_url)
        delivery_id = self._new_id()
        error: str | None
        if self._poster is None:
            outcome_status, attempts, code, error = DeliveryStatus.FAILED, 0, None, "no poster"
        else:
            body = encode(payload(alert, result, self._clock()))
            outcome = deliver(
                self._poster,
                url,
                body,
                secret=rule.secret,
                event=EVENT,
                delivery_id=delivery_id,
                policy=self.retry,
                sleep=self._sleep,
            )
            outcome_status = (
                DeliveryStatus.DELIVERED if outcome.delivered else DeliveryStatus.FAILED
            )
            attempts, code, error = outcome.attempts, outcome.status_code, outcome.error
        if outcome_status is DeliveryStatus.FAILED:
            self._log.error(
                "webhook %s for alert %s failed after %d attempt(s): %s",
                url,
                alert.id,
                attempts,
                error,
            )
        return Delivery(
            id=delivery_id,
            alert_id=alert.id,
            channel="webhook",
            target=url,
            status=outcome_status,
            attempts=attempts,
            status_code=code,
            error=error,
            created_at=self._clock(),
        )
