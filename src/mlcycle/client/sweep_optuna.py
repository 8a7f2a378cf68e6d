"""Optuna, the default search library of ``mlcycle.sweep``: threads of this process."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from mlcycle.client.trials import TrialResult, TrialRunner
from mlcycle.entities import Direction
from mlcycle.errors import InvalidInputError


class OptunaBackend:
    """Optuna's TPE sampler and median pruner (or the ``sampler``/``pruner`` given)."""

    def __init__(self, *, seed: int | None = None, sampler: Any = None, pruner: Any = None) -> None:
        self.seed = seed
        self.sampler = sampler
        self.pruner = pruner

    def optimize(
        self,
        runner: TrialRunner,
        *,
        n_trials: int,
        direction: Direction,
        n_jobs: int | None,
    ) -> list[TrialResult]:
        study = new_study(direction, seed=self.seed, sampler=self.sampler, pruner=self.pruner)
        results: list[TrialResult] = []
        lock = threading.Lock()

        def run_one(trial: Any) -> float:
            result = runner.run(OptunaTrial(trial))
            with lock:
                results.append(result)
            if result.state == "pruned":
                raise optuna_pruned(result)
            return math.nan if result.value is None else result.value  # NaN: a failed trial

        study.optimize(run_one, n_trials=n_trials, n_jobs=n_jobs or 1)
        return results


def new_study(direction: Direction, *, seed: int | None, sampler: Any, pruner: Any) -> Any:
    """An in-memory Optuna study: TPE and the median pruner unless others are given."""
    # Deferred: Optuna takes most of a second to import; `import mlcycle` does not pay it.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.create_study(
        direction="maximize" if direction is Direction.MAXIMIZE else "minimize",
        sampler=sampler or optuna.samplers.TPESampler(seed=seed),
        pruner=pruner or optuna.pruners.MedianPruner(n_startup_trials=2),
    )


def optuna_pruned(result: TrialResult) -> Exception:
    import optuna

    return optuna.TrialPruned(f"trial {result.number} pruned")


class OptunaTrial:
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


def check_space(space: Mapping[str, Any]) -> None:
    if not isinstance(space, Mapping) or not space:
        raise InvalidInputError("space must be a non-empty dict of parameters", field="space")
    for name, spec in space.items():
        if isinstance(spec, list):
            if not spec:
                raise InvalidInputError(f"space[{name!r}] has no choices", field="space")
        else:
            _bounds(name, spec)
