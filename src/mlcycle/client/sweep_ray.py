"""``mlcycle.sweep(..., backend="ray")``: trials as Ray tasks.

The search itself (Optuna's sampler and pruner) lives in one Ray actor; each trial is a Ray
task that asks the actor for its parameters, trains, reports intermediate values (so the
pruner can stop it) and tells the actor its outcome. Trials are tracked exactly as with the
default backend: each is a run nested under the sweep's parent run, in the same store (the
tasks open a client from the sweep's settings: a database or tracking-server URI every
worker can reach; a SQLite file works on a single machine).

>>> result = mlcycle.sweep(train, space, n_trials=32, backend="ray")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from mlcycle.client.sweep_optuna import OptunaTrial, new_study
from mlcycle.client.trials import TrialResult, TrialRunner
from mlcycle.compute.ray_cluster import cluster_cpus, connect
from mlcycle.entities import Direction


class RayBackend:
    """Runs trials as Ray tasks, ``n_jobs`` at a time (default: one per cluster CPU).

    ``address`` is the cluster (default ``RAY_ADDRESS``, else a local cluster);
    ``cpus_per_trial`` the CPUs Ray reserves for each trial; ``seed``, ``sampler`` and
    ``pruner`` configure Optuna as in :class:`~mlcycle.client.sweep_optuna.OptunaBackend`.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        cpus_per_trial: float = 1.0,
        seed: int | None = None,
        sampler: Any = None,
        pruner: Any = None,
    ) -> None:
        self.address = address
        self.cpus_per_trial = cpus_per_trial
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
        ray = connect(self.address)
        concurrency = n_jobs or max(1, int(cluster_cpus(ray) / self.cpus_per_trial))
        study = ray.remote(num_cpus=0)(StudyHost).remote(
            direction, self.seed, self.sampler, self.pruner
        )
        task = ray.remote(num_cpus=self.cpus_per_trial, max_retries=0)(run_trial)
        shipped = ray.put(runner)
        results: list[TrialResult] = []
        pending: list[Any] = []
        try:
            for _ in range(n_trials):
                if len(pending) >= concurrency:
                    done, pending = ray.wait(pending, num_returns=1)
                    results.extend(ray.get(done))
                pending.append(task.remote(shipped, study))
            results.extend(ray.get(pending))
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            ray.kill(study)
        return results


class StudyHost:
    """The Optuna study, hosted in one Ray actor that every trial task talks to."""

    def __init__(self, direction: Direction, seed: int | None, sampler: Any, pruner: Any) -> None:
        self.study = new_study(direction, seed=seed, sampler=sampler, pruner=pruner)
        self.trials: dict[int, Any] = {}

    def ask(self) -> int:
        trial = self.study.ask()
        self.trials[trial.number] = trial
        return int(trial.number)

    def suggest(self, number: int, name: str, spec: Any) -> Any:
        return OptunaTrial(self.trials[number]).suggest(name, spec)

    def report(self, number: int, value: float, step: int) -> None:
        self.trials[number].report(value, step)

    def should_prune(self, number: int) -> bool:
        return bool(self.trials[number].should_prune())

    def tell(self, number: int, state: str, value: float | None) -> None:
        import optuna  # present wherever the study is: new_study imported it

        states = {
            "complete": optuna.trial.TrialState.COMPLETE,
            "pruned": optuna.trial.TrialState.PRUNED,
        }
        final = states.get(state, optuna.trial.TrialState.FAIL)
        self.study.tell(
            self.trials.pop(number),
            value if final is optuna.trial.TrialState.COMPLETE else None,
            state=final,
        )


class RemoteTrial:
    """A :class:`~mlcycle.client.trials.SearchTrial` whose study is in the actor."""

    def __init__(self, ray: Any, study: Any, number: int) -> None:
        self._ray = ray
        self._study = study
        self._number = number

    @property
    def number(self) -> int:
        return self._number

    def suggest(self, name: str, spec: Any) -> Any:
        return self._ray.get(self._study.suggest.remote(self._number, name, spec))

    def report(self, value: float, step: int) -> None:
        # No wait: calls from one caller reach an actor in order, before should_prune.
        self._study.report.remote(self._number, value, step)

    def should_prune(self) -> bool:
        return bool(self._ray.get(self._study.should_prune.remote(self._number)))


def run_trial(runner: TrialRunner, study: Any) -> TrialResult:
    """One trial, as a Ray task: ask, train and track, tell."""
    import ray  # runs on a Ray worker, where Ray is by definition installed

    number = int(ray.get(study.ask.remote()))
    state, value = "failed", None
    try:
        result = runner.run(RemoteTrial(ray, study, number))
        state, value = result.state, result.value
    finally:
        runner.close()
        ray.get(study.tell.remote(number, state, value))
    return result
