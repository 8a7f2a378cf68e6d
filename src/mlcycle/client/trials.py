"""One trial of a sweep: what the training function gets, what a search backend hands
out, and the runner that tracks a trial as a nested run (picklable, so trials can run in
other processes or on a Ray cluster)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlcycle.client.client import Client
from mlcycle.entities import Direction, RunStatus
from mlcycle.errors import InvalidInputError
from mlcycle.settings import Settings
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
    """A search library: runs ``n_trials`` trials of ``runner``, ``n_jobs`` at a time.

    For each trial the backend hands :meth:`TrialRunner.run` a :class:`SearchTrial` of
    its own; ``run`` trains, tracks the trial as a nested run and returns its
    :class:`TrialResult` (complete, pruned or failed), which ``optimize`` returns, one per
    trial. The runner is picklable, so a backend may run trials in other processes or on
    other machines (:class:`~mlcycle.client.sweep_ray.RayBackend`).
    """

    def optimize(
        self,
        runner: TrialRunner,
        *,
        n_trials: int,
        direction: Direction,
        n_jobs: int | None,
    ) -> list[TrialResult]: ...


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


@dataclass(kw_only=True)
class TrialRunner:
    """Runs one trial: samples its parameters, tracks it as a run nested under the sweep's
    parent run, calls the training function and returns a :class:`TrialResult`.

    Picklable (the client is not shipped): in another process it opens a client of its
    own from ``settings``, so trials on Ray workers are tracked in the same store.
    """

    train_fn: Callable[[Trial], float | None]
    space: dict[str, Any]
    metric: str
    experiment_id: str
    parent_id: str
    settings: Settings
    client: Client | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["client"] = None
        return state

    def open_client(self) -> Client:
        if self.client is None:
            self.client = Client(settings=self.settings)
        return self.client

    def close(self) -> None:
        """Close a client this runner opened itself (in a worker process)."""
        client, self.client = self.client, None
        if client is not None:
            client.close()

    def run(self, search: SearchTrial) -> TrialResult:
        """Run the trial; its outcome is in the result (an exception in the training
        function is a failed trial, not raised; KeyboardInterrupt and the like are)."""
        client = self.open_client()
        params = {k: search.suggest(k, v) for k, v in self.space.items()}
        state, value = "failed", None
        run = client.start_run(
            self.experiment_id,
            name=f"trial-{search.number}",
            parent=self.parent_id,
            tags={TRIAL_TAG: str(search.number)},
            capture_environment=False,
        )
        try:
            run.log_params(params)
            out = self.train_fn(Trial(search.number, params, run, self.metric, search))
            if out is None:
                run.flush()
                out = client.get_run(run.id).metrics.get(self.metric)
            if out is None or not isinstance(out, int | float) or math.isnan(out):
                raise InvalidInputError(
                    f"trial {search.number} returned no value and logged no {self.metric!r}",
                    field="train_fn",
                )
            value, state = float(out), "complete"
            run.log_metric(self.metric, value)
            run.set_tag(STATE_TAG, state)
            run.end()
        except TrialPruned:
            state = "pruned"
            run.set_tag(STATE_TAG, state)
            run.end()
        except Exception as exc:
            run.set_tag(STATE_TAG, state)
            run.end(RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        except BaseException as exc:
            run.set_tag(STATE_TAG, state)
            run.end(RunStatus.KILLED, error=f"{type(exc).__name__}: {exc}")
            raise
        return TrialResult(
            number=search.number, run_id=run.id, params=params, value=value, state=state
        )
