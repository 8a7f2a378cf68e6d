"""``serve``: run the tracking server with uvicorn (what ``mlcycle server`` calls)."""

from __future__ import annotations

from typing import Any

import uvicorn

from mlcycle.edges import check_listen, log_config, run_workers
from mlcycle.server.app import create_app
from mlcycle.server.config import WORKER_OPTIONS_ENV, ServerConfig
from mlcycle.settings import Settings
from mlcycle.store.sql.store import open_store


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
    check_listen(port, workers)
    app = create_app(settings, config)  # checks the settings before anything starts
    # Open the store once before any worker starts: a new store is migrated here rather
    # than by N workers racing, and an outdated one fails now with its message.
    open_store(settings.tracking_uri).close()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config(config.log_level, "mlcycle.server"),
        "access_log": False,  # the server logs one line per request itself
        "timeout_graceful_shutdown": config.graceful_shutdown_s,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return
    handoff = {
        "MLCYCLE_TRACKING_URI": settings.tracking_uri,
        "MLCYCLE_ARTIFACT_URI": settings.artifact_uri,
        WORKER_OPTIONS_ENV: config.to_json(),
    }
    run_workers(
        "mlcycle.server.app:create_app_from_env",
        handoff,
        workers=workers,
        metrics_prefix="mlcycle-prometheus-",
        **options,
    )
