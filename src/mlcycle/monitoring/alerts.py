"""Alert rules: checking them, judging a result against one, and the cooldown that makes a
persisting condition alert once.

A rule's condition on a result is true, false, or unknown (the window had too little data
to judge). The state machine (:func:`decide`):

* true, and the rule was not active: **fire**; the rule becomes active;
* true, and active: fire again only when ``cooldown`` has passed since it last fired;
* false, and active: the condition **cleared**: the rule's open alerts are resolved;
* unknown: nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from mlcycle.durations import parse_duration_ms
from mlcycle.entities.monitoring import (
    AlertCondition,
    AlertRule,
    MonitorResult,
    ResultStatus,
    Severity,
)
from mlcycle.errors import InvalidInputError
from mlcycle.monitoring.performance import DEFAULT_TOLERANCE, metric_drop


def parse_condition(text: str | AlertCondition) -> tuple[AlertCondition, str | None]:
    """``"dataset_drift"``, ``"column_drift:age"``, ``"quality"``, ``"quality:age"``,
    ``"performance"``... as (condition, column)."""
    if isinstance(text, AlertCondition):
        return text, None
    head, _, rest = str(text).partition(":")
    try:
        condition = AlertCondition(head.strip())
    except ValueError:
        choices = ", ".join(c.value for c in AlertCondition)
        raise InvalidInputError(
            f"unknown alert condition {text!r}: one of {choices} (column_drift:COLUMN)",
            field="on",
        ) from None
    column = rest.strip() or None
    if condition is AlertCondition.COLUMN_DRIFT and column is None:
        raise InvalidInputError("column_drift needs a column: column_drift:COLUMN", field="on")
    if column is not None and condition not in (
        AlertCondition.COLUMN_DRIFT,
        AlertCondition.QUALITY,
    ):
        raise InvalidInputError(
            f"{condition.value} takes no column (only column_drift and quality do)", field="on"
        )
    return condition, column


def parse_severity(severity: str | Severity) -> Severity:
    try:
        return Severity(severity)
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise InvalidInputError(
            f"unknown severity {severity!r}: one of {choices}", field="severity"
        ) from None


def parse_cooldown(cooldown: str | int) -> int:
    if isinstance(cooldown, bool):
        raise InvalidInputError("cooldown must be a duration such as 1h", field="cooldown")
    ms = cooldown if isinstance(cooldown, int) else parse_duration_ms(cooldown, field="cooldown")
    if ms < 0:
        raise InvalidInputError("cooldown must not be negative", field="cooldown")
    return ms


def check_webhook(url: str | None) -> str | None:
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInputError(
            f"webhook {url!r} must be an http:// or https:// URL", field="webhook"
        )
    return url


def default_tolerance(condition: AlertCondition, tolerance: float | None) -> float:
    if tolerance is None:
        performance = (AlertCondition.PERFORMANCE, AlertCondition.ESTIMATED_PERFORMANCE)
        return DEFAULT_TOLERANCE if condition in performance else 0.0
    if tolerance < 0:
        raise InvalidInputError("tolerance must be >= 0", field="tolerance")
    return float(tolerance)


@dataclass(frozen=True)
class Verdict:
    """A rule's condition on one result: ``active`` None when it cannot be judged."""

    active: bool | None
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


def _drift(section: Mapping[str, Any], what: str) -> Verdict:
    drifted = section.get("drifted")
    if drifted is None:
        return Verdict(None, f"{what}: {section.get('status', 'not computed')}")
    score = section.get("score")
    method = section.get("method")
    text = f"{what} {'detected' if drifted else 'not detected'}"
    if score is not None:
        text += f" ({method} score {score:.4g})" if method else f" (score {score:.4g})"
    return Verdict(bool(drifted), text, {"method": method, "score": score})


def judge(rule: AlertRule, result: MonitorResult) -> Verdict:
    """Whether ``rule``'s condition holds on ``result``, with a message for the alert."""
    if result.status in (ResultStatus.INSUFFICIENT_DATA, ResultStatus.FAILED):
        return Verdict(None, f"the window could not be judged ({result.status.value})")
    condition = rule.condition
    if condition is AlertCondition.DATASET_DRIFT:
        if result.dataset_drift is None:
            return Verdict(None, "no feature drift computed")
        share = result.drift_share or 0.0
        drifted = [
            name
            for name, col in result.section("feature_drift").get("columns", {}).items()
            if isinstance(col, Mapping) and col.get("drifted")
        ]
        text = f"dataset drift: {share:.0%} of the features drifted" + (
            f" ({', '.join(sorted(drifted)[:10])})" if drifted else ""
        )
        weighed = result.section("feature_drift").get("importance")
        if isinstance(weighed, Mapping) and weighed.get("summary"):
            text += f"; {weighed['summary']}"
        return Verdict(result.dataset_drift, text, {"drift_share": share, "drifted": drifted})
    if condition is AlertCondition.COLUMN_DRIFT:
        columns = result.section("feature_drift").get("columns", {})
        col = columns.get(rule.column) if isinstance(columns, Mapping) else None
        if not isinstance(col, Mapping):
            return Verdict(None, f"column {rule.column!r} was not compared")
        return _drift(col, f"drift of column {rule.column!r}")
    if condition is AlertCondition.PREDICTION_DRIFT:
        return _drift(result.section("prediction_drift"), "prediction drift")
    if condition is AlertCondition.TARGET_DRIFT:
        return _drift(result.section("target_drift"), "target drift")
    if condition is AlertCondition.QUALITY:
        return _quality(rule, result)
    if condition is AlertCondition.ESTIMATED_PERFORMANCE:
        return _estimated(rule, result)
    return _performance(rule, result)


def _estimated(rule: AlertRule, result: MonitorResult) -> Verdict:
    """The label-free estimate of the rule's metric (default: the primary one) against
    its baseline, allowing the rule's tolerance."""
    section = result.section("estimated_performance")
    metric = rule.metric or section.get("judged_metric")
    estimate = section.get("metrics", {}).get(metric) if metric else None
    if not isinstance(estimate, Mapping):
        return Verdict(None, f"estimated performance: {section.get('status', 'not computed')}")
    base = section.get("baseline", {}).get(metric)
    flat = {
        "metrics": {metric: estimate.get("value")},
        "baseline": {metric: base},
        "direction": section.get("direction"),
        "primary_metric": section.get("primary_metric"),
    }
    drop = metric_drop(flat, metric, rule.tolerance)
    if drop is None:
        return Verdict(None, f"estimated performance: {metric} or its baseline is unknown")
    value, low, high = estimate.get("value"), estimate.get("low"), estimate.get("high")
    text = (
        f"estimated performance {'drop' if drop else 'ok'} (before labels): {metric} "
        f"~ {value:.4g} [{low:.4g}, {high:.4g}] against a baseline of {base:.4g}"
    )
    return Verdict(drop, text, {"metric": metric, "estimate": dict(estimate), "baseline": base})


def _quality(rule: AlertRule, result: MonitorResult) -> Verdict:
    quality = result.section("quality")
    columns = quality.get("columns", {})
    if not quality:
        return Verdict(None, "no data quality computed")
    if rule.column is not None:
        col = columns.get(rule.column) if isinstance(columns, Mapping) else None
        if not isinstance(col, Mapping):
            return Verdict(None, f"column {rule.column!r} was not checked")
        issues = list(col.get("issues", []))
        text = f"data quality of {rule.column!r}: " + ("; ".join(issues) or "ok")
        return Verdict(bool(issues), text, {"issues": {rule.column: issues}})
    found = {
        name: list(col.get("issues", []))
        for name, col in columns.items()
        if isinstance(col, Mapping) and col.get("issues")
    }
    count = sum(len(v) for v in found.values())
    text = f"data quality: {count} issue(s)" + (
        f" in {', '.join(sorted(found)[:10])}" if found else ""
    )
    return Verdict(bool(found), text, {"issues": found})


def _performance(rule: AlertRule, result: MonitorResult) -> Verdict:
    section = result.section("performance")
    metric = rule.metric or section.get("primary_metric")
    if not section or section.get("status") in ("no_labels", "insufficient_data"):
        status = section.get("status", "not computed") if section else "not computed"
        return Verdict(None, f"performance: {status}")
    if metric is None:
        return Verdict(None, "performance: no metric named and the problem has no primary one")
    drop = metric_drop(section, metric, rule.tolerance)
    if drop is None:
        return Verdict(None, f"performance: {metric} or its baseline is unknown")
    value = section["metrics"][metric]
    base = section["baseline"][metric]
    text = (
        f"performance {'drop' if drop else 'ok'}: {metric} = {value:.4g} on "
        f"{section.get('labelled_rows', 0)} labelled rows vs baseline {base:.4g} "
        f"(tolerance {rule.tolerance:g})"
    )
    return Verdict(drop, text, {"metric": metric, "value": value, "baseline": base})


@dataclass(frozen=True)
class Decision:
    """What to do with a rule after judging a result."""

    fire: bool
    cleared: bool
    active_since: int | None
    last_fired_at: int | None

    def changes(self, rule: AlertRule) -> bool:
        return (self.active_since, self.last_fired_at) != (rule.active_since, rule.last_fired_at)


def decide(rule: AlertRule, active: bool | None, now: int) -> Decision:
    """The cooldown state machine (see the module docstring)."""
    if active is None:
        return Decision(False, False, rule.active_since, rule.last_fired_at)
    if not active:
        return Decision(False, rule.active_since is not None, None, rule.last_fired_at)
    if rule.active_since is None:
        return Decision(True, False, now, now)
    if rule.last_fired_at is None or now - rule.last_fired_at >= rule.cooldown_ms:
        return Decision(True, False, rule.active_since, now)
    return Decision(False, False, rule.active_since, rule.last_fired_at)
