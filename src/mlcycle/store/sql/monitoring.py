"""Monitoring in the SQL store: monitors, results, alert rules, alerts, deliveries and
retraining runs (see :class:`mlcycle.ports.monitoring.MonitorRepository`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mlcycle.entities.monitoring import (
    Alert,
    AlertCondition,
    AlertRule,
    AlertStatus,
    Delivery,
    DeliveryStatus,
    Monitor,
    MonitorResult,
    ResultStatus,
    RetrainKind,
    RetrainPolicy,
    RetrainRun,
    Severity,
    TriggerStatus,
    Window,
    WindowKind,
)
from mlcycle.errors import AlreadyExistsError, NotFoundError
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.schema_monitoring import (
    ALERT_DELIVERIES,
    ALERT_RULES,
    ALERTS,
    MONITOR_RESULTS,
    MONITORS,
    RETRAIN_RUNS,
)
from mlcycle.store.sql.secrets import SecretBox

M = MONITORS.c
R = MONITOR_RESULTS.c
AR = ALERT_RULES.c
A = ALERTS.c
D = ALERT_DELIVERIES.c
T = RETRAIN_RUNS.c


def _no_monitor(name: str) -> NotFoundError:
    return NotFoundError(f"monitor {name!r} does not exist", field="name")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)


def _monitor(r: Row[Any]) -> Monitor:
    return Monitor(
        id=r.id,
        name=r.name,
        deployment=r.deployment,
        window=Window(WindowKind(r.window_kind), int(r.window_size)),
        reference=None
        if r.reference_name is None
        else (r.reference_name, int(r.reference_version)),
        schedule_ms=r.schedule_ms,
        min_rows=r.min_rows,
        retrain=None if r.retrain is None else RetrainPolicy.from_dict(json.loads(r.retrain)),
        description=r.description,
        created_at=r.created_at,
        updated_at=r.updated_at,
        last_run_at=r.last_run_at,
    )


def _monitor_values(m: Monitor) -> dict[str, Any]:
    return {
        "name": m.name,
        "deployment": m.deployment,
        "window_kind": m.window.kind.value,
        "window_size": m.window.size,
        "reference_name": None if m.reference is None else m.reference[0],
        "reference_version": None if m.reference is None else m.reference[1],
        "schedule_ms": m.schedule_ms,
        "min_rows": m.min_rows,
        "retrain": None if m.retrain is None else _dumps(m.retrain.to_dict()),
        "description": m.description,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "last_run_at": m.last_run_at,
    }


def _result(r: Row[Any], monitor: str) -> MonitorResult:
    return MonitorResult(
        id=r.id,
        monitor=monitor,
        status=ResultStatus(r.status),
        created_at=r.created_at,
        window_start=r.window_start,
        window_end=r.window_end,
        rows=r.rows,
        labelled_rows=r.labelled_rows,
        model_name=r.model_name,
        model_version=r.model_version,
        reference=r.reference,
        dataset_drift=r.dataset_drift,
        drift_share=r.drift_share,
        quality_issues=r.quality_issues,
        performance_drop=r.performance_drop,
        message=r.message,
        details=json.loads(r.details),
    )


def _rule(r: Row[Any], monitor: str) -> AlertRule:
    return AlertRule(
        id=r.id,
        monitor=monitor,
        name=r.name,
        condition=AlertCondition(r.condition),
        severity=Severity(r.severity),
        column=r.column,
        metric=r.metric,
        tolerance=r.tolerance,
        cooldown_ms=r.cooldown_ms,
        webhook_url=r.webhook_url,
        secret=r.secret,
        created_at=r.created_at,
        active_since=r.active_since,
        last_fired_at=r.last_fired_at,
    )


#: The columns an alert is read from, in the order :meth:`SqlMonitoring._alerts` unpacks.
_ALERT_COLUMNS = (
    A.id,
    A.monitor_id,
    A.rule_name,
    A.result_id,
    A.condition,
    A.severity,
    A.message,
    A.details,
    A.status,
    A.created_at,
    A.acked_at,
    A.acked_by,
    A.resolved_at,
)

#: Enum members by stored value: a dict lookup per row of a page, not an Enum call.
_SEVERITIES = {s.value: s for s in Severity}
_ALERT_STATUSES = {s.value: s for s in AlertStatus}


def _delivery(r: Row[Any]) -> Delivery:
    return Delivery(
        id=r.id,
        alert_id=r.alert_id,
        channel=r.channel,
        target=r.target,
        status=DeliveryStatus(r.status),
        attempts=r.attempts,
        status_code=r.status_code,
        error=r.error,
        created_at=r.created_at,
    )


def _retrain(r: Row[Any], monitor: str) -> RetrainRun:
    return RetrainRun(
        id=r.id,
        monitor=monitor,
        deployment=r.deployment,
        kind=RetrainKind(r.kind),
        target=r.target,
        status=TriggerStatus(r.status),
        alert_id=r.alert_id,
        started_at=r.started_at,
        finished_at=r.finished_at,
        model_name=r.model_name,
        base_version=r.base_version,
        new_version=r.new_version,
        gates=tuple(json.loads(r.gates)),
        message=r.message,
        output=r.output,
    )


class SqlMonitoring:
    """The monitoring repository over SQLite or PostgreSQL."""

    def __init__(self, db: Database, secrets: SecretBox | None = None) -> None:
        self._db = db
        self._secrets = secrets or SecretBox()

    def _rule(self, r: Row[Any], monitor: str) -> AlertRule:
        return replace(_rule(r, monitor), secret=self._secrets.open(r.secret))

    def reseal_secrets(self) -> int:
        """Re-encrypt every stored webhook secret under the current key (after a key
        rotation, or to encrypt secrets stored before encryption). Returns how many."""
        count = 0
        with self._db.write() as conn:
            rows = conn.execute(
                select(ALERT_RULES.c.id, ALERT_RULES.c.secret).where(
                    ALERT_RULES.c.secret.is_not(None)
                )
            ).all()
            for rule_id, stored in rows:
                sealed = self._secrets.seal(self._secrets.open(stored))
                if sealed != stored:
                    conn.execute(
                        update(ALERT_RULES).where(ALERT_RULES.c.id == rule_id).values(secret=sealed)
                    )
                    count += 1
        return count

    # -- monitors ---------------------------------------------------------------------------

    def create_monitor(self, monitor: Monitor) -> Monitor:
        try:
            with self._db.write() as conn:
                conn.execute(insert(MONITORS).values(id=monitor.id, **_monitor_values(monitor)))
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"monitor {monitor.name!r} exists already", field="name"
            ) from exc
        return self.get_monitor(monitor.name)

    def get_monitor(self, name: str) -> Monitor:
        with self._db.read() as conn:
            row = conn.execute(select(MONITORS).where(M.name == name)).first()
        if row is None:
            raise _no_monitor(name)
        return _monitor(row)

    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        query = select(MONITORS).order_by(M.name)
        if deployment is not None:
            query = query.where(M.deployment == deployment)
        with self._db.read() as conn:
            return [_monitor(r) for r in conn.execute(query)]

    def update_monitor(self, monitor: Monitor) -> Monitor:
        with self._db.write() as conn:
            done = conn.execute(
                update(MONITORS).where(M.id == monitor.id).values(**_monitor_values(monitor))
            )
            if done.rowcount == 0:
                raise _no_monitor(monitor.name)
        return self.get_monitor(monitor.name)

    def delete_monitor(self, name: str) -> None:
        with self._db.write() as conn:
            monitor_id = self._monitor_id(conn, name)
            # Children first: SQLite enforces the cascades only with foreign keys on, and
            # deleting explicitly keeps both backends alike.
            alert_ids = select(A.id).where(A.monitor_id == monitor_id)
            conn.execute(delete(ALERT_DELIVERIES).where(D.alert_id.in_(alert_ids)))
            conn.execute(delete(ALERTS).where(A.monitor_id == monitor_id))
            conn.execute(delete(ALERT_RULES).where(AR.monitor_id == monitor_id))
            conn.execute(delete(MONITOR_RESULTS).where(R.monitor_id == monitor_id))
            conn.execute(delete(RETRAIN_RUNS).where(T.monitor_id == monitor_id))
            conn.execute(delete(MONITORS).where(M.id == monitor_id))

    def claim_run(self, name: str, *, expected: int | None, at: int) -> bool:
        with self._db.write() as conn:
            monitor_id = self._monitor_id(conn, name)
            guard = M.last_run_at.is_(None) if expected is None else M.last_run_at == expected
            done = conn.execute(
                update(MONITORS).where(M.id == monitor_id, guard).values(last_run_at=at)
            )
            return bool(done.rowcount)

    @staticmethod
    def _monitor_id(conn: Connection, name: str) -> str:
        found = conn.execute(select(M.id).where(M.name == name)).scalar()
        if found is None:
            raise _no_monitor(name)
        return str(found)

    def _names(self, conn: Connection, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        rows = conn.execute(select(M.id, M.name).where(M.id.in_(set(ids))))
        return {r.id: r.name for r in rows}

    # -- results ----------------------------------------------------------------------------

    def add_result(self, result: MonitorResult) -> MonitorResult:
        with self._db.write() as conn:
            monitor_id = self._monitor_id(conn, result.monitor)
            conn.execute(
                insert(MONITOR_RESULTS).values(
                    id=result.id,
                    monitor_id=monitor_id,
                    status=result.status.value,
                    created_at=result.created_at,
                    window_start=result.window_start,
                    window_end=result.window_end,
                    rows=result.rows,
                    labelled_rows=result.labelled_rows,
                    model_name=result.model_name,
                    model_version=result.model_version,
                    reference=result.reference,
                    dataset_drift=result.dataset_drift,
                    drift_share=result.drift_share,
                    quality_issues=result.quality_issues,
                    performance_drop=result.performance_drop,
                    message=result.message,
                    details=_dumps(result.details),
                )
            )
        return result

    def get_result(self, result_id: str) -> MonitorResult:
        with self._db.read() as conn:
            row = conn.execute(
                select(MONITOR_RESULTS, M.name.label("monitor_name"))
                .join(MONITORS, M.id == R.monitor_id)
                .where(R.id == result_id)
            ).first()
        if row is None:
            raise NotFoundError(f"monitor result {result_id!r} does not exist", field="result")
        return _result(row, row.monitor_name)

    def list_results(
        self, monitor: str, *, since: int | None = None, limit: int | None = None
    ) -> list[MonitorResult]:
        with self._db.read() as conn:
            monitor_id = self._monitor_id(conn, monitor)
            query = (
                select(MONITOR_RESULTS)
                .where(R.monitor_id == monitor_id)
                .order_by(R.created_at.desc(), R.id.desc())
            )
            if since is not None:
                query = query.where(R.created_at >= since)
            if limit is not None:
                query = query.limit(limit)
            rows = conn.execute(query).all()
        return [_result(r, monitor) for r in reversed(rows)]

    # -- alert rules ------------------------------------------------------------------------

    def add_rule(self, rule: AlertRule) -> AlertRule:
        try:
            with self._db.write() as conn:
                monitor_id = self._monitor_id(conn, rule.monitor)
                conn.execute(
                    insert(ALERT_RULES).values(
                        id=rule.id,
                        monitor_id=monitor_id,
                        name=rule.name,
                        condition=rule.condition.value,
                        column=rule.column,
                        severity=rule.severity.value,
                        metric=rule.metric,
                        tolerance=rule.tolerance,
                        cooldown_ms=rule.cooldown_ms,
                        webhook_url=rule.webhook_url,
                        secret=self._secrets.seal(rule.secret),
                        created_at=rule.created_at,
                        active_since=rule.active_since,
                        last_fired_at=rule.last_fired_at,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"monitor {rule.monitor!r} has an alert rule {rule.name!r} already", field="name"
            ) from exc
        return rule

    def list_rules(self, monitor: str) -> list[AlertRule]:
        with self._db.read() as conn:
            monitor_id = self._monitor_id(conn, monitor)
            rows = conn.execute(
                select(ALERT_RULES)
                .where(AR.monitor_id == monitor_id)
                .order_by(AR.created_at, AR.name)
            ).all()
        return [self._rule(r, monitor) for r in rows]

    def delete_rule(self, monitor: str, name: str) -> None:
        with self._db.write() as conn:
            monitor_id = self._monitor_id(conn, monitor)
            rule_id = conn.execute(
                select(AR.id).where(AR.monitor_id == monitor_id, AR.name == name)
            ).scalar()
            if rule_id is None:
                raise NotFoundError(f"monitor {monitor!r} has no alert rule {name!r}", field="rule")
            conn.execute(update(ALERTS).where(A.rule_id == rule_id).values(rule_id=None))
            conn.execute(delete(ALERT_RULES).where(AR.id == rule_id))

    def set_rule_state(
        self, rule_id: str, *, active_since: int | None, last_fired_at: int | None
    ) -> None:
        with self._db.write() as conn:
            conn.execute(
                update(ALERT_RULES)
                .where(AR.id == rule_id)
                .values(active_since=active_since, last_fired_at=last_fired_at)
            )

    # -- alerts -----------------------------------------------------------------------------

    def add_alert(self, alert: Alert) -> Alert:
        with self._db.write() as conn:
            monitor_id = self._monitor_id(conn, alert.monitor)
            rule_id = conn.execute(
                select(AR.id).where(AR.monitor_id == monitor_id, AR.name == alert.rule)
            ).scalar()
            conn.execute(
                insert(ALERTS).values(
                    id=alert.id,
                    monitor_id=monitor_id,
                    rule_id=rule_id,
                    rule_name=alert.rule,
                    result_id=alert.result_id,
                    condition=alert.condition,
                    severity=alert.severity.value,
                    message=alert.message,
                    details=_dumps(alert.details),
                    status=alert.status.value,
                    created_at=alert.created_at,
                    acked_at=alert.acked_at,
                    acked_by=alert.acked_by,
                    resolved_at=alert.resolved_at,
                )
            )
        return alert

    def get_alert(self, alert_id: str) -> Alert:
        with self._db.read() as conn:
            found = self._alerts(conn, select(*_ALERT_COLUMNS).where(A.id == alert_id))
        if not found:
            raise NotFoundError(f"alert {alert_id!r} does not exist", field="id")
        return found[0]

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        statuses: Sequence[AlertStatus] = (),
        limit: int | None = None,
        before: tuple[int, str] | None = None,
    ) -> list[Alert]:
        with self._db.read() as conn:
            query = select(*_ALERT_COLUMNS).order_by(A.created_at.desc(), A.id.desc())
            if before is not None:
                at, alert_id = before
                query = query.where(
                    or_(A.created_at < at, and_(A.created_at == at, A.id < alert_id))
                )
            if monitor is not None:
                query = query.where(A.monitor_id == self._monitor_id(conn, monitor))
            if statuses:
                query = query.where(A.status.in_([s.value for s in statuses]))
            if limit is not None:
                query = query.limit(limit)
            return self._alerts(conn, query)

    def _alerts(self, conn: Connection, query: Any) -> list[Alert]:
        """The alerts ``query`` (over :data:`_ALERT_COLUMNS`) selects, with deliveries."""
        rows = [tuple(r) for r in conn.execute(query)]  # by position: a page is 1,000 rows
        if not rows:
            return []
        # The page's IDs as a subquery, not 1,000 bound values to compile and check.
        page_ids = query.with_only_columns(A.id)
        monitors = {
            r.id: (r.name, r.deployment)
            for r in conn.execute(
                select(M.id, M.name, M.deployment).where(M.id.in_({r[1] for r in rows}))
            )
        }
        deliveries: dict[str, list[Delivery]] = {r[0]: [] for r in rows}
        for d in conn.execute(
            select(ALERT_DELIVERIES).where(D.alert_id.in_(page_ids)).order_by(D.created_at, D.id)
        ):
            deliveries[d.alert_id].append(_delivery(d))
        return [
            Alert(
                id=alert_id,
                rule=rule_name,
                monitor=monitors[monitor_id][0],
                deployment=monitors[monitor_id][1],
                result_id=result_id,
                condition=condition,
                severity=_SEVERITIES[severity],
                message=message,
                details={} if details == "{}" else json.loads(details),
                status=_ALERT_STATUSES[status],
                created_at=created_at,
                acked_at=acked_at,
                acked_by=acked_by,
                resolved_at=resolved_at,
                deliveries=tuple(deliveries[alert_id]),
            )
            for (
                alert_id,
                monitor_id,
                rule_name,
                result_id,
                condition,
                severity,
                message,
                details,
                status,
                created_at,
                acked_at,
                acked_by,
                resolved_at,
            ) in rows
        ]

    def ack_alert(self, alert_id: str, *, at: int, by: str | None) -> Alert:
        with self._db.write() as conn:
            done = conn.execute(
                update(ALERTS)
                .where(A.id == alert_id, A.status == AlertStatus.OPEN.value)
                .values(status=AlertStatus.ACKNOWLEDGED.value, acked_at=at, acked_by=by)
            )
            if done.rowcount == 0:
                exists = conn.execute(select(A.id).where(A.id == alert_id)).first()
                if exists is None:
                    raise NotFoundError(f"alert {alert_id!r} does not exist", field="id")
        return self.get_alert(alert_id)

    def resolve_alerts(self, rule_id: str, *, at: int) -> int:
        with self._db.write() as conn:
            done = conn.execute(
                update(ALERTS)
                .where(
                    A.rule_id == rule_id,
                    A.status.in_([AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value]),
                )
                .values(status=AlertStatus.RESOLVED.value, resolved_at=at)
            )
            return int(done.rowcount)

    def add_delivery(self, delivery: Delivery) -> None:
        with self._db.write() as conn:
            conn.execute(
                insert(ALERT_DELIVERIES).values(
                    id=delivery.id,
                    alert_id=delivery.alert_id,
                    channel=delivery.channel,
                    target=delivery.target,
                    status=delivery.status.value,
                    attempts=delivery.attempts,
                    status_code=delivery.status_code,
                    error=delivery.error,
                    created_at=delivery.created_at,
                )
            )

    # -- retraining -------------------------------------------------------------------------

    @staticmethod
    def _retrain_values(run: RetrainRun) -> dict[str, Any]:
        return {
            "deployment": run.deployment,
            "alert_id": run.alert_id,
            "kind": run.kind.value,
            "target": run.target,
            "status": run.status.value,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "model_name": run.model_name,
            "base_version": run.base_version,
            "new_version": run.new_version,
            "gates": _dumps([dict(g) for g in run.gates]),
            "message": run.message,
            "output": run.output,
        }

    def add_retrain(self, run: RetrainRun) -> RetrainRun:
        with self._db.write() as conn:
            monitor_id = self._monitor_id(conn, run.monitor)
            conn.execute(
                insert(RETRAIN_RUNS).values(
                    id=run.id, monitor_id=monitor_id, **self._retrain_values(run)
                )
            )
        return run

    def update_retrain(self, run: RetrainRun) -> RetrainRun:
        with self._db.write() as conn:
            done = conn.execute(
                update(RETRAIN_RUNS).where(T.id == run.id).values(**self._retrain_values(run))
            )
            if done.rowcount == 0:
                raise NotFoundError(f"retraining run {run.id!r} does not exist", field="id")
        return run

    def list_retrains(self, monitor: str) -> list[RetrainRun]:
        with self._db.read() as conn:
            monitor_id = self._monitor_id(conn, monitor)
            rows = conn.execute(
                select(RETRAIN_RUNS).where(T.monitor_id == monitor_id).order_by(T.started_at, T.id)
            ).all()
        return [_retrain(r, monitor) for r in rows]
