"""The canary controller's decision, as a pure function of the policy, what the serving
process observed of the candidate since the current step began, and the time.

>>> from mlcycle.entities import ArmStats, CanaryPolicy
>>> policy = CanaryPolicy(candidate="models:/churn/4", steps=(5, 25, 50, 100),
...                       interval_s=600, max_p99_ms=50, step=1, step_started_at=0)
>>> stats = ArmStats(arm="candidate", version=4, since=0, requests=400, p99_ms=83.1)
>>> decide(policy, stats, now_ms=1_000).reason
'p99 83.1 ms > 50 ms at step 2 (25%)'

The rules, in order:

1. A breached guard rolls back at once, whether or not the step's interval is over:
   ``error_rate > max_error_rate`` or ``p99_ms > max_p99_ms`` (judged once the step has
   seen ``min_requests`` requests), ``accuracy < min_accuracy`` (once ``min_labelled``
   answers have ground truth).
2. Before the step's interval is over: hold.
3. Fewer than ``min_requests`` requests in the step: hold (never advance blindly).
4. Otherwise advance to the next step, or, once the last (100%) step has held for an
   interval, complete.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from mlcycle.entities.deployment_state import CanaryProgress
from mlcycle.entities.deployments import Arm, ArmStats, CanaryPolicy
from mlcycle.errors import InvalidInputError

#: Requests a step must see before its guards are judged or it may advance.
MIN_REQUESTS = 20
#: Labelled answers a step must see before the accuracy guard is judged.
MIN_LABELLED = 20


class CanaryAction(StrEnum):
    HOLD = "hold"
    ADVANCE = "advance"
    COMPLETE = "complete"
    ROLLBACK = "rollback"


@dataclass(frozen=True, kw_only=True)
class CanaryDecision:
    """What to do now; ``step`` is the step index after the decision."""

    action: CanaryAction
    reason: str
    step: int


def step_label(policy: CanaryPolicy, step: int | None = None) -> str:
    """``step 2 (25%)`` for the 0-based step index 1 of steps 5, 25, ..."""
    index = policy.step if step is None else step
    return f"step {index + 1} ({policy.steps[index]}%)"


def _number(value: float) -> str:
    return f"{value:.4g}"


def breached_guard(
    policy: CanaryPolicy,
    stats: ArmStats,
    *,
    min_requests: int = MIN_REQUESTS,
    min_labelled: int = MIN_LABELLED,
) -> str | None:
    """Why the candidate fails a guard (None: every guard judged holds)."""
    where = step_label(policy)
    if stats.requests >= min_requests:
        rate = stats.error_rate
        if policy.max_error_rate is not None and rate is not None and rate > policy.max_error_rate:
            return (
                f"error rate {_number(rate)} > {_number(policy.max_error_rate)} at {where} "
                f"({stats.errors} of {stats.requests} requests failed)"
            )
        if (
            policy.max_p99_ms is not None
            and stats.p99_ms is not None
            and stats.p99_ms > policy.max_p99_ms
        ):
            return f"p99 {stats.p99_ms:.1f} ms > {_number(policy.max_p99_ms)} ms at {where}"
    if (
        policy.min_accuracy is not None
        and stats.accuracy is not None
        and stats.labelled >= min_labelled
        and stats.accuracy < policy.min_accuracy
    ):
        return (
            f"accuracy {_number(stats.accuracy)} < {_number(policy.min_accuracy)} at {where} "
            f"({stats.labelled} labelled answers)"
        )
    return None


def decide(
    policy: CanaryPolicy,
    stats: ArmStats | None,
    now_ms: int,
    *,
    min_requests: int = MIN_REQUESTS,
    min_labelled: int = MIN_LABELLED,
) -> CanaryDecision:
    """The controller's next move for ``policy`` given the candidate's ``stats`` since the
    current step began (None: nothing observed yet)."""
    if not 0 <= policy.step < len(policy.steps):
        raise InvalidInputError(
            f"canary step {policy.step} is outside the {len(policy.steps)} steps", field="step"
        )
    observed = stats or ArmStats(arm="candidate", version=None, since=policy.step_started_at)
    where = step_label(policy)
    breach = breached_guard(policy, observed, min_requests=min_requests, min_labelled=min_labelled)
    if breach is not None:
        return CanaryDecision(action=CanaryAction.ROLLBACK, reason=breach, step=policy.step)
    due = policy.step_started_at + int(policy.interval_s * 1000)
    if now_ms < due:
        left = (due - now_ms) / 1000
        return CanaryDecision(
            action=CanaryAction.HOLD,
            reason=f"{where} holds for another {left:.0f} s",
            step=policy.step,
        )
    if observed.requests < min_requests:
        return CanaryDecision(
            action=CanaryAction.HOLD,
            reason=(
                f"{where} saw {observed.requests} requests; it needs {min_requests} "
                "before it can advance"
            ),
            step=policy.step,
        )
    if policy.step + 1 < len(policy.steps):
        nxt = policy.step + 1
        return CanaryDecision(
            action=CanaryAction.ADVANCE,
            reason=f"guards held at {where} ({observed.requests} requests): "
            f"on to {step_label(policy, nxt)}",
            step=nxt,
        )
    return CanaryDecision(
        action=CanaryAction.COMPLETE,
        reason=f"guards held at {where} ({observed.requests} requests): rollout complete",
        step=policy.step,
    )


def progress(policy: CanaryPolicy) -> CanaryProgress:
    """Where the canary is, for ``status``."""
    return CanaryProgress(
        candidate=policy.candidate,
        step=policy.step,
        steps=policy.steps,
        percent=policy.steps[policy.step],
        step_started_at=policy.step_started_at,
        next_step_at=policy.step_started_at + int(policy.interval_s * 1000),
    )


def canary_arms(
    stable: Sequence[Arm], candidate: str, percent: int, *, name: str = "candidate"
) -> tuple[Arm, ...]:
    """The stable serving arms sharing ``100 - percent`` in their proportions, plus the
    candidate arm with ``percent`` (at 100% the stable arms stay, with weight 0, so a
    rollback needs no reload)."""
    total = sum(a.weight for a in stable) or 1.0
    share = 100.0 - percent
    kept = tuple(replace(a, weight=_round(a.weight / total * share)) for a in stable)
    return (*kept, Arm(name=name, model_uri=candidate, weight=float(percent)))


def _round(weight: float) -> float:
    rounded = round(weight, 6)
    return 0.0 if math.isclose(rounded, 0.0, abs_tol=1e-9) else rounded
