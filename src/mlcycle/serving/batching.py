"""Adaptive micro-batching: concurrent requests to one model merged into one predict call.

Each model has a :class:`MicroBatcher` with its own prediction thread, so a slow model
(a shadow, say) never holds up another, and the event loop only queues and answers.
A batch is sent when it holds ``max_batch_size`` rows, or when its oldest request has
waited ``max_latency_ms``; while the thread is busy, requests gather, so batches grow
with the load by themselves. A request larger than ``max_batch_size`` goes alone. When
the model's recent batches took less than ``max_latency_ms``, an idle thread takes the
queue at once: waiting to merge would cost more time than the extra call it saves (and
the event loop's timers are millisecond-grained, so a short wait is a whole millisecond).

If a merged batch fails, each request is predicted on its own, so one bad request fails
alone. ``on_batch`` (called in the prediction thread) logs and counts each batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlcycle.serving.model import Checked, Prediction, ServedModel

logger = logging.getLogger("mlcycle.serving")


@dataclass(slots=True, kw_only=True)
class Job:
    """One request's rows waiting for (or given) a prediction."""

    columns: Checked
    rows: int
    request_id: str
    time_ms: int
    arrived: float  # time.perf_counter() at arrival
    proba: bool
    log: bool
    future: asyncio.Future[Answer] | None = None
    queued: float = 0.0  # loop.time() when queued


@dataclass(slots=True, frozen=True)
class Answer:
    """A request's share of a batch's prediction."""

    predictions: np.ndarray
    proba: np.ndarray | None
    latency_ms: float


@dataclass(slots=True, frozen=True)
class Outcome:
    """What happened to one job of a batch: its answer, or the exception it raised."""

    job: Job
    answer: Answer | None
    error: BaseException | None


BatchHook = Callable[[list[Outcome], Prediction | None], None]


class MicroBatcher:
    """Queue of one model's requests and the thread that predicts them in batches."""

    def __init__(
        self,
        model: ServedModel,
        *,
        max_batch_size: int,
        max_latency_ms: float,
        on_batch: BatchHook,
        max_queue: int | None = None,
    ) -> None:
        self.model = model
        self.max_batch_size = max(1, max_batch_size)
        self.max_latency_s = max(0.0, max_latency_ms) / 1000.0
        self.on_batch = on_batch
        self.max_queue = max_queue
        self.dropped = 0
        self._pending: deque[Job] = deque()
        self._pending_rows = 0
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"mlcycle-predict-{model.name}")
        self._retired = False
        #: The prediction thread's time per batch (a moving average), in seconds.
        self.batch_s = self.max_latency_s

    def submit(self, job: Job) -> bool:
        """Queue ``job`` (on the event loop); False when the queue is full (dropped)."""
        if self.max_queue is not None and len(self._pending) >= self.max_queue:
            self.dropped += 1
            return False
        loop = self._loop or asyncio.get_running_loop()
        self._loop = loop
        job.queued = loop.time()
        self._pending.append(job)
        self._pending_rows += job.rows
        if not self._busy:
            self._schedule(loop)
        return True

    def retire(self) -> None:
        """Stop the thread once the queued requests are answered (after a model swap)."""
        self._retired = True
        if not self._busy and not self._pending:
            self._executor.shutdown(wait=False)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._pending:
            return
        due = self._pending[0].queued + self.max_latency_s
        if (
            self._pending_rows >= self.max_batch_size
            or self.batch_s < self.max_latency_s
            or loop.time() >= due
        ):
            self._dispatch()
        elif self._timer is None:
            self._timer = loop.call_at(due, self._dispatch)

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._busy or not self._pending:
            return
        jobs = [self._pending.popleft()]
        rows = jobs[0].rows
        while self._pending and rows + self._pending[0].rows <= self.max_batch_size:
            job = self._pending.popleft()
            rows += job.rows
            jobs.append(job)
        self._pending_rows -= rows
        self._busy = True
        assert self._loop is not None
        future = self._loop.run_in_executor(self._executor, self._run, jobs)
        future.add_done_callback(self._done)

    def _run(self, jobs: list[Job]) -> list[Outcome]:
        started = time.perf_counter()
        try:
            return self._predict(jobs)
        finally:
            self.batch_s = 0.8 * self.batch_s + 0.2 * (time.perf_counter() - started)

    def _predict(self, jobs: list[Job]) -> list[Outcome]:
        proba = any(job.proba or job.log for job in jobs)
        prediction: Prediction | None = None
        try:
            prediction = self.model.predict([job.columns for job in jobs], proba=proba)
            outcomes = _split(jobs, prediction)
        except Exception as exc:
            if len(jobs) == 1:
                outcomes = [Outcome(jobs[0], None, exc)]
            else:  # find the request that fails; the others still get answers
                outcomes = []
                for job in jobs:
                    outcomes.extend(self._predict([job]))
                return outcomes
        try:
            self.on_batch(outcomes, prediction)
        except Exception:  # logging or metrics must never fail a request
            logger.exception("recording a batch of %s failed", self.model.label)
        return outcomes

    def _done(self, future: asyncio.Future[list[Outcome]]) -> None:
        self._busy = False
        try:
            outcomes = future.result()
        except BaseException as exc:  # the executor itself failed (shutting down)
            outcomes = []
            logger.error("prediction thread of %s failed: %s", self.model.label, exc)
        for outcome in outcomes:
            target = outcome.job.future
            if target is None or target.done():
                continue
            if outcome.error is not None:
                target.set_exception(outcome.error)
            else:
                assert outcome.answer is not None
                target.set_result(outcome.answer)
        if self._pending and self._loop is not None:
            self._schedule(self._loop)
        elif self._retired:
            self._executor.shutdown(wait=False)


def _split(jobs: list[Job], prediction: Prediction) -> list[Outcome]:
    now = time.perf_counter()
    outcomes = []
    start = 0
    preds, proba = prediction.predictions, prediction.proba
    for job in jobs:
        stop = start + job.rows
        answer = Answer(
            preds[start:stop],
            None if proba is None else proba[start:stop],
            (now - job.arrived) * 1000.0,
        )
        outcomes.append(Outcome(job, answer, None))
        start = stop
    return outcomes


def consume(future: asyncio.Future[Any]) -> None:
    """A done-callback that retrieves a fire-and-forget future's exception (no warning)."""
    if not future.cancelled():
        future.exception()
