"""Prometheus metrics of a serving process, per deployment, arm and model version.

Like the tracking server's (:mod:`mlcycle.server.telemetry`), each app has its own registry,
and with ``--workers N`` the workers share a folder (``PROMETHEUS_MULTIPROC_DIR``) that
``/metrics`` adds up.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from mlcycle.edges import multiproc_dir, render_metrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
)  # fmt: skip
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
_ARM = ("deployment", "arm", "version")


class ServingMetrics:
    """The counters and histograms the serving app updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._multiproc_dir = multiproc_dir()
        r = self.registry
        self.requests = Counter(
            "mlcycle_serving_requests",
            "Prediction requests answered, by deployment, arm, model version and status code",
            [*_ARM, "code"],
            registry=r,
        )
        self.errors = Counter(
            "mlcycle_serving_errors",
            "Failed prediction requests, by kind: input (4xx) or model (the model raised)",
            [*_ARM, "kind"],
            registry=r,
        )
        self.latency = Histogram(
            "mlcycle_serving_request_duration_seconds",
            "Time from a request's arrival to its prediction, by deployment, arm and version",
            list(_ARM),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_requests = Histogram(
            "mlcycle_serving_batch_requests",
            "Requests merged into one predict call",
            list(_ARM),
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            "mlcycle_serving_batch_rows",
            "Rows in one predict call",
            list(_ARM),
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.log_dropped = Counter(
            "mlcycle_serving_prediction_log_dropped_rows",
            "Prediction-log rows dropped because the log's queue was full",
            ["deployment"],
            registry=r,
        )
        self.shadow_dropped = Counter(
            "mlcycle_serving_shadow_dropped",
            "Shadow copies dropped because the shadow model fell behind",
            ["deployment", "arm"],
            registry=r,
        )
        self.reloads = Counter(
            "mlcycle_serving_reloads",
            "Routing tables installed (a new deployment revision or a moved alias)",
            ["deployment"],
            registry=r,
        )
        self.revision = Gauge(
            "mlcycle_serving_deployment_revision",
            "The deployment revision being served",
            ["deployment"],
            registry=r,
            multiprocess_mode="max",
        )

    def render(self) -> bytes:
        """The text exposition format, summed over worker processes when there are several."""
        return render_metrics(self.registry, self._multiproc_dir)


class ArmMetrics:
    """The metric children of one arm, looked up once (labels are not free)."""

    def __init__(self, metrics: ServingMetrics, deployment: str, arm: str, version: str) -> None:
        labels = (deployment, arm, version)
        self._metrics = metrics
        self._labels = labels
        self.latency = metrics.latency.labels(*labels)
        self.batch_requests = metrics.batch_requests.labels(*labels)
        self.batch_rows = metrics.batch_rows.labels(*labels)
        self.model_errors = metrics.errors.labels(*labels, "model")
        self.input_errors = metrics.errors.labels(*labels, "input")
        self.shadow_dropped = metrics.shadow_dropped.labels(deployment, arm)
        self._codes: dict[int, Any] = {}

    def answered(self, code: int, count: int = 1) -> None:
        child = self._codes.get(code)
        if child is None:
            child = self._codes[code] = self._metrics.requests.labels(*self._labels, str(code))
        child.inc(count)
