"""Monitoring: monitors on deployments, their results over time, alert rules, alerts,
webhook deliveries and retraining triggers.

A :class:`Monitor` watches one deployment's prediction log through a :class:`Window` (the
last hour, the last 10,000 rows...) against a reference dataset version. Each run records a
:class:`MonitorResult`; :class:`AlertRule` objects judge results and raise :class:`Alert`
objects, which are delivered (:class:`Delivery`) and may start a :class:`RetrainRun`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mlcycle.errors import InvalidInputError

_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_WINDOW = re.compile(r"^\s*(\d+)\s*(rows|s|m|h|d|w)\s*$")


class WindowKind(StrEnum):
    """A window of the prediction log: a span of time up to now, or the last N rows."""

    TIME = "time"
    ROWS = "rows"


@dataclass(frozen=True)
class Window:
    """``Window.parse("1h")`` (the last hour) or ``Window.parse("10000rows")``.

    ``size`` is milliseconds for a time window and a row count for a row window.

    >>> Window.parse("15m")
    Window(kind=<WindowKind.TIME: 'time'>, size=900000)
    >>> str(Window.parse("10000rows"))
    '10000rows'
    """

    kind: WindowKind
    size: int

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise InvalidInputError(
                f"window size must be a whole number >= 1, got {self.size!r}", field="window"
            )

    @classmethod
    def parse(cls, text: str | Window) -> Window:
        """Parse ``"<n>s|m|h|d|w"`` (a time span) or ``"<n>rows"``."""
        if isinstance(text, Window):
            return text
        match = _WINDOW.match(text) if isinstance(text, str) else None
        if not match or int(match.group(1)) < 1:
            raise InvalidInputError(
                f"window {text!r} is not valid: use a time span such as 1h, 30m, 7d or a row "
                "count such as 10000rows",
                field="window",
            )
        count, unit = int(match.group(1)), match.group(2)
        if unit == "rows":
            return cls(WindowKind.ROWS, count)
        return cls(WindowKind.TIME, count * _UNITS_MS[unit])

    def __str__(self) -> str:
        if self.kind is WindowKind.ROWS:
            return f"{self.size}rows"
        for unit in ("w", "d", "h", "m", "s"):
            if self.size % _UNITS_MS[unit] == 0:
                return f"{self.size // _UNITS_MS[unit]}{unit}"
        return f"{self.size / 1000:g}s"


class RetrainKind(StrEnum):
    """A Python entry point ``module:function`` or a shell command."""

    PYTHON = "python"
    COMMAND = "command"


@dataclass(frozen=True, kw_only=True)
class RetrainPolicy:
    """What to run when chosen alerts fire, and what to do with the version it registers.

    ``on_rules`` names the alert rules that start it (empty: any rule of the monitor).
    ``auto_canary`` starts a canary for a new version that passed its promotion gates;
    ``canary_steps`` and ``canary_interval_s`` shape that canary.
    """

    kind: RetrainKind
    target: str
    on_rules: tuple[str, ...] = ()
    auto_canary: bool = False
    canary_steps: tuple[int, ...] = (10, 50, 100)
    canary_interval_s: float = 600.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "target": self.target,
            "on_rules": list(self.on_rules),
            "auto_canary": self.auto_canary,
            "canary_steps": list(self.canary_steps),
            "canary_interval_s": self.canary_interval_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetrainPolicy:
        return cls(
            kind=RetrainKind(data["kind"]),
            target=str(data["target"]),
            on_rules=tuple(data.get("on_rules", ())),
            auto_canary=bool(data.get("auto_canary", False)),
            canary_steps=tuple(int(s) for s in data.get("canary_steps", (10, 50, 100))),
            canary_interval_s=float(data.get("canary_interval_s", 600.0)),
        )


@dataclass(frozen=True, kw_only=True)
class Monitor:
    """A named watch on a deployment.

    ``reference`` is ``(dataset name, version)`` when given by the user; None means the
    training dataset version of the deployed model's lineage. ``schedule_ms`` is how often
    the scheduler runs it (None: only when asked). A window with fewer than ``min_rows``
    rows (or labelled rows, for performance) records ``insufficient_data``.
    """

    id: str
    name: str
    deployment: str
    window: Window
    reference: tuple[str, int] | None = None
    schedule_ms: int | None = None
    min_rows: int = 30
    retrain: RetrainPolicy | None = None
    description: str | None = None
    created_at: int = 0
    updated_at: int = 0
    last_run_at: int | None = None

    @property
    def reference_ref(self) -> str | None:
        """``name@version`` of the reference the user chose, or None (from lineage)."""
        return None if self.reference is None else f"{self.reference[0]}@{self.reference[1]}"

    def is_due(self, now: int) -> bool:
        """True when the monitor has a schedule and its time has come."""
        if self.schedule_ms is None:
            return False
        return self.last_run_at is None or now - self.last_run_at >= self.schedule_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "deployment": self.deployment,
            "window": str(self.window),
            "reference": self.reference_ref,
            "schedule_ms": self.schedule_ms,
            "min_rows": self.min_rows,
            "retrain": None if self.retrain is None else self.retrain.to_dict(),
            "description": self.description,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_run_at": self.last_run_at,
        }


@dataclass(frozen=True, kw_only=True)
class DeployedModel:
    """What a deployment serves now, as monitoring needs it: the registered model and
    version behind its main model URI (``alias`` when it follows one), and the names of
    its shadow arms (whose logged answers were never returned, so they are left out), and
    the extra types its models may hold (``ServingOptions.trusted``)."""

    deployment: str
    model_uri: str
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    shadow_arms: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()


class ResultStatus(StrEnum):
    """The verdict of one monitor run.

    OK: nothing breached; ISSUES: drift, a quality breach or a performance drop was found;
    INSUFFICIENT_DATA: the window held too few rows to judge; FAILED: the run could not
    compute (the reason is in ``message``).
    """

    OK = "ok"
    ISSUES = "issues"
    INSUFFICIENT_DATA = "insufficient_data"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class MonitorResult:
    """One point of a monitor's time series.

    ``details`` holds the sections of the run as JSON: ``feature_drift`` (a drift report's
    dict, with binned reference and current shares per feature, never raw rows),
    ``prediction_drift``, ``target_drift``, ``quality`` and ``performance``.
    ``drift_share`` and ``dataset_drift`` summarise the feature drift for listings.
    """

    id: str
    monitor: str
    status: ResultStatus
    created_at: int
    window_start: int | None
    window_end: int
    rows: int = 0
    labelled_rows: int = 0
    model_name: str | None = None
    model_version: int | None = None
    reference: str | None = None
    dataset_drift: bool | None = None
    drift_share: float | None = None
    quality_issues: int = 0
    performance_drop: bool | None = None
    message: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str | None:
        """Why the status is not ok, in one line (None when it is ok): the stored message,
        else a summary of the sections that found issues."""
        if self.status is ResultStatus.OK:
            return None
        return self.message or issue_summary(self.details)

    def section(self, name: str) -> dict[str, Any]:
        """One section of ``details`` (an empty dict when the run did not compute it)."""
        value = self.details.get(name)
        return dict(value) if isinstance(value, Mapping) else {}

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "monitor": self.monitor,
            "status": self.status.value,
            "created_at": self.created_at,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "rows": self.rows,
            "labelled_rows": self.labelled_rows,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "reference": self.reference,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "quality_issues": self.quality_issues,
            "performance_drop": self.performance_drop,
            "message": self.message,
            "reason": self.reason,
        }
        if details:
            out["details"] = dict(self.details)
        return out


class AlertCondition(StrEnum):
    """What an alert rule looks for in a result."""

    DATASET_DRIFT = "dataset_drift"
    COLUMN_DRIFT = "column_drift"
    PREDICTION_DRIFT = "prediction_drift"
    TARGET_DRIFT = "target_drift"
    QUALITY = "quality"
    PERFORMANCE = "performance"
    ESTIMATED_PERFORMANCE = "estimated_performance"


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    """A condition on a monitor's results, with its severity and delivery.

    ``column`` is the feature a COLUMN_DRIFT rule watches; ``metric`` and ``tolerance``
    tune a PERFORMANCE rule (default: the experiment's primary metric, any drop beyond
    ``tolerance`` from the version's evaluation baseline). A condition that persists fires
    once, then again only after ``cooldown_ms`` (or once it cleared and came back).
    ``active_since`` and ``last_fired_at`` are the rule's state.
    """

    id: str
    monitor: str
    name: str
    condition: AlertCondition
    severity: Severity = Severity.WARNING
    column: str | None = None
    metric: str | None = None
    tolerance: float = 0.0
    cooldown_ms: int = 3_600_000
    webhook_url: str | None = None
    secret: str | None = None
    created_at: int = 0
    active_since: int | None = None
    last_fired_at: int | None = None

    @property
    def label(self) -> str:
        """The condition as the CLI writes it (``column_drift:age``)."""
        if self.condition is AlertCondition.COLUMN_DRIFT and self.column:
            return f"{self.condition.value}:{self.column}"
        return self.condition.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "monitor": self.monitor,
            "name": self.name,
            "condition": self.label,
            "severity": self.severity.value,
            "metric": self.metric,
            "tolerance": self.tolerance,
            "cooldown_ms": self.cooldown_ms,
            "webhook_url": self.webhook_url,
            "signed": self.secret is not None,
            "created_at": self.created_at,
            "active_since": self.active_since,
            "last_fired_at": self.last_fired_at,
        }


class AlertStatus(StrEnum):
    """OPEN when fired; ACKNOWLEDGED once someone acked it; RESOLVED when its condition
    cleared in a later result."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class DeliveryStatus(StrEnum):
    """Whether an alert reached its webhook."""

    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One delivery of an alert to a channel (``webhook`` or ``log``)."""

    id: str
    alert_id: str
    channel: str
    target: str
    status: DeliveryStatus
    attempts: int
    created_at: int
    status_code: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "target": self.target,
            "status": self.status.value,
            "attempts": self.attempts,
            "status_code": self.status_code,
            "error": self.error,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, kw_only=True)
class Alert:
    """A rule that fired on a result."""

    id: str
    rule: str
    monitor: str
    deployment: str
    result_id: str
    condition: str
    severity: Severity
    message: str
    created_at: int
    status: AlertStatus = AlertStatus.OPEN
    details: Mapping[str, Any] = field(default_factory=dict)
    acked_at: int | None = None
    acked_by: str | None = None
    resolved_at: int | None = None
    deliveries: tuple[Delivery, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "monitor": self.monitor,
            "deployment": self.deployment,
            "result_id": self.result_id,
            "condition": self.condition,
            "severity": self.severity.value,
            "message": self.message,
            "status": self.status.value,
            "details": dict(self.details),
            "created_at": self.created_at,
            "acked_at": self.acked_at,
            "acked_by": self.acked_by,
            "resolved_at": self.resolved_at,
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


class TriggerStatus(StrEnum):
    """The outcome of a retraining trigger.

    NO_NEW_VERSION: the job ran but registered nothing; GATES_FAILED: the new version
    failed its promotion gates; GATES_PASSED: it passed them (no canary asked for);
    CANARY_STARTED: it passed and a canary started; FAILED: the job or a step raised.
    """

    RUNNING = "running"
    NO_NEW_VERSION = "no_new_version"
    GATES_FAILED = "gates_failed"
    GATES_PASSED = "gates_passed"
    CANARY_STARTED = "canary_started"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class RetrainRun:
    """One run of a monitor's retraining job and what came of it."""

    id: str
    monitor: str
    deployment: str
    kind: RetrainKind
    target: str
    status: TriggerStatus
    started_at: int
    alert_id: str | None = None
    finished_at: int | None = None
    model_name: str | None = None
    base_version: int | None = None
    new_version: int | None = None
    gates: tuple[Mapping[str, Any], ...] = ()
    message: str | None = None
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "monitor": self.monitor,
            "deployment": self.deployment,
            "kind": self.kind.value,
            "target": self.target,
            "status": self.status.value,
            "alert_id": self.alert_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "model_name": self.model_name,
            "base_version": self.base_version,
            "new_version": self.new_version,
            "gates": [dict(g) for g in self.gates],
            "message": self.message,
            "output": self.output,
        }


def issue_summary(details: Mapping[str, Any]) -> str:
    """Why a window has issues, in one line: every section that found one, e.g.
    ``"feature drift: 4 of 30 columns (a, b, c, and 1 more); 2 quality issue(s): a
    (range), d (missing); prediction drift (z 0.001)"``."""
    parts: list[str] = []
    features = details.get("feature_drift") or {}
    if features.get("drifted"):
        columns = features.get("columns") or {}
        drifted = [name for name, c in columns.items() if c.get("drifted")]
        parts.append(f"feature drift: {len(drifted)} of {len(columns)} columns ({_first(drifted)})")
    quality = details.get("quality") or {}
    if int(quality.get("issues", 0)):
        found = [
            f"{name} ({str(c['issues'][0]).partition(':')[0]})"
            for name, c in (quality.get("columns") or {}).items()
            if c.get("issues")
        ]
        found += [f"missing column {c}" for c in quality.get("missing_columns") or []]
        parts.append(f"{quality['issues']} quality issue(s): {_first(found)}")
    prediction = details.get("prediction_drift") or {}
    if prediction.get("drifted"):
        score = prediction.get("score")
        shown = "" if score is None else f" {float(score):.3g}"
        parts.append(f"prediction drift ({prediction.get('method')}{shown})")
    performance = details.get("performance") or {}
    if performance.get("drop"):
        metric = performance.get("primary_metric")
        now = (performance.get("metrics") or {}).get(metric)
        then = (performance.get("baseline") or {}).get(metric)
        parts.append(f"performance drop: {metric} {then} -> {now}")
    return "; ".join(parts) or "issues found (see the result's details)"


def _first(items: Sequence[str], n: int = 3) -> str:
    more = f", and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more
