"""Alert rules: parsing conditions, judging results, and the cooldown state machine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mlcycle.entities.monitoring import (
    AlertCondition,
    AlertRule,
    MonitorResult,
    ResultStatus,
    Severity,
)
from mlcycle.errors import InvalidInputError
from mlcycle.monitoring.alerts import (
    check_webhook,
    decide,
    judge,
    parse_condition,
    parse_cooldown,
    parse_severity,
)

HOUR = 3_600_000


def _rule(condition: AlertCondition, **kwargs: object) -> AlertRule:
    values: dict[str, object] = {"id": "r", "monitor": "m", "name": "n", "condition": condition}
    values.update(kwargs)
    return AlertRule(**values)  # type: ignore[arg-type]


def _result(**kwargs: object) -> MonitorResult:
    values: dict[str, object] = {
        "id": "x",
        "monitor": "m",
        "status": ResultStatus.ISSUES,
        "created_at": 0,
        "window_start": None,
        "window_end": 0,
        "rows": 100,
    }
    values.update(kwargs)
    return MonitorResult(**values)  # type: ignore[arg-type]


DRIFTED = _result(
    dataset_drift=True,
    drift_share=0.5,
    details={
        "feature_drift": {
            "columns": {
                "age": {"method": "wasserstein", "score": 0.4, "drifted": True},
                "plan": {"method": "jensenshannon", "score": 0.01, "drifted": False},
            }
        },
        "prediction_drift": {"method": "jensenshannon", "score": 0.2, "drifted": True},
        "quality": {"columns": {"age": {"issues": ["range: 3 values"]}, "plan": {"issues": []}}},
        "performance": {
            "status": "drop",
            "primary_metric": "roc_auc",
            "direction": "maximize",
            "labelled_rows": 80,
            "metrics": {"roc_auc": 0.7, "accuracy": 0.8},
            "baseline": {"roc_auc": 0.9, "accuracy": 0.79},
        },
    },
)


def test_conditions_parse_with_their_column() -> None:
    assert parse_condition("column_drift:age") == (AlertCondition.COLUMN_DRIFT, "age")
    assert parse_condition("quality") == (AlertCondition.QUALITY, None)
    assert parse_condition("quality:age") == (AlertCondition.QUALITY, "age")
    with pytest.raises(InvalidInputError, match="column_drift needs a column"):
        parse_condition("column_drift")
    with pytest.raises(InvalidInputError, match="unknown alert condition 'drift'"):
        parse_condition("drift")
    with pytest.raises(InvalidInputError, match="dataset_drift takes no column"):
        parse_condition("dataset_drift:age")
    assert parse_severity("critical") is Severity.CRITICAL
    with pytest.raises(InvalidInputError, match="unknown severity"):
        parse_severity("loud")
    assert parse_cooldown("2h") == 2 * HOUR
    with pytest.raises(InvalidInputError, match="cooldown"):
        parse_cooldown("soon")
    with pytest.raises(InvalidInputError, match="http:// or https://"):
        check_webhook("ftp://example.com/x")


def test_each_condition_judges_its_section() -> None:
    assert judge(_rule(AlertCondition.DATASET_DRIFT), DRIFTED).active is True
    assert "50% of the features" in judge(_rule(AlertCondition.DATASET_DRIFT), DRIFTED).message
    assert judge(_rule(AlertCondition.COLUMN_DRIFT, column="age"), DRIFTED).active is True
    assert judge(_rule(AlertCondition.COLUMN_DRIFT, column="plan"), DRIFTED).active is False
    assert judge(_rule(AlertCondition.COLUMN_DRIFT, column="nope"), DRIFTED).active is None
    assert judge(_rule(AlertCondition.PREDICTION_DRIFT), DRIFTED).active is True
    assert judge(_rule(AlertCondition.TARGET_DRIFT), DRIFTED).active is None  # not computed
    assert judge(_rule(AlertCondition.QUALITY), DRIFTED).active is True
    assert judge(_rule(AlertCondition.QUALITY, column="plan"), DRIFTED).active is False
    perf = judge(_rule(AlertCondition.PERFORMANCE, tolerance=0.05), DRIFTED)
    assert perf.active is True
    assert "roc_auc = 0.7" in perf.message
    assert judge(_rule(AlertCondition.PERFORMANCE, tolerance=0.3), DRIFTED).active is False
    accuracy = _rule(AlertCondition.PERFORMANCE, metric="accuracy", tolerance=0.0)
    assert judge(accuracy, DRIFTED).active is False


def test_windows_without_enough_data_are_not_judged() -> None:
    thin = replace(DRIFTED, status=ResultStatus.INSUFFICIENT_DATA)
    for condition in AlertCondition:
        assert judge(_rule(condition, column="age"), thin).active is None


def test_a_persisting_condition_fires_once_until_the_cooldown_passes() -> None:
    rule = _rule(AlertCondition.DATASET_DRIFT, cooldown_ms=HOUR)
    first = decide(rule, True, 0)
    assert (first.fire, first.active_since, first.last_fired_at) == (True, 0, 0)
    rule = replace(rule, active_since=0, last_fired_at=0)
    assert not decide(rule, True, HOUR // 2).fire  # still within the cooldown
    assert not decide(rule, None, HOUR // 2).changes(rule)  # unknown: nothing changes
    again = decide(rule, True, HOUR)
    assert again.fire
    assert again.active_since == 0
    assert again.last_fired_at == HOUR


def test_a_condition_that_clears_fires_again_when_it_returns() -> None:
    rule = _rule(AlertCondition.DATASET_DRIFT, cooldown_ms=HOUR, active_since=0, last_fired_at=0)
    cleared = decide(rule, False, 10)
    assert cleared.cleared
    assert not cleared.fire
    assert cleared.active_since is None
    rule = replace(rule, active_since=None)
    assert not decide(rule, False, 20).cleared  # it was not active: nothing to clear
    back = decide(rule, True, 30)
    assert back.fire
    assert back.active_since == 30
