"""The monitoring repository on SQLite and PostgreSQL: monitors, results, rules, alerts,
deliveries, retraining runs, and the run claim that keeps two schedulers apart."""

from __future__ import annotations

from dataclasses import replace

import pytest

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
)
from mlcycle.errors import AlreadyExistsError, NotFoundError
from mlcycle.ids import new_id
from mlcycle.store.sql.store import SqlStore

T0 = 1_700_000_000_000


def _monitor(name: str = "m", **kwargs: object) -> Monitor:
    values: dict[str, object] = {
        "id": new_id(),
        "name": name,
        "deployment": "churn",
        "window": Window.parse("1h"),
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(kwargs)
    return Monitor(**values)  # type: ignore[arg-type]


def _result(monitor: str, at: int, **kwargs: object) -> MonitorResult:
    values: dict[str, object] = {
        "id": new_id(),
        "monitor": monitor,
        "status": ResultStatus.OK,
        "created_at": at,
        "window_start": at - 3_600_000,
        "window_end": at,
        "rows": 100,
    }
    values.update(kwargs)
    return MonitorResult(**values)  # type: ignore[arg-type]


def _rule(monitor: str, name: str = "drift") -> AlertRule:
    return AlertRule(
        id=new_id(),
        monitor=monitor,
        name=name,
        condition=AlertCondition.COLUMN_DRIFT,
        column="age",
        severity=Severity.CRITICAL,
        cooldown_ms=60_000,
        webhook_url="http://127.0.0.1:9/hook",
        secret="s3cret",
        created_at=T0,
    )


def _alert(monitor: str, rule: str, result_id: str, at: int) -> Alert:
    return Alert(
        id=new_id(),
        rule=rule,
        monitor=monitor,
        deployment="churn",
        result_id=result_id,
        condition="column_drift:age",
        severity=Severity.CRITICAL,
        message="drift of age",
        created_at=at,
        details={"score": 0.3},
    )


def test_monitor_round_trip_and_names(store: SqlStore) -> None:
    repo = store.monitoring
    policy = RetrainPolicy(
        kind=RetrainKind.PYTHON, target="jobs:retrain", on_rules=("drift",), auto_canary=True
    )
    created = repo.create_monitor(
        _monitor(
            "a",
            reference=("churn-train", 3),
            schedule_ms=900_000,
            retrain=policy,
            window=Window.parse("10000rows"),
            description="watch it",
        )
    )
    assert created.reference == ("churn-train", 3)
    assert created.window == Window.parse("10000rows")
    assert created.retrain == policy
    assert created.schedule_ms == 900_000
    repo.create_monitor(_monitor("b", deployment="other"))
    with pytest.raises(AlreadyExistsError, match="monitor 'a' exists"):
        repo.create_monitor(_monitor("a"))
    assert [m.name for m in repo.list_monitors()] == ["a", "b"]
    assert [m.name for m in repo.list_monitors("other")] == ["b"]
    updated = repo.update_monitor(replace(created, schedule_ms=None, updated_at=T0 + 1))
    assert updated.schedule_ms is None
    assert updated.updated_at == T0 + 1
    with pytest.raises(NotFoundError, match="monitor 'zzz' does not exist"):
        repo.get_monitor("zzz")


def test_claim_run_is_a_compare_and_set(store: SqlStore) -> None:
    repo = store.monitoring
    repo.create_monitor(_monitor("m"))
    assert repo.claim_run("m", expected=None, at=T0)
    assert not repo.claim_run("m", expected=None, at=T0 + 5)  # someone else won the slot
    assert repo.claim_run("m", expected=T0, at=T0 + 10)
    assert repo.get_monitor("m").last_run_at == T0 + 10


def test_results_form_a_time_series(store: SqlStore) -> None:
    repo = store.monitoring
    repo.create_monitor(_monitor("m"))
    for i in range(5):
        repo.add_result(
            _result(
                "m",
                T0 + i * 1000,
                drift_share=i / 4,
                dataset_drift=i >= 2,
                details={"quality": {"issues": i}, "nan": None},
            )
        )
    found = repo.list_results("m")
    assert [r.created_at for r in found] == [T0 + i * 1000 for i in range(5)]
    assert [r.drift_share for r in found] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert found[3].dataset_drift is True
    assert found[3].details["quality"] == {"issues": 3}
    newest = repo.list_results("m", limit=2)
    assert [r.created_at for r in newest] == [T0 + 3000, T0 + 4000]
    assert len(repo.list_results("m", since=T0 + 2000)) == 3
    assert repo.get_result(found[0].id) == found[0]


def test_rules_alerts_and_deliveries(store: SqlStore) -> None:
    repo = store.monitoring
    repo.create_monitor(_monitor("m"))
    rule = repo.add_rule(_rule("m"))
    with pytest.raises(AlreadyExistsError, match="alert rule 'drift'"):
        repo.add_rule(_rule("m"))
    (stored,) = repo.list_rules("m")
    assert stored.column == "age"
    assert stored.secret == "s3cret"
    assert stored.label == ("column_drift:age")
    repo.set_rule_state(rule.id, active_since=T0, last_fired_at=T0)
    assert repo.list_rules("m")[0].active_since == T0

    result = repo.add_result(_result("m", T0))
    first = repo.add_alert(_alert("m", "drift", result.id, T0))
    second = repo.add_alert(_alert("m", "drift", result.id, T0 + 1))
    repo.add_delivery(
        Delivery(
            id=new_id(),
            alert_id=first.id,
            channel="webhook",
            target="http://x/h",
            status=DeliveryStatus.DELIVERED,
            attempts=2,
            status_code=204,
            created_at=T0,
        )
    )
    listed = repo.list_alerts(monitor="m")
    assert [a.id for a in listed] == [second.id, first.id]  # newest first
    (delivery,) = repo.get_alert(first.id).deliveries
    assert (delivery.attempts, delivery.status_code) == (2, 204)

    acked = repo.ack_alert(first.id, at=T0 + 5, by="ana")
    assert acked.status is AlertStatus.ACKNOWLEDGED
    assert acked.acked_by == "ana"
    assert repo.resolve_alerts(rule.id, at=T0 + 9) == 2
    assert {a.status for a in repo.list_alerts()} == {AlertStatus.RESOLVED}
    assert repo.list_alerts(statuses=[AlertStatus.OPEN]) == []
    with pytest.raises(NotFoundError, match="alert 'nope'"):
        repo.ack_alert("nope", at=T0, by=None)

    repo.delete_rule("m", "drift")  # its alerts stay, under the rule's name
    assert repo.list_rules("m") == []
    assert [a.rule for a in repo.list_alerts()] == ["drift", "drift"]


def test_retrain_runs_and_delete_cascades(store: SqlStore) -> None:
    repo = store.monitoring
    repo.create_monitor(_monitor("m"))
    run = RetrainRun(
        id=new_id(),
        monitor="m",
        deployment="churn",
        kind=RetrainKind.COMMAND,
        target="make retrain",
        status=TriggerStatus.RUNNING,
        started_at=T0,
    )
    repo.add_retrain(run)
    done = replace(
        run,
        status=TriggerStatus.GATES_PASSED,
        finished_at=T0 + 5,
        new_version=2,
        model_name="churn",
        gates=({"gate": "threshold", "passed": True},),
    )
    repo.update_retrain(done)
    assert repo.list_retrains("m") == [done]

    rule = repo.add_rule(_rule("m"))
    result = repo.add_result(_result("m", T0))
    alert = repo.add_alert(_alert("m", rule.name, result.id, T0))
    repo.add_delivery(
        Delivery(
            id=new_id(),
            alert_id=alert.id,
            channel="log",
            target="log",
            status=DeliveryStatus.DELIVERED,
            attempts=1,
            created_at=T0,
        )
    )
    repo.delete_monitor("m")
    with pytest.raises(NotFoundError):
        repo.get_monitor("m")
    assert repo.list_alerts() == []
    repo.create_monitor(_monitor("m"))  # the name is free again
    assert repo.list_results("m") == []
    assert repo.list_retrains("m") == []
