"""``serve``: run the tracking server with uvicorn (what ``mlcycle server`` calls)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import uvicorn

from mlcycle.errors import InvalidInputError
from mlcycle.server.app import create_app
from mlcycle.server.config import WORKER_OPTIONS_ENV, ServerConfig
from mlcycle.server.telemetry import MULTIPROC_ENV
from mlcycle.settings import Settings
from mlcycle.store.sql.store import open_store


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's loggers and the server's (one access line per request) on stderr."""
    upper = level.upper()
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
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "mlcycle.server": {"handlers": ["stderr"], "level": upper, "propagate": False},
        },
    }


def serve(
    settings: Settings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    config: ServerConfig | None = None,
) -> None:
    """Serve the tracking API until the process is stopped (Ctrl-C or SIGTERM, after which
    in-flight requests finish, for up to ``config.graceful_shutdown_s`` seconds).

    ``settings`` names the store and artifact location (default: from the environment).
    With ``workers`` > 1, that many processes share the port and the store; each opens
    its own connections.

    Raises:
        InvalidInputError: a bad option, or ``settings`` naming a server instead of a store.
        SchemaOutdatedError: the store needs ``mlcycle db upgrade``.
    """
    settings = settings or Settings.from_env()
    config = config or ServerConfig()
    if workers < 1:
        raise InvalidInputError("workers must be at least 1", field="workers")
    if not 0 <= port <= 65535:
        raise InvalidInputError("port must be between 0 and 65535", field="port")
    app = create_app(settings, config)  # checks the settings before anything starts
    # Open the store once before any worker starts: a new store is migrated here rather
    # than by N workers racing, and an outdated one fails now with its message.
    open_store(settings.tracking_uri).close()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config(config.log_level),
        "access_log": False,  # the server logs one line per request itself
        "timeout_graceful_shutdown": config.graceful_shutdown_s,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return
    with tempfile.TemporaryDirectory(prefix="mlcycle-prometheus-") as metrics_dir:
        # Worker processes start fresh interpreters: the settings reach them through
        # their environment, which they inherit from this one.
        handoff = {
            "MLCYCLE_TRACKING_URI": settings.tracking_uri,
            "MLCYCLE_ARTIFACT_URI": settings.artifact_uri,
            WORKER_OPTIONS_ENV: config.to_json(),
            MULTIPROC_ENV: metrics_dir,
        }
        saved = {key: os.environ.get(key) for key in handoff}
        os.environ.update(handoff)
        try:
            uvicorn.run(
                "mlcycle.server.app:create_app_from_env", factory=True, workers=workers, **options
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
