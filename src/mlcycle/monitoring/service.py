"""The monitor service: monitors on deployments, their runs and results, alert rules,
alerts with their deliveries, and retraining triggers.

:class:`MonitorService` works over the monitoring repository and the deployments port
(both in :mod:`mlcycle.ports.monitoring`), the registry (lineage, gates) and the dataset
service (references); the client builds it (``mlcycle.Client().monitoring``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mlcycle.clock import system_clock
from mlcycle.entities import Problem
from mlcycle.entities.monitoring import (
    Alert,
    AlertRule,
    AlertStatus,
    DeployedModel,
    Monitor,
    MonitorResult,
    ResultStatus,
    RetrainPolicy,
    RetrainRun,
    Window,
    WindowKind,
)
from mlcycle.errors import InvalidInputError, MlcycleError, NotFoundError
from mlcycle.ids import new_id
from mlcycle.monitoring import alerts as rules
from mlcycle.monitoring.checks import evaluate, window_table
from mlcycle.monitoring.delivery import AlertDelivery
from mlcycle.monitoring.monitors import (
    check_name,
    cut_window,
    parse_reference,
    parse_schedule,
    retrain_policy,
    time_bounds,
)
from mlcycle.monitoring.reference import (
    Reference,
    ReferenceCache,
    signature_inputs,
    training_input,
)
from mlcycle.monitoring.triggers import RetrainClient, Retrainer
from mlcycle.monitoring.webhooks import RetryPolicy
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.monitoring import MonitoredDeployments, MonitorRepository, WebhookPoster
from mlcycle.suggest import did_you_mean
from mlcycle.types import Clock, IdFactory

if TYPE_CHECKING:
    from mlcycle.datasets.service import DatasetService
    from mlcycle.registry.service import RegistryService

log = logging.getLogger("mlcycle.monitoring")
#: How many windows of time before a time window the label-free estimate calibrates on.
CALIBRATION_LOOKBACK = 4


class MonitorService:
    """Monitors and everything that hangs off them.

    ``poster`` sends webhooks (None: webhooks are recorded as failed); ``retry`` shapes
    their retries; ``retrain_env`` and ``retrain_client`` are handed to retraining jobs.
    """

    def __init__(
        self,
        repository: MonitorRepository,
        deployments: MonitoredDeployments,
        registry: RegistryService,
        datasets: DatasetService,
        *,
        poster: WebhookPoster | None = None,
        retry: RetryPolicy | None = None,
        audit: AuditSink | None = None,
        retrain_env: Mapping[str, str] | None = None,
        retrain_client: RetrainClient | None = None,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.repository = repository
        self.deployments = deployments
        self.registry = registry
        self._references = ReferenceCache(datasets)
        self._datasets = datasets
        self._audit = audit
        self._clock = clock
        self._new_id = new_id
        self.delivery = AlertDelivery(
            repository,
            poster,
            retry or RetryPolicy(),
            record=self._record,
            clock=clock,
            new_id=new_id,
            sleep=sleep,
        )
        self.retrainer = Retrainer(
            registry,
            self._start_canary,
            clock,
            new_id,
            env=dict(retrain_env or {}),
            client=retrain_client,
        )

    def _record(
        self,
        action: str,
        name: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        if self._audit is not None:
            self._audit.record(f"monitor.{action}", f"monitor:{name}", before=before, after=after)

    # -- monitors ---------------------------------------------------------------------------

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
        """Create a monitor on ``deployment``; see :func:`mlcycle.monitoring.create`."""
        name = check_name(name)
        if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
            raise InvalidInputError("min_rows must be a whole number >= 1", field="min_rows")
        now = self._clock()
        monitor = Monitor(
            id=self._new_id(),
            name=name,
            deployment=deployment,
            window=Window.parse(window),
            reference=parse_reference(reference),
            schedule_ms=parse_schedule(schedule),
            min_rows=min_rows,
            retrain=retrain_policy(
                entry_point=retrain,
                command=retrain_command,
                on_rules=tuple(on_alerts),
                auto_canary=auto_canary,
                canary_steps=tuple(canary_steps),
                canary_interval=canary_interval,
            ),
            description=description,
            created_at=now,
            updated_at=now,
        )
        self._resolve(monitor)  # the deployment and the reference exist, or say why not
        created = self.repository.create_monitor(monitor)
        self._record("create", name, after=created.to_dict())
        return created

    def get(self, name: str) -> Monitor:
        """A monitor. Raises NotFoundError naming it (and the close names)."""
        try:
            return self.repository.get_monitor(name)
        except NotFoundError as exc:
            hint = did_you_mean(name, [m.name for m in self.repository.list_monitors(None)])
            if not hint:
                raise
            raise NotFoundError(f"{exc}{hint}", field=exc.field) from None

    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        return self.repository.list_monitors(deployment)

    def delete(self, name: str) -> None:
        """Delete a monitor with its results, rules, alerts and retraining records."""
        before = self.get(name)
        self.repository.delete_monitor(name)
        self._record("delete", name, before=before.to_dict())

    # -- resolving the reference ------------------------------------------------------------

    def _resolve(self, monitor: Monitor) -> tuple[DeployedModel, Reference]:
        deployed = self.deployments.deployed_model(monitor.deployment)
        lineage = None
        if deployed.name is not None and deployed.version is not None:
            lineage = self.registry.lineage(deployed.name, deployed.version)
        if monitor.reference is not None:
            ref_name, ref_version = monitor.reference
        elif lineage is not None:
            ref_name, ref_version = training_input(lineage)
        else:
            raise NotFoundError(
                f"deployment {monitor.deployment!r} serves {deployed.model_uri}, which is not "
                "a registered model version with lineage; give the monitor a reference "
                "NAME@VERSION",
                field="reference",
            )
        problem = Problem()
        baseline: dict[str, float] = {}
        features: tuple[str, ...] = ()
        if lineage is not None:
            if lineage.experiment is not None:
                problem = lineage.experiment.problem
            baseline = dict(lineage.run.metrics)
            features = signature_inputs(lineage.version.signature)
        reference = self._references.get(
            ref_name, ref_version, features=features, problem=problem, baseline=baseline
        )
        return deployed, reference

    # -- running ----------------------------------------------------------------------------

    def run(self, name: str, *, now: int | None = None) -> MonitorResult:
        """Run monitor ``name`` once over its window ending now; records and returns the
        result, fires its alert rules and any retraining trigger.

        A run that cannot compute (its deployment or reference is gone) records a FAILED
        result saying why; a window with too few rows records INSUFFICIENT_DATA.
        """
        monitor = self.get(name)
        at = self._clock() if now is None else now
        self.repository.claim_run(name, expected=monitor.last_run_at, at=at)
        return self._run(monitor, at)

    def run_due(self, *, now: int | None = None, every: bool = False) -> list[MonitorResult]:
        """Run every monitor whose schedule is due (each at most once per slot, even with
        several schedulers), and with ``every`` also those without a schedule."""
        at = self._clock() if now is None else now
        done = []
        for monitor in self.repository.list_monitors():
            due = monitor.is_due(at) or (every and monitor.schedule_ms is None)
            if not due:
                continue
            if not self.repository.claim_run(monitor.name, expected=monitor.last_run_at, at=at):
                continue  # another scheduler took this slot
            try:
                done.append(self._run(monitor, at))
            except MlcycleError as exc:
                log.warning("monitor %s could not run: %s", monitor.name, exc)
        return done

    def run_all(self, *, now: int | None = None) -> list[MonitorResult]:
        """Run every monitor once, scheduled or not."""
        return [self.run(m.name, now=now) for m in self.repository.list_monitors()]

    def _run(self, monitor: Monitor, now: int) -> MonitorResult:
        try:
            deployed, reference = self._resolve(monitor)
        except MlcycleError as exc:
            failed = MonitorResult(
                id=self._new_id(),
                monitor=monitor.name,
                status=ResultStatus.FAILED,
                created_at=now,
                window_start=time_bounds(monitor.window, now)[0],
                window_end=now,
                message=str(exc),
            )
            self.repository.add_result(failed)
            log.warning("monitor %s failed: %s", monitor.name, exc)
            return failed
        since, until = time_bounds(monitor.window, now)
        frame = self.deployments.predictions(monitor.deployment, since, until)
        window = cut_window(frame, monitor.window, now)
        feedback = self.deployments.feedback(monitor.deployment, window.start, None)
        calibration, calibration_feedback = self._calibration(monitor, window.start, now)
        result = evaluate(
            monitor,
            reference,
            window,
            feedback,
            deployed=deployed,
            result_id=self._new_id(),
            now=now,
            calibration=calibration,
            calibration_feedback=calibration_feedback,
        )
        self.repository.add_result(result)
        fired = self.delivery.judge(monitor, result, now)
        chosen = next((a for a in fired if self.retrainer.should_run(monitor, a)), None)
        if chosen is not None:
            table = window_table(window.frame, feedback, deployed)
            self.retrainer.run(monitor, deployed, table, result, chosen, self._retrain_record)
        return result

    def _calibration(
        self, monitor: Monitor, start: int | None, now: int
    ) -> tuple[Any, Sequence[Any]]:
        """The log before the window (up to :data:`CALIBRATION_LOOKBACK` windows of
        time back) and the labels received for it: what the label-free estimate of the
        window's performance calibrates on."""
        if start is None:
            return None, ()
        since = None
        if monitor.window.kind is WindowKind.TIME:
            since = start - CALIBRATION_LOOKBACK * monitor.window.size
        before = self.deployments.predictions(monitor.deployment, since, start)
        if not len(before):
            return None, ()
        return before, self.deployments.feedback(monitor.deployment, since, None)

    def _retrain_record(self, run: RetrainRun) -> None:
        if run.finished_at is None:
            self.repository.add_retrain(run)
            return
        self.repository.update_retrain(run)
        self._record("retrain", run.monitor, after=run.to_dict())

    def _start_canary(self, deployment: str, model_uri: str, policy: RetrainPolicy) -> object:
        return self.deployments.start_canary(
            deployment, model_uri, steps=policy.canary_steps, interval_s=policy.canary_interval_s
        )

    def retrain(self, name: str) -> RetrainRun:
        """Run monitor ``name``'s retraining job now, on its latest window (no alert)."""
        monitor = self.get(name)
        if monitor.retrain is None:
            raise InvalidInputError(f"monitor {name!r} has no retraining job", field="retrain")
        deployed, _ = self._resolve(monitor)
        now = self._clock()
        results = self.repository.list_results(name, limit=1)
        if not results:
            raise InvalidInputError(
                f"monitor {name!r} has no result yet: run it first", field="name"
            )
        since, until = time_bounds(monitor.window, now)
        window = cut_window(
            self.deployments.predictions(monitor.deployment, since, until), monitor.window, now
        )
        feedback = self.deployments.feedback(monitor.deployment, window.start, None)
        table = window_table(window.frame, feedback, deployed)
        return self.retrainer.run(monitor, deployed, table, results[-1], None, self._retrain_record)

    def results(
        self, name: str, *, since: int | None = None, limit: int | None = None
    ) -> list[MonitorResult]:
        """The monitor's results, oldest first (the newest ``limit`` when given)."""
        self.get(name)  # an unknown name is an error naming the close ones
        return self.repository.list_results(name, since=since, limit=limit)

    def retrains(self, name: str) -> list[RetrainRun]:
        """Every retraining trigger of the monitor and its outcome, oldest first."""
        return self.repository.list_retrains(name)

    # -- alert rules and alerts -------------------------------------------------------------

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
        """Add an alert rule; see :func:`mlcycle.monitoring.add_alert_rule`."""
        condition, column = rules.parse_condition(on)
        label = condition.value if column is None else f"{condition.value}.{column}"
        rule = AlertRule(
            id=self._new_id(),
            monitor=self.get(monitor).name,
            name=check_name(name if name is not None else label[:250], field="rule"),
            condition=condition,
            severity=rules.parse_severity(severity),
            column=column,
            metric=metric,
            tolerance=rules.default_tolerance(condition, tolerance),
            cooldown_ms=rules.parse_cooldown(cooldown),
            webhook_url=rules.check_webhook(webhook),
            secret=secret or None,
            created_at=self._clock(),
        )
        if rule.secret is not None and rule.webhook_url is None:
            raise InvalidInputError("a secret signs webhooks: give a webhook too", field="secret")
        added = self.repository.add_rule(rule)
        self._record("rule_add", monitor, after=added.to_dict())
        return added

    def rules(self, monitor: str) -> list[AlertRule]:
        return self.repository.list_rules(monitor)

    def delete_rule(self, monitor: str, name: str) -> None:
        before = next((r for r in self.repository.list_rules(monitor) if r.name == name), None)
        self.repository.delete_rule(monitor, name)
        self._record("rule_delete", monitor, before=None if before is None else before.to_dict())

    def alerts(
        self,
        *,
        monitor: str | None = None,
        status: str | AlertStatus | None = None,
        limit: int | None = None,
        before: tuple[int, str] | None = None,
    ) -> list[Alert]:
        """Alerts, newest first; ``status`` keeps one status (open, acknowledged,
        resolved); ``before`` (created_at, id) keeps older ones (a keyset page)."""
        statuses: tuple[AlertStatus, ...] = ()
        if status is not None:
            try:
                statuses = (AlertStatus(status),)
            except ValueError:
                choices = ", ".join(s.value for s in AlertStatus)
                raise InvalidInputError(
                    f"unknown alert status {status!r}: one of {choices}", field="status"
                ) from None
        return self.repository.list_alerts(
            monitor=monitor, statuses=statuses, limit=limit, before=before
        )

    def get_alert(self, alert_id: str) -> Alert:
        return self.repository.get_alert(alert_id)

    def ack(self, alert_id: str, *, by: str | None = None) -> Alert:
        """Acknowledge an open alert (an acknowledged or resolved one is left as it is)."""
        before = self.repository.get_alert(alert_id)
        after = self.repository.ack_alert(alert_id, at=self._clock(), by=by)
        if after.status is not before.status:
            self._record(
                "alert_ack",
                after.monitor,
                before={"alert": alert_id, "status": before.status.value},
                after={"alert": alert_id, "status": after.status.value, "by": by},
            )
        return after

    # -- convenience ------------------------------------------------------------------------

    def replace_schedule(self, name: str, schedule: str | int | None) -> Monitor:
        """Change how often the scheduler runs the monitor (None: only when asked)."""
        before = self.get(name)
        after = self.repository.update_monitor(
            replace(before, schedule_ms=parse_schedule(schedule), updated_at=self._clock())
        )
        self._record("update", name, before=before.to_dict(), after=after.to_dict())
        return after
