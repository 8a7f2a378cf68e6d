"""Hyperparameter sweeps: ``mlcycle.sweep`` over a pluggable search backend (Optuna).

Each trial is a nested run under one parent sweep run; the best trial's run is tagged
``mlcycle.sweep.best=true`` and the parent records the best value and parameters.

    >>> def train(trial):
    ...     model = fit(lr=trial.params["lr"], depth=trial.params["depth"])
    ...     for epoch in range(10):
    ...         trial.report(score(model, epoch), step=epoch)  # prunes hopeless trials
    ...     return score(model)
    >>> result = mlcycle.sweep(train, {"lr": (1e-4, 1e-1, "log"), "depth": (2, 8)},
    ...                        n_trials=20, experiment="churn")  # doctest: +SKIP
    >>> result.best_params, result.best_value  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mlcycle.client.client import Client
from mlcycle.client.fluent import get_client
from mlcycle.client.sweep_optuna import OptunaBackend, check_space
from mlcycle.client.sweep_ray import RayBackend
from mlcycle.client.trials import (
    BEST_TAG,
    PARENT_TAG,
    STATE_TAG,
    TRIAL_TAG,
    Space,
    SweepBackend,
    Trial,
    TrialPruned,
    TrialResult,
    TrialRunner,
)
from mlcycle.entities import Direction, RunStatus
from mlcycle.errors import InvalidInputError

__all__ = [
    "BEST_TAG",
    "PARENT_TAG",
    "STATE_TAG",
    "TRIAL_TAG",
    "OptunaBackend",
    "RayBackend",
    "Space",
    "SweepBackend",
    "SweepResult",
    "Trial",
    "TrialPruned",
    "TrialResult",
    "sweep",
]


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    """A finished sweep: the parent run, every trial, and the best one."""

    run_id: str
    metric: str
    direction: Direction
    trials: list[TrialResult]
    best: TrialResult | None

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best.params) if self.best else {}

    @property
    def best_value(self) -> float | None:
        return self.best.value if self.best else None

    @property
    def best_run_id(self) -> str | None:
        return self.best.run_id if self.best else None


def sweep(
    train_fn: Callable[[Trial], float | None],
    space: Space,
    n_trials: int,
    direction: Direction | str | None = None,
    experiment: str | None = None,
    *,
    metric: str | None = None,
    n_jobs: int | None = None,
    seed: int | None = None,
    name: str | None = None,
    backend: SweepBackend | str | None = None,
    client: Client | None = None,
) -> SweepResult:
    """Search ``space`` for the parameters that optimise ``train_fn``.

    ``train_fn(trial)`` trains with ``trial.params``, may log to ``trial.run`` (a nested
    run under the sweep's parent run) and call ``trial.report(value, step)`` so hopeless
    trials are pruned, and returns the trial's value (or None: the run's latest value of
    ``metric``). ``metric`` and ``direction`` default to the experiment's primary metric
    and direction (else ``"objective"``, minimize). ``backend`` is where trials run:
    ``"optuna"`` (the default: threads of this process, ``n_jobs`` at a time, default 1),
    ``"ray"`` (Ray tasks on the cluster ``RAY_ADDRESS`` names or a local one, ``n_jobs``
    at a time, default one per CPU; ``pip install "mlcycle[ray]"``), or a
    :class:`~mlcycle.client.trials.SweepBackend` instance such as
    ``RayBackend(address=..., cpus_per_trial=2)``. Both search with Optuna (TPE, median
    pruning); ``seed`` makes the sampling repeatable.

    Returns a :class:`SweepResult`; the best trial's run is tagged
    ``mlcycle.sweep.best=true``. Raises InvalidInputError for a bad space or count.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise InvalidInputError("n_trials must be a whole number >= 1", field="n_trials")
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1
    ):
        raise InvalidInputError("n_jobs must be a whole number >= 1", field="n_jobs")
    check_space(space)
    search = _backend(backend, seed)
    client = client or get_client()
    parent = client.start_run(experiment, name=name or "sweep", tags={PARENT_TAG: "true"})
    problem = client.get_experiment(parent.info.experiment_id).problem
    metric = metric or problem.primary_metric or "objective"
    if direction is None:
        direction = problem.direction if problem.primary_metric else Direction.MINIMIZE
    try:
        direction = Direction(direction)
    except ValueError:
        parent.end(RunStatus.FAILED, error=f"invalid direction {direction!r}")
        raise InvalidInputError(
            f"invalid direction {direction!r}: maximize or minimize", field="direction"
        ) from None
    runner = TrialRunner(
        train_fn=train_fn,
        space=dict(space),
        metric=metric,
        experiment_id=parent.info.experiment_id,
        parent_id=parent.id,
        settings=client.settings,
        client=client,
    )
    try:
        trials = search.optimize(runner, n_trials=n_trials, direction=direction, n_jobs=n_jobs)
    except BaseException as exc:
        parent.end(RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    trials.sort(key=lambda t: t.number)
    best = _best(trials, direction)
    if best is not None:
        client.set_tags(best.run_id, {BEST_TAG: "true"})
        parent.set_tags({"mlcycle.sweep.best_run_id": best.run_id})
        parent.log_params({f"best.{k}": v for k, v in best.params.items()})
        parent.log_metric(f"best_{metric}", float(best.value or 0.0))
    parent.log_metric("trials_complete", sum(t.state == "complete" for t in trials))
    parent.log_metric("trials_pruned", sum(t.state == "pruned" for t in trials))
    parent.end(RunStatus.FINISHED if best is not None else RunStatus.FAILED)
    return SweepResult(
        run_id=parent.id, metric=metric, direction=direction, trials=trials, best=best
    )


def _backend(backend: SweepBackend | str | None, seed: int | None) -> SweepBackend:
    if backend is None or backend == "optuna":
        return OptunaBackend(seed=seed)
    if backend == "ray":
        return RayBackend(seed=seed)
    if isinstance(backend, str):
        raise InvalidInputError(
            f"unknown sweep backend {backend!r}: 'optuna' (the default, threads of this "
            "process) or 'ray' (trials as Ray tasks; pip install \"mlcycle[ray]\")",
            field="backend",
        )
    return backend


def _best(trials: Sequence[TrialResult], direction: Direction) -> TrialResult | None:
    done = [t for t in trials if t.state == "complete" and t.value is not None]
    if not done:
        return None
    pick = max if direction is Direction.MAXIMIZE else min
    return pick(done, key=lambda t: t.value or 0.0)
