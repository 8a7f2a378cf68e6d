"""The explainers of the served versions, and the queue that merges concurrent explain
requests into one predict call and one explain call.

Each served version builds its explainer once, on its first explain request (importing
shap takes seconds, so a version nobody explains never pays for it), with a background
set drawn once from the version's input example (tree ensembles need none).

Explaining a row of a tree model through shap costs a fixed setup plus a little per row,
and a process explains on one core at a time (the GIL), so concurrent requests that each
explained alone would queue behind one another. Instead, as the micro-batcher does for
predictions, a version's explain requests wait while its previous batch runs and then go
together (up to ``max_rows`` rows): one predict call, one SHAP call, each request given
its rows. Requests to the model-agnostic explainer, which works row by row within each
request's time budget, go alone. If a merged batch fails, each of its requests is tried on
its own, so one bad request fails alone.

>>> queue = explainers.queue(served_model)  # doctest: +SKIP
>>> explained = await queue.explain(checked, rows=1, budget_s=1.0)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.explainers import Attributions, ShapExplainer, shap_explainer
from mlcycle.serving.model import Checked, Prediction, ServedModel

#: Background rows kept from a version's input example.
BACKGROUND_ROWS = 100
#: Threads explaining batches (each version has at most one batch running).
EXPLAIN_THREADS = 2


@dataclass(frozen=True, slots=True)
class Explained:
    """One request's rows: their prediction and attributions, and the time they took
    from arrival (queueing included, building the explainer excluded)."""

    prediction: Prediction
    attributions: Attributions
    latency_ms: float


@dataclass(slots=True, kw_only=True)
class _Job:
    checked: Checked
    rows: int
    budget_s: float
    arrived: float  # time.perf_counter()
    future: asyncio.Future[Explained]


@dataclass(frozen=True, slots=True)
class _Outcome:
    job: _Job
    explained: Explained | None
    error: BaseException | None


class Explainers:
    """The explainer and the explain queue of each served version, built on first use."""

    def __init__(self, *, seed: int = 0, max_rows: int = 100) -> None:
        self._built: dict[str, ShapExplainer] = {}
        self._queues: dict[str, ExplainQueue] = {}
        self._lock = threading.Lock()
        self._seed = seed
        self._max_rows = max_rows
        self._executor: ThreadPoolExecutor | None = None

    def queue(self, model: ServedModel) -> ExplainQueue:
        """The explain queue of ``model`` (called on the event loop)."""
        found = self._queues.get(model.key)
        if found is None:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    EXPLAIN_THREADS, thread_name_prefix="mlcycle-explain"
                )
            found = self._queues[model.key] = ExplainQueue(
                model, self, self._executor, max_rows=self._max_rows
            )
        return found

    def built(self, model: ServedModel) -> ShapExplainer | None:
        """The explainer of ``model`` if it has been built."""
        return self._built.get(model.key)

    def get(self, model: ServedModel, rows: Any) -> ShapExplainer:
        """The explainer of ``model``, built now (with ``rows``, a DataFrame, as the
        background when the model has no input example) if it was not."""
        found = self._built.get(model.key)
        if found is not None:
            return found
        with self._lock:
            found = self._built.get(model.key)
            if found is None:
                found = self._build(model, rows)
                self._built[model.key] = found
        return found

    def close(self) -> None:
        """Stop the explain threads once their batches are done."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    def _build(self, model: ServedModel, rows: Any) -> ShapExplainer:
        classes = model.classes
        classifier = classes is not None
        if classifier and len(classes or ()) != 2:
            raise InvalidInputError(
                "explanations are served for regressors and binary classifiers",
                field="model",
            )
        example = model.model.input_example
        background = rows if example is None or not len(example) else model.model.prepare(example)
        if len(background) > BACKGROUND_ROWS:
            rng = np.random.default_rng(self._seed)
            background = background.iloc[rng.choice(len(background), BACKGROUND_ROWS, False)]
        return shap_explainer(
            model.model,
            background,
            positive_index=1 if classifier else None,
            positive_label=None if classes is None else classes[1],
            classifier=classifier,
            seed=self._seed,
        )


class ExplainQueue:
    """One served version's explain requests, merged into batches while one runs."""

    def __init__(
        self,
        model: ServedModel,
        explainers: Explainers,
        executor: ThreadPoolExecutor,
        *,
        max_rows: int,
    ) -> None:
        self.model = model
        self.max_rows = max(1, max_rows)
        self._explainers = explainers
        self._executor = executor
        self._pending: deque[_Job] = deque()
        self._busy = False
        #: batches run so far, and the requests they held
        self.batches = 0
        self.requests = 0
        order = [s.name for s in model.specs] if model.specs else None
        self._order = tuple(order) if order is not None else None

    async def explain(self, checked: Checked, *, rows: int, budget_s: float) -> Explained:
        """Predict and explain one request's rows (checked by ``model.check``)."""
        loop = asyncio.get_running_loop()
        job = _Job(
            checked=checked,
            rows=rows,
            budget_s=budget_s,
            arrived=time.perf_counter(),
            future=loop.create_future(),
        )
        self._pending.append(job)
        if not self._busy:
            self._dispatch(loop)
        return await job.future

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._busy or not self._pending:
            return
        jobs = [self._pending.popleft()]
        explainer = self._explainers.built(self.model)
        if explainer is not None and not explainer.per_row:
            rows = jobs[0].rows
            while self._pending and rows + self._pending[0].rows <= self.max_rows:
                job = self._pending.popleft()
                rows += job.rows
                jobs.append(job)
        self._busy = True
        self.batches += 1
        self.requests += len(jobs)
        future = loop.run_in_executor(self._executor, self._run, jobs)
        future.add_done_callback(lambda done: self._done(done, loop))

    def _done(
        self, future: asyncio.Future[list[_Outcome]], loop: asyncio.AbstractEventLoop
    ) -> None:
        self._busy = False
        try:
            outcomes = future.result()
        except BaseException as exc:  # the executor itself failed (shutting down)
            outcomes = []
            for job in self._pending:
                if not job.future.done():
                    job.future.set_exception(exc)
            self._pending.clear()
        for outcome in outcomes:
            target = outcome.job.future
            if target.done():
                continue
            if outcome.error is not None:
                target.set_exception(outcome.error)
            else:
                assert outcome.explained is not None
                target.set_result(outcome.explained)
        self._dispatch(loop)

    # -- in the explain thread --------------------------------------------------------

    def _run(self, jobs: list[_Job]) -> list[_Outcome]:
        try:
            return self._explain(jobs)
        except Exception as exc:
            if len(jobs) == 1:
                return [_Outcome(jobs[0], None, exc)]
            outcomes: list[_Outcome] = []
            for job in jobs:  # find the request that fails; the others still get answers
                outcomes.extend(self._run([job]))
            return outcomes

    def _explain(self, jobs: list[_Job]) -> list[_Outcome]:
        started = time.perf_counter()
        parts = [job.checked for job in jobs]
        prediction = self.model.predict(parts, proba=True)
        explainer = self._explainers.built(self.model)
        building = 0.0
        if explainer is None:  # the version's first request builds it, outside its budget
            before = time.perf_counter()
            explainer = self._explainers.get(self.model, _frame(prediction, self.model))
            building = time.perf_counter() - before
        rows = self._rows(explainer, parts, prediction)
        budget = None
        if len(jobs) == 1:
            budget = jobs[0].budget_s - (time.perf_counter() - started - building)
        attributions = explainer.explain(rows, budget_s=budget)
        done = time.perf_counter()
        outcomes = []
        start = 0
        for job in jobs:
            stop = start + job.rows
            explained = Explained(
                prediction=_rows_of(prediction, start, stop),
                attributions=replace(attributions, values=attributions.values[start:stop]),
                latency_ms=(done - job.arrived - building) * 1000.0,
            )
            outcomes.append(_Outcome(job, explained, None))
            start = stop
        return outcomes

    def _rows(self, explainer: ShapExplainer, parts: list[Checked], prediction: Prediction) -> Any:
        """The rows as the explainer takes them: the request's float matrix as it came
        when its columns are the explainer's features in order, else a DataFrame."""
        blocks = [part for part in parts if isinstance(part, np.ndarray)]
        whole = len(blocks) == len(parts)
        if whole and explainer.takes_arrays and self._order == explainer.features:
            return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
        return _frame(prediction, self.model)


def _frame(prediction: Prediction, model: ServedModel) -> Any:
    import pandas as pd

    frame = pd.DataFrame({name: np.asarray(v) for name, v in prediction.columns.items()})
    return model.model.prepare(frame)


def _rows_of(prediction: Prediction, start: int, stop: int) -> Prediction:
    proba = prediction.proba
    return Prediction(
        predictions=prediction.predictions[start:stop],
        proba=None if proba is None else proba[start:stop],
        columns={name: values[start:stop] for name, values in prediction.columns.items()},
    )
