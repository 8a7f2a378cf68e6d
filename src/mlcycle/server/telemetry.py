"""Prometheus metrics of one server: requests, latency, metric ingest and artifact bytes.

Each app has its own registry (no global state, so tests can build many apps). With several
worker processes (``--workers N``), ``serve`` points prometheus-client at a shared folder
(``PROMETHEUS_MULTIPROC_DIR``) and ``/metrics`` adds up every worker's values.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from mlcycle.edges import multiproc_dir, render_metrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Telemetry:
    """The counters and histograms the server updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._multiproc_dir = multiproc_dir()
        r = self.registry
        self.requests = Counter(
            "mlcycle_http_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "mlcycle_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "mlcycle_http_requests_in_flight",
            "Requests being handled now",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.points = Counter("mlcycle_metric_points_ingested", "Metric points stored", registry=r)
        self.batches = Counter(
            "mlcycle_metric_batches_ingested",
            "Metric batch requests, by result (stored, or duplicate of a retried batch)",
            ["result"],
            registry=r,
        )
        self.artifact_bytes = Counter(
            "mlcycle_artifact_bytes",
            "Artifact bytes through the server, by direction (upload, download)",
            ["direction"],
            registry=r,
        )

    def render(self) -> bytes:
        """The text exposition format, summed over worker processes when there are several."""
        return render_metrics(self.registry, self._multiproc_dir)
