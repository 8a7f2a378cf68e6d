"""The canary controller's decision, on its own (a pure function)."""

from __future__ import annotations

import pytest

from mlcycle.deployments.canary_controller import CanaryAction, breached_guard, decide, step_label
from mlcycle.entities import ArmStats, CanaryPolicy
from mlcycle.errors import InvalidInputError

INTERVAL_MS = 600_000


def _policy(step: int = 0, **guards: float) -> CanaryPolicy:
    return CanaryPolicy(
        candidate="models:/churn/4",
        steps=(5, 25, 50, 100),
        interval_s=INTERVAL_MS / 1000,
        step=step,
        step_started_at=0,
        max_error_rate=guards.get("max_error_rate"),
        max_p99_ms=guards.get("max_p99_ms"),
        min_accuracy=guards.get("min_accuracy"),
    )


def _stats(**values: float) -> ArmStats:
    return ArmStats(
        arm="candidate",
        version=4,
        since=0,
        requests=int(values.get("requests", 100)),
        errors=int(values.get("errors", 0)),
        p99_ms=values.get("p99_ms"),
        labelled=int(values.get("labelled", 0)),
        accuracy=values.get("accuracy"),
    )


def test_step_label_is_one_based_with_the_percent() -> None:
    assert step_label(_policy(1)) == "step 2 (25%)"
    assert step_label(_policy(), 3) == "step 4 (100%)"


def test_holds_until_the_interval_is_over() -> None:
    decision = decide(_policy(), _stats(), now_ms=INTERVAL_MS - 60_000)
    assert decision.action is CanaryAction.HOLD
    assert decision.step == 0
    assert decision.reason == "step 1 (5%) holds for another 60 s"


def test_advances_after_the_interval_with_guards_holding() -> None:
    policy = _policy(1, max_error_rate=0.01, max_p99_ms=50, min_accuracy=0.8)
    stats = _stats(errors=1, p99_ms=49.0, labelled=50, accuracy=0.9, requests=200)
    decision = decide(policy, stats, now_ms=INTERVAL_MS)
    assert decision.action is CanaryAction.ADVANCE
    assert decision.step == 2
    assert "on to step 3 (50%)" in decision.reason


def test_completes_after_the_last_step_held() -> None:
    decision = decide(_policy(3), _stats(), now_ms=INTERVAL_MS)
    assert decision.action is CanaryAction.COMPLETE
    assert decision.step == 3


def test_too_few_requests_hold_instead_of_advancing() -> None:
    decision = decide(_policy(), _stats(requests=19), now_ms=10 * INTERVAL_MS)
    assert decision.action is CanaryAction.HOLD
    assert "saw 19 requests; it needs 20" in decision.reason
    nothing = decide(_policy(), None, now_ms=10 * INTERVAL_MS)
    assert nothing.action is CanaryAction.HOLD
    assert "saw 0 requests" in nothing.reason
    fewer = decide(_policy(), _stats(requests=5), now_ms=10 * INTERVAL_MS, min_requests=5)
    assert fewer.action is CanaryAction.ADVANCE


def test_a_breached_guard_rolls_back_before_the_interval_is_over() -> None:
    p99 = decide(_policy(1, max_p99_ms=50), _stats(p99_ms=83.14), now_ms=1)
    assert p99.action is CanaryAction.ROLLBACK
    assert p99.reason == "p99 83.1 ms > 50 ms at step 2 (25%)"
    errors = decide(_policy(0, max_error_rate=0.01), _stats(errors=3, requests=100), now_ms=1)
    assert errors.action is CanaryAction.ROLLBACK
    assert errors.reason == "error rate 0.03 > 0.01 at step 1 (5%) (3 of 100 requests failed)"
    accuracy = decide(_policy(2, min_accuracy=0.8), _stats(labelled=40, accuracy=0.71), now_ms=1)
    assert accuracy.action is CanaryAction.ROLLBACK
    assert accuracy.reason == "accuracy 0.71 < 0.8 at step 3 (50%) (40 labelled answers)"


def test_guards_wait_for_enough_evidence() -> None:
    policy = _policy(max_error_rate=0.01, max_p99_ms=50, min_accuracy=0.8)
    assert breached_guard(policy, _stats(requests=10, errors=10, p99_ms=900.0)) is None
    assert breached_guard(policy, _stats(labelled=19, accuracy=0.1)) is None
    assert breached_guard(policy, _stats(labelled=20, accuracy=0.1)) is not None
    # Equal to the limit holds; only beyond it is a breach.
    assert breached_guard(policy, _stats(errors=1, p99_ms=50.0, labelled=20, accuracy=0.8)) is None


def test_a_step_outside_the_steps_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="canary step 4 is outside the 4 steps"):
        decide(_policy(4), _stats(), now_ms=0)
