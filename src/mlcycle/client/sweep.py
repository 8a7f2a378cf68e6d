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

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlcycle.client.client import Client
from mlcycle.client.fluent import get_client
from mlcycle.entities import Direction, RunStatus
from mlcycle.errors import InvalidInputError
from mlcycle.tracking.run import ActiveRun

#: The search space: name -> a list of choices, ``(low, high)`` (ints give integers),
#: ``(low, high, "log")``, or ``{"low": ..., "high": ..., "log": bool, "step": ...}``.
Space = Mapping[str, Any]

BEST_TAG = "mlcycle.sweep.best"
STATE_TAG = "mlcycle.sweep.state"
TRIAL_TAG = "mlcycle.sweep.trial"
PARENT_TAG = "mlcycle.sweep"


class TrialPruned(Exception):
    """Raised by :meth:`Trial.report` when the backend prunes the trial; let it propagate
    out of the training function."""


class SearchTrial(Protocol):
    """One trial as a search backend hands it out."""

    @property
    def number(self) -> int: ...
    def suggest(self, name: str, spec: Any) -> Any: ...
    def report(self, value: float, step: int) -> None: ...
    def should_prune(self) -> bool: ...


class SweepBackend(Protocol):
    """A search library: runs ``objective`` on ``n_trials`` trials, ``n_jobs`` at a time.

    ``objective`` returns the trial's value, or raises TrialPruned; other exceptions are
    failed trials. A later backend (Ray) implements the same method.
    """

    def optimize(
        self,
        objective: Callable[[SearchTrial], float],
        *,
        n_trials: int,
        direction: Direction,
        n_jobs: int,
    ) -> None: ...


@dataclass
class Trial:
    """What the training function gets: ``params``, its nested ``run``, and
    :meth:`report` for intermediate values (pruning)."""

    number: int
    params: dict[str, Any]
    run: ActiveRun
    metric: str
    _search: SearchTrial = field(repr=False)

    def report(self, value: float, step: int) -> None:
        """Log ``value`` of the sweep's metric at ``step``; raises TrialPruned when the
        backend decides this trial will not beat the others."""
        self.run.log_metric(self.metric, value, step=step)
        self._search.report(float(value), step)
        if self._search.should_prune():
            raise TrialPruned(f"trial {self.number} pruned at step {step}")


@dataclass(frozen=True, kw_only=True)
class TrialResult:
    number: int
    run_id: str
    params: dict[str, Any]
    value: float | None
    state: str  # "complete", "pruned" or "failed"


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


class OptunaBackend:
    """Optuna's TPE sampler and median pruner (or the ``sampler``/``pruner`` given)."""

    def __init__(self, *, seed: int | None = None, sampler: Any = None, pruner: Any = None) -> None:
        self.seed = seed
        self.sampler = sampler
        self.pruner = pruner

    def optimize(
        self,
        objective: Callable[[SearchTrial], float],
        *,
        n_trials: int,
        direction: Direction,
        n_jobs: int,
    ) -> None:
        # Deferred: Optuna takes most of a second to import; `import mlcycle` does not pay it.
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            direction="maximize" if direction is Direction.MAXIMIZE else "minimize",
            sampler=self.sampler or optuna.samplers.TPESampler(seed=self.seed),
            pruner=self.pruner or optuna.pruners.MedianPruner(n_startup_trials=2),
        )

        def run_one(trial: optuna.Trial) -> float:
            try:
                return objective(_OptunaTrial(trial))
            except TrialPruned as exc:
                raise optuna.TrialPruned(str(exc)) from exc

        study.optimize(run_one, n_trials=n_trials, n_jobs=n_jobs, catch=(Exception,))


class _OptunaTrial:
    def __init__(self, trial: Any) -> None:
        self._trial = trial

    @property
    def number(self) -> int:
        return int(self._trial.number)

    def suggest(self, name: str, spec: Any) -> Any:
        t = self._trial
        if isinstance(spec, list):
            return t.suggest_categorical(name, spec)
        low, high, log, step = _bounds(name, spec)
        if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool):
            return t.suggest_int(name, low, high, log=log, step=int(step or 1))
        return t.suggest_float(name, float(low), float(high), log=log, step=step)

    def report(self, value: float, step: int) -> None:
        self._trial.report(value, step)

    def should_prune(self) -> bool:
        return bool(self._trial.should_prune())


def _bounds(name: str, spec: Any) -> tuple[Any, Any, bool, Any]:
    low: Any
    high: Any
    if isinstance(spec, Mapping):
        low, high = spec.get("low"), spec.get("high")
        log, step = bool(spec.get("log", False)), spec.get("step")
    elif isinstance(spec, tuple) and len(spec) in (2, 3):
        low, high = spec[0], spec[1]
        log, step = len(spec) == 3 and spec[2] == "log", None
        if len(spec) == 3 and spec[2] != "log":
            raise InvalidInputError(
                f"space[{name!r}]: the third item must be 'log'", field=f"space.{name}"
            )
    else:
        raise InvalidInputError(
            f"space[{name!r}] must be a list of choices, (low, high), (low, high, 'log') or "
            "a dict with low and high",
            field=f"space.{name}",
        )
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        raise InvalidInputError(f"space[{name!r}]: low and high must be numbers", field="space")
    if low >= high:
        raise InvalidInputError(f"space[{name!r}]: low must be below high", field="space")
    if log and low <= 0:
        raise InvalidInputError(f"space[{name!r}]: a log range needs low > 0", field="space")
    return low, high, log, step


def _check_space(space: Space) -> None:
    if not isinstance(space, Mapping) or not space:
        raise InvalidInputError("space must be a non-empty dict of parameters", field="space")
    for name, spec in space.items():
        if isinstance(spec, list):
            if not spec:
                raise InvalidInputError(f"space[{name!r}] has no choices", field="space")
        else:
            _bounds(name, spec)


def sweep(
    train_fn: Callable[[Trial], float | None],
    space: Space,
    n_trials: int,
    direction: Direction | str | None = None,
    experiment: str | None = None,
    *,
    metric: str | None = None,
    n_jobs: int = 1,
    seed: int | None = None,
    name: str | None = None,
    backend: SweepBackend | None = None,
    client: Client | None = None,
) -> SweepResult:
    """Search ``space`` for the parameters that optimise ``train_fn``.

    ``train_fn(trial)`` trains with ``trial.params``, may log to ``trial.run`` (a nested
    run under the sweep's parent run) and call ``trial.report(value, step)`` so hopeless
    trials are pruned, and returns the trial's value (or None: the run's latest value of
    ``metric``). ``metric`` and ``direction`` default to the experiment's primary metric
    and direction (else ``"objective"``, minimize). ``n_jobs`` runs trials in threads.
    ``backend`` is the search library (Optuna by default).

    Returns a :class:`SweepResult`; the best trial's run is tagged
    ``mlcycle.sweep.best=true``. Raises InvalidInputError for a bad space or count.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise InvalidInputError("n_trials must be a whole number >= 1", field="n_trials")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise InvalidInputError("n_jobs must be a whole number >= 1", field="n_jobs")
    _check_space(space)
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
    trials: list[TrialResult] = []

    def objective(search: SearchTrial) -> float:
        params = {k: search.suggest(k, v) for k, v in space.items()}
        state, value = "failed", None
        run = client.start_run(
            parent.info.experiment_id,
            name=f"trial-{search.number}",
            parent=parent,
            tags={TRIAL_TAG: str(search.number)},
            capture_environment=False,
        )
        try:
            run.log_params(params)
            out = train_fn(Trial(search.number, params, run, metric, search))
            if out is None:
                run.flush()
                out = client.get_run(run.id).metrics.get(metric)
            if out is None or not isinstance(out, int | float) or math.isnan(out):
                raise InvalidInputError(
                    f"trial {search.number} returned no value and logged no {metric!r}",
                    field="train_fn",
                )
            value, state = float(out), "complete"
            run.log_metric(metric, value)
            run.set_tag(STATE_TAG, state)
            run.end()
            return value
        except TrialPruned:
            state = "pruned"
            run.set_tag(STATE_TAG, state)
            run.end()
            raise
        except BaseException as exc:
            run.set_tag(STATE_TAG, state)
            run.end(RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            trials.append(
                TrialResult(
                    number=search.number, run_id=run.id, params=params, value=value, state=state
                )
            )

    try:
        (backend or OptunaBackend(seed=seed)).optimize(
            objective, n_trials=n_trials, direction=direction, n_jobs=n_jobs
        )
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


def _best(trials: Sequence[TrialResult], direction: Direction) -> TrialResult | None:
    done = [t for t in trials if t.state == "complete" and t.value is not None]
    if not done:
        return None
    pick = max if direction is Direction.MAXIMIZE else min
    return pick(done, key=lambda t: t.value or 0.0)
