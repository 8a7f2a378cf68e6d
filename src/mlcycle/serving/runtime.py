"""The serving runtime of one process: the routing table and the threads around it.

* A control thread polls the :class:`RouteSource` every ``poll_interval_s``; when the
  deployment's revision or an arm's resolved model changes, it loads and warms the new
  models (reusing loaded ones), then installs a new :class:`RouteTable` in one assignment.
  Requests already queued finish on the old models: nothing fails during a swap.
* The same thread judges a running canary every ``canary_interval_s`` (the source's
  ``canary_tick``, with the per-arm stats of this process since the step began).
* :meth:`Runtime.infer` (on the event loop) routes, checks, queues and awaits one request;
  each batch's bookkeeping (metrics, prediction log, recent answers) happens in the
  prediction thread.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mlcycle.clock import system_clock
from mlcycle.deployments.prediction_logs import (
    LogEntry,
    LogRoot,
    PredictionLogWriter,
    RequestSpan,
    logged_request_ids,
)
from mlcycle.entities.deployments import ArmRole, DeploymentStatus, Strategy
from mlcycle.errors import ConflictError, InvalidInputError, ModelRetiredError, NotFoundError
from mlcycle.serving.batching import Answer, Job, MicroBatcher, Outcome
from mlcycle.serving.config import ServingConfig
from mlcycle.serving.decode import Inputs
from mlcycle.serving.errors import NotReadyError
from mlcycle.serving.metrics import ArmMetrics, ServingMetrics
from mlcycle.serving.model import Prediction, ServedModel
from mlcycle.serving.routing import ArmRuntime, RouteTable
from mlcycle.serving.sources import ArmTarget, FeedbackOutcome, RouteSource, check_servable
from mlcycle.serving.stats import Answered, ArmRecords, RecentRequests, same_label

logger = logging.getLogger("mlcycle.serving")

FEEDBACK_LOOKBACK_MS = 7 * 24 * 3_600_000


class PredictionFailedError(Exception):
    """The model raised while predicting this request (HTTP 500)."""

    def __init__(self, request_id: str, target: ArmTarget) -> None:
        super().__init__(f"the model failed to predict request {request_id}; see the server log")
        self.request_id = request_id
        self.target = target


@dataclass(slots=True, frozen=True)
class Served:
    """A request's answer and the arm that gave it."""

    arm: ArmRuntime
    answer: Answer


class Runtime:
    """Everything one serving process holds; built by the app, started in its lifespan."""

    def __init__(
        self,
        source: RouteSource,
        *,
        artifact_root: LogRoot,
        config: ServingConfig | None = None,
        metrics: ServingMetrics | None = None,
        clock: Callable[[], int] = system_clock,
    ) -> None:
        self.source = source
        self.name = source.name
        self.artifact_root = artifact_root
        self.config = config or ServingConfig()
        self.metrics = metrics or ServingMetrics()
        self.clock = clock
        self.table: RouteTable | None = None
        self.gone: str | None = None
        self.recent = RecentRequests(self.config.recent_requests)
        self.records = ArmRecords()
        self.writer = PredictionLogWriter(
            artifact_root,
            max_queued_rows=self.config.log_max_queued_rows,
            flush_rows=self.config.log_flush_rows,
            flush_interval_s=self.config.log_flush_interval_s,
        )
        self._signature: object = None
        self._failed: object = None
        self._drops_seen = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._log_dropped = self.metrics.log_dropped.labels(self.name)

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Load and warm the models (raising when they cannot serve), then start the
        control thread. Blocking; a second call does nothing."""
        if self._thread is not None:
            return
        for arm in self.source.deployment().arms:
            check_servable(self.source.resolve(arm))
        self.refresh(initial=True)
        # Everything loaded so far (libraries, models) lives as long as the process: keep
        # it out of the garbage collector's full passes, which would otherwise pause
        # the server for hundreds of milliseconds under load.
        gc.freeze()
        self.writer.start()
        self._thread = threading.Thread(target=self._control, name="mlcycle-serving", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, let queued requests finish, write the prediction log."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.table is not None:
            for arm in self.table.arms:
                arm.batcher.retire()
        self.writer.close()
        self.source.close()

    @property
    def ready(self) -> bool:
        return self.table is not None

    def _control(self) -> None:
        next_tick = time.monotonic() + self.config.canary_interval_s
        while not self._stop.wait(self.config.poll_interval_s):
            try:
                self.refresh()
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.config.canary_interval_s
                    if self.canary_tick() is not None:
                        self.refresh()
            except Exception:
                logger.exception(
                    "refreshing deployment %s failed; serving what is loaded", self.name
                )
            self._sync_drops()

    def _sync_drops(self) -> None:
        dropped = self.writer.dropped
        if dropped > self._drops_seen:
            self._log_dropped.inc(dropped - self._drops_seen)
            self._drops_seen = dropped

    # -- reloading --------------------------------------------------------------------

    def refresh(self, *, initial: bool = False) -> bool:
        """Read the source; install a new table when something changed. True if it did."""
        try:
            deployment = self.source.deployment()
        except NotFoundError as exc:
            if initial:
                raise
            self.gone = str(exc)
            return False
        if deployment.status is DeploymentStatus.DELETED:
            self.gone = f"deployment {deployment.name!r} was deleted"
            return False
        self.gone = None
        current = {a.name: a for a in self.table.arms} if self.table else {}
        targets: list[ArmTarget] = []
        for arm in deployment.arms:
            try:
                targets.append(self.source.resolve(arm))
            except (NotFoundError, InvalidInputError) as exc:
                old = current.get(arm.name)
                if initial or old is None or old.target.arm.model_uri != arm.model_uri:
                    if initial:
                        raise
                    logger.warning("arm %s of %s does not resolve: %s", arm.name, self.name, exc)
                    return False
                targets.append(replace(old.target, arm=arm))
        signature = (deployment.revision, deployment.options, tuple(
            (t.arm, t.key, t.retired) for t in targets
        ))  # fmt: skip
        if signature == self._signature:
            if self.table is not None and self.table.deployment != deployment:
                self.table = RouteTable(deployment, self.table.arms)
            return False
        try:
            arms = self._build(deployment, targets, current)
        except Exception:
            if initial:
                raise
            if signature != self._failed:
                logger.exception(
                    "loading the new models of %s failed; the old ones serve", self.name
                )
                self._failed = signature
            return False
        old_table, self.table = self.table, RouteTable(deployment, arms)
        gc.freeze()  # the new models, like the first ones, stay for long
        self._signature = signature
        self.metrics.reloads.labels(self.name).inc()
        self.metrics.revision.labels(self.name).set(deployment.revision)
        if old_table is not None:
            kept = {id(a.batcher) for a in arms}
            for old_arm in old_table.arms:
                if id(old_arm.batcher) not in kept:
                    old_arm.batcher.retire()
        logger.info(
            "%s now serves revision %d: %s",
            self.name,
            deployment.revision,
            ", ".join(f"{a.name}={a.target.label} ({a.weight:g}% {a.role.value})" for a in arms),
        )
        return True

    def _build(
        self, deployment: Any, targets: list[ArmTarget], current: dict[str, ArmRuntime]
    ) -> list[ArmRuntime]:
        loaded = {a.target.key: a.model for a in current.values()}
        options = deployment.options
        arms: list[ArmRuntime] = []
        for target in targets:
            old = current.get(target.arm.name)
            if (
                old is not None
                and old.target == target
                and self.table is not None
                and self.table.deployment.options == options
            ):
                arms.append(old)
                continue
            model = loaded.get(target.key)
            if model is None:
                model = self._load(target)
                loaded[target.key] = model
            arms.append(self._arm(target, model, options))
        return arms

    def _load(self, target: ArmTarget) -> ServedModel:
        native = self.source.load(target)
        model = ServedModel(
            native, key=target.key, name=target.name, version=target.version, label=target.label
        )
        model.warm()
        return model

    def _arm(self, target: ArmTarget, model: ServedModel, options: Any) -> ArmRuntime:
        metrics = ArmMetrics(self.metrics, self.name, target.arm.name, target.label)
        shadow = target.arm.role is ArmRole.SHADOW
        hook = _BatchHook(self, target, metrics, model)
        batcher = MicroBatcher(
            model,
            max_batch_size=options.max_batch_size,
            max_latency_ms=options.max_latency_ms,
            on_batch=hook,
            max_queue=self.config.max_shadow_queue if shadow else None,
        )
        return ArmRuntime(target=target, model=model, batcher=batcher, metrics=metrics)

    # -- requests ---------------------------------------------------------------------

    def current(self) -> RouteTable:
        """The table to route with; raises when there is nothing to serve."""
        if self.gone is not None:
            raise NotFoundError(self.gone, field="deployment")
        table = self.table
        if table is None:
            raise NotReadyError("the models are still loading")
        return table

    async def infer(
        self,
        inputs: Inputs,
        *,
        request_id: str,
        routing_key: str | None,
        proba: bool,
        version: str | None = None,
    ) -> Served:
        """Route, check and predict one request; shadows get a copy. Raises
        InvalidInputError (bad input), ModelRetiredError, PredictionFailedError."""
        arrived = time.perf_counter()
        table = self.current()
        options = table.deployment.options
        if routing_key is None and options.routing_key is not None:
            routing_key = _key_from(inputs, options.routing_key)
        if version is not None:
            arm = table.by_version(version)
            if arm is None:
                raise NotFoundError(
                    f"version {version!r} is not served by {self.name}", field="version"
                )
        else:
            arm = table.pick(routing_key)
        if arm.target.retired is not None:
            arm.metrics.answered(410)
            raise ModelRetiredError(f"{self.name}: {arm.target.retired}")
        try:
            columns = arm.model.check(inputs)
        except InvalidInputError:
            arm.metrics.input_errors.inc()
            raise
        rate = options.log_sample_rate
        now_ms = self.clock()
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        arm.batcher.submit(
            Job(
                columns=columns,
                rows=inputs.rows,
                request_id=request_id,
                time_ms=now_ms,
                arrived=arrived,
                proba=proba,
                log=rate >= 1.0 or (rate > 0 and random.random() < rate),
                future=future,
            )
        )
        for shadow in table.shadows_for(routing_key):
            self._shadow(shadow, inputs, request_id, now_ms, arrived)
        try:
            answer = await future
        except Exception as exc:
            logger.error(
                "request %s: model %s (arm %s) raised while predicting",
                request_id,
                arm.target.label,
                arm.name,
                exc_info=exc,
            )
            raise PredictionFailedError(request_id, arm.target) from exc
        return Served(arm, answer)

    def _shadow(
        self, arm: ArmRuntime, inputs: Inputs, request_id: str, now_ms: int, arrived: float
    ) -> None:
        try:
            columns = arm.model.check(inputs)
        except InvalidInputError:
            arm.metrics.input_errors.inc()
            return
        job = Job(
            columns=columns,
            rows=inputs.rows,
            request_id=request_id,
            time_ms=now_ms,
            arrived=arrived,
            proba=False,
            log=True,
        )
        if not arm.batcher.submit(job):
            arm.metrics.shadow_dropped.inc()

    # -- canary and feedback ----------------------------------------------------------

    def canary_tick(self) -> object | None:
        """Report this process's per-arm stats to the source when a canary runs."""
        table = self.table
        if table is None:
            return None
        deployment = table.deployment
        if deployment.strategy is not Strategy.CANARY or deployment.canary is None:
            return None
        since = deployment.canary.step_started_at
        stats = {
            arm.name: self.records.stats(arm.name, arm.target.version, since)
            for arm in table.serving
        }
        try:
            return self.source.canary_tick(stats, self.clock(), deployment.revision)
        except ConflictError:
            return None  # another process moved the canary first; the next poll sees it

    def feedback(self, items: Sequence[tuple[str, Any]]) -> FeedbackOutcome:
        """Store labels (blocking); IDs neither recent nor in the prediction log are
        reported unknown. Labels of one-row answers count toward the arm's accuracy."""
        missing = {rid for rid, _ in items if rid not in self.recent}
        logged: set[str] = set()
        if missing:
            self.writer.flush()
            since = self.clock() - FEEDBACK_LOOKBACK_MS
            logged = logged_request_ids(self.artifact_root, self.name, missing, since_ms=since)
        outcome = self.source.record_feedback(
            items, lambda rid: rid in self.recent or rid in logged
        )
        for rid, label in items:
            answered = self.recent.get(rid)
            if answered is not None and answered.rows == 1:
                self.records.label(
                    answered.arm, answered.time_ms, same_label(answered.first, label)
                )
        return outcome


class _BatchHook:
    """Bookkeeping of one arm's batches, in its prediction thread."""

    def __init__(
        self, runtime: Runtime, target: ArmTarget, metrics: ArmMetrics, model: ServedModel
    ) -> None:
        self.runtime = runtime
        self.classes = model.classes
        self.target = target
        self.metrics = metrics
        self.serving = target.arm.role is ArmRole.SERVING

    def __call__(self, outcomes: list[Outcome], prediction: Prediction | None) -> None:
        runtime, metrics, arm = self.runtime, self.metrics, self.target.arm.name
        if prediction is not None:
            metrics.batch_requests.observe(len(outcomes))
            metrics.batch_rows.observe(len(prediction.predictions))
        spans: list[RequestSpan] = []
        # the batch's answers are recorded together: one ring write, one counter
        # increment and one lock for the recent answers, not one of each per request
        times: list[int] = []
        latencies: list[float] = []
        recent: list[tuple[str, Answered]] = []
        observe = metrics.latency.observe
        start = 0
        for outcome in outcomes:
            job = outcome.job
            answer = outcome.answer
            if answer is None:
                runtime.records.request(arm, job.time_ms, 0.0, True)
                metrics.model_errors.inc()
                if self.serving:
                    metrics.answered(500)
                continue
            times.append(job.time_ms)
            latencies.append(answer.latency_ms)
            observe(answer.latency_ms / 1000.0)
            if self.serving:
                first = answer.predictions[0] if len(answer.predictions) else None
                recent.append((job.request_id, Answered(arm, job.rows, first, job.time_ms)))
            if job.log and prediction is not None:
                spans.append(
                    RequestSpan(
                        request_id=job.request_id,
                        time_ms=job.time_ms,
                        start=start,
                        stop=start + job.rows,
                        latency_ms=answer.latency_ms,
                    )
                )
            start += job.rows
        if times:
            runtime.records.answered(arm, times, latencies)
            metrics.answered(200, len(times))
        if recent:
            runtime.recent.add_many(recent)
        if spans and prediction is not None:
            model = self.target
            runtime.writer.append(
                LogEntry(
                    deployment=runtime.name,
                    model=model.name,
                    version=model.version,
                    arm=arm,
                    columns=prediction.columns,
                    predictions=prediction.predictions,
                    proba=prediction.proba,
                    classes=self.classes,
                    requests=spans,
                )
            )


def _key_from(inputs: Inputs, field: str) -> str | None:
    columns = inputs.named_columns()
    if columns is None:
        return None
    values = columns.get(field)
    if values is None or len(values) == 0:
        return None
    return str(values[0])
