"""What the two HTTP edges share: the tracking server (:mod:`mlcycle.server`) and the model
server (:mod:`mlcycle.serving`) run on uvicorn the same way.

* :func:`log_config` - uvicorn's loggers and the edge's own on stderr, one line each;
* :func:`check_listen` - the port and worker count, refused with the field named;
* :func:`run_workers` - several worker processes sharing the port: the settings and options
  handed down through the environment they inherit, and one Prometheus multiprocess
  folder (:data:`MULTIPROC_ENV`) that ``/metrics`` sums (:func:`render_metrics`).

    >>> uvicorn.run(app, host="127.0.0.1", port=5000,
    ...             log_config=log_config("info", "mlcycle.server"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from mlcycle.errors import InvalidInputError

#: Where worker processes keep their metric files (prometheus-client's own convention).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def log_config(level: str, *loggers: str) -> dict[str, Any]:
    """uvicorn's loggers and ``loggers`` (the edge's own) on stderr at ``level``."""
    handler = {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {name: dict(handler) for name in ("uvicorn", *loggers)},
    }


def check_listen(port: int, workers: int) -> None:
    """Refuse a port outside 0-65535 or fewer than one worker (InvalidInputError)."""
    if workers < 1:
        raise InvalidInputError("workers must be at least 1", field="workers")
    if not 0 <= port <= 65535:
        raise InvalidInputError("port must be between 0 and 65535", field="port")


def multiproc_dir() -> str | None:
    """This worker's shared metrics folder, or None in a single process."""
    return os.environ.get(MULTIPROC_ENV) or None


def render_metrics(registry: CollectorRegistry, shared_dir: str | None) -> bytes:
    """The text exposition of ``registry``, or of every worker's values summed when the
    workers share ``shared_dir``."""
    if shared_dir is None:
        return generate_latest(registry)
    combined = CollectorRegistry()
    MultiProcessCollector(combined, path=shared_dir)  # type: ignore[no-untyped-call]
    return generate_latest(combined)


def run_workers(
    factory: str,
    handoff: Mapping[str, str],
    *,
    workers: int,
    metrics_prefix: str,
    **options: Any,
) -> None:
    """Run ``workers`` processes of the app ``factory`` builds (``"module:function"``).

    Worker processes start fresh interpreters: ``handoff`` (the settings, the options as
    JSON) reaches them through the environment they inherit from this process, with a
    temporary metrics folder; this process's environment is restored afterwards.
    """
    with tempfile.TemporaryDirectory(prefix=metrics_prefix) as metrics_dir:
        env = {**handoff, MULTIPROC_ENV: metrics_dir}
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            uvicorn.run(factory, factory=True, workers=workers, **options)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
