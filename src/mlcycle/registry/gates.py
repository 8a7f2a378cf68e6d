"""Promotion gates: checks a model version must pass before an alias moves to it.

A gate is any object with a ``name`` and ``check(context) -> GateResult``. Built in:

* :class:`ThresholdGate` - the experiment's primary metric meets its success threshold;
* :class:`NoRegressionGate` - not worse than the current champion's, on the same
  evaluation dataset version, by more than a tolerance;
* :class:`FairnessGate` - a fairness gap logged by ``mlcycle.evaluate`` is at most ``x``;
* :class:`LatencyGate` - p99 latency of ``predict`` on the model's input example;
* :class:`CallableGate` - any function of the context.

The metrics come from the source run (what ``mlcycle.evaluate`` logged there, e.g.
``roc_auc`` or ``fairness/gender/demographic_parity_difference``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from mlcycle.entities import (
    Direction,
    Experiment,
    GateResult,
    ModelVersion,
    Problem,
    Run,
    RunInput,
)
from mlcycle.errors import InvalidInputError

#: Run-input contexts that hold training data; every other context is evaluation data.
TRAINING_CONTEXTS = frozenset({"train", "training"})


#: Scores a version's model on a dataset version for a metric (None: it cannot).
Scorer = Callable[[ModelVersion, RunInput, str], "float | None"]


@dataclass(frozen=True, kw_only=True)
class GateContext:
    """What a gate sees: the candidate version with its run, experiment and inputs, and
    the version the alias points at now (``champion``, None when the alias is new)."""

    candidate: ModelVersion
    run: Run
    experiment: Experiment | None
    inputs: tuple[RunInput, ...]
    alias: str
    champion: ModelVersion | None = None
    champion_run: Run | None = None
    champion_inputs: tuple[RunInput, ...] = ()
    load_model: Callable[[ModelVersion], Any] | None = None
    score: Scorer | None = None

    @property
    def problem(self) -> Problem:
        return self.experiment.problem if self.experiment is not None else Problem()


@runtime_checkable
class Gate(Protocol):
    """A promotion check: ``check(context)`` returns a :class:`GateResult`."""

    @property
    def name(self) -> str: ...

    def check(self, context: GateContext) -> GateResult: ...


def _metric(problem: Problem, metric: str | None) -> str | None:
    return metric or problem.primary_metric


def eval_inputs(inputs: tuple[RunInput, ...]) -> set[str]:
    """IDs of the dataset versions a run evaluated on (every context but training)."""
    return {i.version_id for i in inputs if i.context.lower() not in TRAINING_CONTEXTS}


@dataclass(frozen=True)
class ThresholdGate:
    """The primary metric (or ``metric``) meets the success threshold (or ``threshold``)
    of the experiment's problem. Passes, saying so, when there is no threshold."""

    metric: str | None = None
    threshold: float | None = None
    name: str = "threshold"

    def check(self, context: GateContext) -> GateResult:
        problem = context.problem
        metric = _metric(problem, self.metric)
        threshold = self.threshold if self.threshold is not None else problem.threshold
        if metric is None or threshold is None:
            return GateResult(
                gate=self.name, passed=True, detail="the problem sets no success threshold"
            )
        value = context.run.metrics.get(metric)
        if value is None:
            return GateResult(
                gate=self.name,
                passed=False,
                threshold=threshold,
                detail=f"run {context.run.id} has no metric {metric!r}",
            )
        goal = Problem(direction=problem.direction, threshold=threshold)
        word = ">=" if problem.direction is Direction.MAXIMIZE else "<="
        passed = goal.meets(value)
        return GateResult(
            gate=self.name,
            passed=passed,
            value=value,
            threshold=threshold,
            detail=f"{metric} = {value:.6g}, needs {word} {threshold:.6g}",
        )


@dataclass(frozen=True)
class NoRegressionGate:
    """The primary metric is not worse than the current champion's by more than
    ``tolerance``, both measured on the same evaluation dataset version.

    When neither run logged evaluation inputs the metrics are compared as they are (the
    detail says so). When both did but share no dataset version (a version retrained on
    data the champion never saw), both models are scored on the candidate's evaluation
    data when the registry can load them (``GateContext.score``); otherwise the gate fails.
    """

    tolerance: float = 0.0
    metric: str | None = None
    name: str = "no_regression"

    def check(self, context: GateContext) -> GateResult:
        metric = _metric(context.problem, self.metric)
        champion, champion_run = context.champion, context.champion_run
        if champion is None or champion_run is None:
            return GateResult(
                gate=self.name, passed=True, detail=f"no current {context.alias} to compare with"
            )
        if champion.version == context.candidate.version:
            return GateResult(
                gate=self.name,
                passed=True,
                detail=f"version {champion.version} is the {context.alias}",
            )
        if metric is None:
            return GateResult(
                gate=self.name, passed=True, detail="the problem names no primary metric"
            )
        ours, theirs = eval_inputs(context.inputs), eval_inputs(context.champion_inputs)
        note = ""
        if ours and theirs and not ours & theirs:
            rescored = self._on_candidate_data(context, metric)
            if rescored is not None:
                return rescored
            return GateResult(
                gate=self.name,
                passed=False,
                detail=f"version {context.candidate.version} and the {context.alias} "
                f"(version {champion.version}) were not evaluated on the same dataset version",
            )
        if not ours or not theirs:
            note = " (no shared evaluation dataset recorded; compared on metrics only)"
        value = context.run.metrics.get(metric)
        base = champion_run.metrics.get(metric)
        if value is None:
            return GateResult(
                gate=self.name,
                passed=False,
                detail=f"run {context.run.id} has no metric {metric!r}",
            )
        if base is None:
            return GateResult(
                gate=self.name,
                passed=True,
                value=value,
                detail=f"the {context.alias} (version {champion.version}) has no {metric!r}",
            )
        return self._compare(context, metric, value, base, note=note)

    def _on_candidate_data(self, context: GateContext, metric: str) -> GateResult | None:
        """Both versions scored on the candidate's evaluation data (the world may have
        moved since the champion was evaluated); None when they cannot be scored."""
        champion, score = context.champion, context.score
        if champion is None or score is None:
            return None
        data = next((i for i in context.inputs if i.context.lower() not in TRAINING_CONTEXTS), None)
        if data is None:
            return None
        value, base = score(context.candidate, data, metric), score(champion, data, metric)
        if value is None or base is None:
            return None
        return self._compare(
            context, metric, value, base, data=f", both scored on {data.name} v{data.version}"
        )

    def _compare(
        self,
        context: GateContext,
        metric: str,
        value: float,
        base: float,
        *,
        data: str = "",
        note: str = "",
    ) -> GateResult:
        """``value`` against the champion's ``base``, within the tolerance."""
        maximize = context.problem.direction is Direction.MAXIMIZE
        floor = base - self.tolerance if maximize else base + self.tolerance
        passed = value >= floor if maximize else value <= floor
        champion = context.champion.version if context.champion is not None else None
        return GateResult(
            gate=self.name,
            passed=passed,
            value=value,
            threshold=floor,
            detail=f"{metric} = {value:.6g} vs {base:.6g} of the {context.alias} "
            f"(version {champion}){data}, tolerance {self.tolerance:g}{note}",
        )


@dataclass(frozen=True)
class FairnessGate:
    """A fairness gap logged by ``mlcycle.evaluate(..., sensitive=...)`` is at most
    ``max_gap``: ``fairness/<column>/<measure>``; the largest over columns when
    ``column`` is None."""

    max_gap: float
    column: str | None = None
    measure: str = "demographic_parity_difference"
    name: str = "fairness"

    def check(self, context: GateContext) -> GateResult:
        prefix = "fairness/" if self.column is None else f"fairness/{self.column}/"
        found = {
            k: v
            for k, v in context.run.metrics.items()
            if k.startswith(prefix) and k.endswith("/" + self.measure)
        }
        if not found:
            return GateResult(
                gate=self.name,
                passed=False,
                threshold=self.max_gap,
                detail=f"run {context.run.id} has no {prefix}...{self.measure} metric; "
                "evaluate with sensitive=...",
            )
        key, gap = max(found.items(), key=lambda kv: kv[1])
        return GateResult(
            gate=self.name,
            passed=gap <= self.max_gap,
            value=gap,
            threshold=self.max_gap,
            detail=f"{key} = {gap:.6g}, needs <= {self.max_gap:g}",
        )


@dataclass(frozen=True)
class LatencyGate:
    """The 99th percentile of ``predict`` on the model's input example is at most
    ``max_p99_ms`` (after ``warmup`` calls, over ``repeats`` calls)."""

    max_p99_ms: float
    repeats: int = 50
    warmup: int = 3
    name: str = "latency_p99"

    def check(self, context: GateContext) -> GateResult:
        if context.load_model is None:
            return GateResult(
                gate=self.name, passed=False, detail="the model cannot be loaded here"
            )
        model = context.load_model(context.candidate)
        example = model.input_example
        if example is None:
            return GateResult(
                gate=self.name,
                passed=False,
                threshold=self.max_p99_ms,
                detail="the model was logged without an input example",
            )
        for _ in range(self.warmup):
            model.predict(example)
        times = []
        for _ in range(max(self.repeats, 1)):
            start = time.perf_counter()
            model.predict(example)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)]
        return GateResult(
            gate=self.name,
            passed=p99 <= self.max_p99_ms,
            value=p99,
            threshold=self.max_p99_ms,
            detail=f"p99 latency {p99:.3g} ms on the input example, "
            f"needs <= {self.max_p99_ms:g} ms",
        )


@dataclass(frozen=True)
class CallableGate:
    """A custom gate: ``fn(context)`` returns a bool, ``(bool, detail)`` or a GateResult."""

    fn: Callable[[GateContext], object]
    name: str = "custom"

    def check(self, context: GateContext) -> GateResult:
        out = self.fn(context)
        if isinstance(out, GateResult):
            return out
        if isinstance(out, tuple) and len(out) == 2:
            return GateResult(gate=self.name, passed=bool(out[0]), detail=str(out[1]))
        if isinstance(out, bool):
            return GateResult(
                gate=self.name, passed=out, detail="passed" if out else "returned False"
            )
        raise InvalidInputError(
            f"gate {self.name!r} returned {type(out).__name__}; return a bool, "
            "(bool, detail) or a GateResult",
            field="gates",
        )


GateLike = Gate | Callable[[GateContext], object]


def as_gate(gate: GateLike) -> Gate:
    """A Gate as it is, or a function wrapped in :class:`CallableGate` under its name."""
    if isinstance(gate, Gate):
        return gate
    if callable(gate):
        return CallableGate(gate, name=getattr(gate, "__name__", "custom"))
    raise InvalidInputError(
        f"a gate must be a Gate or a callable, got {type(gate).__name__}", field="gates"
    )


def default_gates(tolerance: float = 0.0) -> list[Gate]:
    """The gates every promotion runs: the problem's threshold and no regression."""
    return [ThresholdGate(), NoRegressionGate(tolerance=tolerance)]
