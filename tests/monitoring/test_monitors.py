"""Monitors on a deployment, end to end on SQLite and PostgreSQL: the prediction log is
written by the serving's own writer, labels arrive as feedback, alerts go to a real HTTP
receiver."""

from __future__ import annotations

import time

import pytest

import mlcycle
import mlcycle.monitoring as mon
from mlcycle.entities.governance import AuditQuery
from mlcycle.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlcycle.monitoring.webhooks import SIGNATURE_HEADER, verify
from tests.models._models import churn_frame
from tests.monitoring._receiver import Receiver
from tests.monitoring._setup import (
    DEPLOYMENT,
    TRAINING,
    Setup,
    log_predictions,
    send_feedback,
    shifted,
)

MINUTE = 60_000
HOUR = 60 * MINUTE


def _now() -> int:
    return int(time.time() * 1000)


def test_create_checks_every_option_and_writes_nothing_on_error(deployed: Setup) -> None:
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"window": "soon"}, InvalidInputError, "window 'soon' is not valid"),
        ({"reference": "churn-train"}, InvalidInputError, "NAME@VERSION"),
        ({"reference": "nope@1"}, NotFoundError, "nope"),
        ({"schedule": "10ms"}, InvalidInputError, "at least 1s"),
        ({"min_rows": 0}, InvalidInputError, "min_rows"),
        ({"auto_canary": True}, InvalidInputError, "need a retraining job"),
        ({"retrain": "no colon"}, InvalidInputError, "module:function"),
        ({"retrain": "a:b", "retrain_command": "make"}, InvalidInputError, "not both"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            mon.create("m", DEPLOYMENT, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="deployment"):
        mon.create("m", "no-such-deployment")
    with pytest.raises(InvalidInputError, match="invalid name"):
        mon.create("bad name!", DEPLOYMENT)
    assert mon.list_monitors() == []
    mon.create("m", DEPLOYMENT)
    with pytest.raises(AlreadyExistsError):
        mon.create("m", DEPLOYMENT)


def test_normal_traffic_is_ok_against_the_lineage_reference(deployed: Setup) -> None:
    now = _now()
    ids = log_predictions(deployed, churn_frame(400, seed=5), start_ms=now - 30 * MINUTE)
    labels = churn_frame(400, seed=5)["churned"].tolist()
    send_feedback(deployed, ids[:200], labels[:200])
    mon.create("churn-watch", DEPLOYMENT, window="1h")
    result = deployed.client.monitoring.run("churn-watch", now=now)
    assert result.status is mon.ResultStatus.OK, result.message
    assert result.reference == f"{TRAINING}@1"  # the training data of the deployed version
    assert (result.model_name, result.model_version) == ("churn", 1)
    assert (result.rows, result.labelled_rows) == (400, 200)
    assert result.dataset_drift is False
    assert result.drift_share == 0.0
    assert result.quality_issues == 0
    performance = result.section("performance")
    assert performance["status"] == "ok"
    assert performance["primary_metric"] == "roc_auc"
    assert performance["baseline"]["roc_auc"] == 0.8  # what the version's run logged
    assert result.section("target_drift")["drifted"] is False
    assert set(result.section("feature_drift")["columns"]) == {"tenure", "charges", "calls", "plan"}


def test_injected_drift_alerts_once_through_a_signed_webhook_then_resolves(
    deployed: Setup,
) -> None:
    now = _now()
    log_predictions(deployed, churn_frame(300, seed=5), start_ms=now - 3 * HOUR)
    log_predictions(
        deployed, shifted(churn_frame(300, seed=6)), start_ms=now - 30 * MINUTE, prefix="shifted"
    )
    mon.create("churn-watch", DEPLOYMENT, window="1h")
    with Receiver(fail_first=1) as receiver:
        mon.add_alert_rule(
            "churn-watch",
            "dataset_drift",
            severity="critical",
            cooldown="1h",
            webhook=receiver.url,
            secret="s3cret",
        )
        mon.add_alert_rule("churn-watch", "column_drift:tenure", name="tenure")
        service = deployed.client.monitoring

        before = service.run("churn-watch", now=now - 2 * HOUR - 20 * MINUTE)  # normal hour
        assert before.status is mon.ResultStatus.OK
        assert mon.list_alerts() == []

        drifted = service.run("churn-watch", now=now)
        assert drifted.status is mon.ResultStatus.ISSUES
        assert drifted.dataset_drift is True
        assert drifted.drift_share == 0.5
        columns = drifted.section("feature_drift")["columns"]
        assert {n for n, c in columns.items() if c["drifted"]} == {"tenure", "charges"}
        assert drifted.quality_issues >= 2  # values outside the training range

        alerts = mon.list_alerts(monitor="churn-watch")
        assert sorted(a.rule for a in alerts) == ["dataset_drift", "tenure"]
        critical = next(a for a in alerts if a.rule == "dataset_drift")
        assert critical.severity is mon.Severity.CRITICAL
        assert "50%" in critical.message
        webhook = next(d for d in critical.deliveries if d.channel == "webhook")
        assert (webhook.status.value, webhook.attempts, webhook.status_code) == (
            "delivered",
            2,
            204,
        )
        assert [r.status for r in receiver.requests] == [500, 204]  # retried once
        request = receiver.accepted[0]
        assert verify("s3cret", request.body, request.headers[SIGNATURE_HEADER])
        body = request.json()
        assert body["event"] == "alert.fired"
        assert body["alert"]["id"] == critical.id
        assert body["alert"]["deployment"] == DEPLOYMENT
        assert body["result"]["drift_share"] == 0.5

        # The drift persists: within the cooldown, no new alert and no new webhook.
        service.run("churn-watch", now=now + MINUTE)
        assert len(mon.list_alerts(monitor="churn-watch")) == 2
        assert len(receiver.requests) == 2

    # Normal traffic again: the conditions clear and their alerts resolve.
    log_predictions(deployed, churn_frame(300, seed=8), start_ms=now + 2 * HOUR, prefix="calm")
    calm = service.run("churn-watch", now=now + 2 * HOUR + 30 * MINUTE)
    assert calm.status is mon.ResultStatus.OK
    assert {a.status for a in mon.list_alerts()} == {mon.AlertStatus.RESOLVED}
    assert all(r.active_since is None for r in mon.alert_rules("churn-watch"))
    assert [r.status for r in mon.results("churn-watch")] == [
        mon.ResultStatus.OK,
        mon.ResultStatus.ISSUES,
        mon.ResultStatus.ISSUES,
        mon.ResultStatus.OK,
    ]


def test_ack_and_listing_by_status(deployed: Setup) -> None:
    now = _now()
    log_predictions(deployed, shifted(churn_frame(200, seed=6)), start_ms=now - 10 * MINUTE)
    mon.create("churn-watch", DEPLOYMENT, window="1h")
    mon.add_alert_rule("churn-watch", "quality")
    deployed.client.monitoring.run("churn-watch", now=now)
    (alert,) = mon.list_alerts(status="open")
    acked = mon.ack(alert.id, by="ana")
    assert acked.status is mon.AlertStatus.ACKNOWLEDGED
    assert acked.acked_by == "ana"
    assert mon.list_alerts(status="open") == []
    assert mon.ack(alert.id).acked_by == "ana"  # acking twice changes nothing
    with pytest.raises(InvalidInputError, match="unknown alert status"):
        mon.list_alerts(status="closed")
    with pytest.raises(NotFoundError):
        mon.ack("0" * 32)


def test_too_little_data_is_reported_not_raised(deployed: Setup) -> None:
    now = _now()
    log_predictions(deployed, churn_frame(10, seed=5), start_ms=now - 10 * MINUTE)
    mon.create("churn-watch", DEPLOYMENT, window="1h", min_rows=50)
    mon.add_alert_rule("churn-watch", "dataset_drift")
    thin = deployed.client.monitoring.run("churn-watch", now=now)
    assert thin.status is mon.ResultStatus.INSUFFICIENT_DATA
    assert thin.rows == 10
    assert "at least 50" in (thin.message or "")
    assert thin.details["counts"] == {"rows": 10, "min_rows": 50}
    empty = deployed.client.monitoring.run("churn-watch", now=now + 5 * HOUR)
    assert empty.status is mon.ResultStatus.INSUFFICIENT_DATA
    assert empty.rows == 0
    assert mon.list_alerts() == []


def test_a_row_window_takes_the_last_rows(deployed: Setup) -> None:
    now = _now()
    log_predictions(deployed, churn_frame(300, seed=5), start_ms=now - 5 * HOUR)
    log_predictions(
        deployed, shifted(churn_frame(100, seed=6)), start_ms=now - 3 * HOUR, prefix="late"
    )
    mon.create("last-100", DEPLOYMENT, window="100rows")
    result = deployed.client.monitoring.run("last-100", now=now)
    assert result.rows == 100
    assert result.dataset_drift is True
    assert result.window_start == now - 3 * HOUR  # the first of the last 100 rows


def test_performance_drop_from_delayed_labels_fires_its_rule(deployed: Setup) -> None:
    now = _now()
    frame = churn_frame(300, seed=5)
    ids = log_predictions(deployed, frame, start_ms=now - 20 * MINUTE)
    flipped = (1 - frame["churned"]).tolist()  # the world changed; inputs did not
    send_feedback(deployed, ids, flipped)
    mon.create("churn-watch", DEPLOYMENT, window="1h")
    mon.add_alert_rule("churn-watch", "performance", tolerance=0.05, severity="critical")
    result = deployed.client.monitoring.run("churn-watch", now=now)
    assert result.dataset_drift is False
    assert result.performance_drop is True
    perf = result.section("performance")
    assert perf["metrics"]["roc_auc"] < 0.5 < perf["baseline"]["roc_auc"]
    assert result.section("target_drift")["status"] == "ok"
    (alert,) = mon.list_alerts()
    assert alert.rule == "performance"
    assert "roc_auc" in alert.message


def test_an_explicit_reference_and_shadow_rows(deployed: Setup) -> None:
    now = _now()
    other = mlcycle.datasets.register("other-ref", shifted(churn_frame(500, seed=9)))
    log_predictions(deployed, churn_frame(200, seed=5), start_ms=now - 20 * MINUTE)
    mon.create("vs-other", DEPLOYMENT, window="1h", reference=f"other-ref@{other.version}")
    result = deployed.client.monitoring.run("vs-other", now=now)
    assert result.reference == "other-ref@1"
    assert result.dataset_drift is True
    assert mon.get("vs-other").reference_ref == "other-ref@1"


def test_results_report_is_self_contained_and_holds_no_rows(
    deployed: Setup, tmp_path: object
) -> None:
    now = _now()
    ids = log_predictions(deployed, churn_frame(300, seed=5), start_ms=now - 3 * HOUR)
    log_predictions(
        deployed, shifted(churn_frame(300, seed=6)), start_ms=now - 30 * MINUTE, prefix="s"
    )
    send_feedback(deployed, ids[:100], churn_frame(300, seed=5)["churned"].tolist()[:100])
    mon.create("churn-watch", DEPLOYMENT, window="1h")
    service = deployed.client.monitoring
    service.run("churn-watch", now=now - 2 * HOUR - 10 * MINUTE)
    service.run("churn-watch", now=now)
    page = mon.monitor_report("churn-watch")
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    for text in (
        "Feature drift",
        "tenure",
        "Data quality",
        "Performance",
        "Over time",
        "share of drifted features",
    ):
        assert text in page
    assert 'src="http' not in page
    assert "<link" not in page
    assert ids[0] not in page  # request IDs (and any other row data) never enter it
    raw = f"{churn_frame(300, seed=5)['tenure'].iloc[0]:.6f}"
    assert raw not in page
    frame = mon.results_frame("churn-watch")
    assert list(frame["status"]) == ["ok", "issues"]
    data = mon.monitor_report_dict("churn-watch")
    assert len(data["results"]) == 2
    assert data["monitor"]["name"] == "churn-watch"


def test_delete_and_schedule(deployed: Setup) -> None:
    mon.create("m", DEPLOYMENT, schedule="15m")
    assert mon.get("m").schedule_ms == 15 * MINUTE
    assert mon.set_schedule("m", None).schedule_ms is None
    mon.delete("m")
    assert mon.list_monitors() == []
    with pytest.raises(NotFoundError):
        mon.delete("m")


def test_changes_are_audited(deployed: Setup) -> None:
    now = _now()
    log_predictions(deployed, shifted(churn_frame(200, seed=6)), start_ms=now - 10 * MINUTE)
    mon.create("churn-watch", DEPLOYMENT, window="1h")
    mon.add_alert_rule("churn-watch", "dataset_drift")
    deployed.client.monitoring.run("churn-watch", now=now)
    (alert,) = mon.list_alerts()
    mon.ack(alert.id, by="ana")
    mon.delete_alert_rule("churn-watch", "dataset_drift")
    mon.delete("churn-watch")
    events = deployed.client.governance.audit_events(AuditQuery(target="monitor:churn-watch"))
    assert [e.action for e in events] == [
        "monitor.create",
        "monitor.rule_add",
        "monitor.alert",
        "monitor.alert_ack",
        "monitor.rule_delete",
        "monitor.delete",
    ]
    assert events[0].after is not None
    assert events[0].after["deployment"] == DEPLOYMENT
    assert events[-1].before is not None
    assert events[-1].before["name"] == "churn-watch"
