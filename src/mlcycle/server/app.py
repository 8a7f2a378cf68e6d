"""``create_app``: the tracking server as a FastAPI application.

The store, artifact store and tracking service are opened in the lifespan and live in its
state (``request.state``), one set per process; nothing is kept in module globals, so a
test can build as many apps as it likes and ``--workers N`` gives each worker its own.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from mlcycle import __version__
from mlcycle.errors import InvalidInputError
from mlcycle.server import errors, ui
from mlcycle.server.auth import DEFAULT_PUBLIC_PATHS, AuthMiddleware, authorization
from mlcycle.server.config import WORKER_OPTIONS_ENV, ServerConfig
from mlcycle.server.middleware import RequestContext
from mlcycle.server.mlflow import mlflow_context, mlflow_router
from mlcycle.server.responses import document
from mlcycle.server.routes import (
    artifacts,
    datasets,
    deployments,
    experiments,
    governance,
    metrics,
    monitoring,
    ops,
    prediction_logs,
    registry,
    runs,
)
from mlcycle.server.services import open_server_backend
from mlcycle.server.state import lifespan_state
from mlcycle.server.telemetry import Telemetry
from mlcycle.settings import Settings

_DESCRIPTION = """\
The mlcycle tracking server: experiments, runs, params, metrics, tags and artifacts over
HTTP, for teams sharing one store. Python users point `MLCYCLE_TRACKING_URI` at it and keep
their code. Errors have one shape: `{"error": {"type", "message", "field"?}}`.
"""


def create_app(settings: Settings | None = None, config: ServerConfig | None = None) -> FastAPI:
    """Build the server app for the store and artifact location in ``settings``.

    No I/O happens here: the store is opened (and a new, empty one migrated) when the app
    starts, and closed when it stops.

    >>> app = create_app(Settings.from_env({"MLCYCLE_TRACKING_URI": "sqlite:///x.db"}))
    >>> # uvicorn.run(app, host="127.0.0.1", port=5000)
    """
    settings = settings or Settings.from_env()
    config = config or ServerConfig()
    if settings.is_remote:
        raise InvalidInputError(
            "the server needs a store URI (sqlite:/// or postgresql+psycopg://), "
            f"not another server: {settings.tracking_uri}",
            field="tracking_uri",
        )
    telemetry = Telemetry()

    auth = config.auth or settings.auth

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        # the one composition root, as for the client: every service audited and guarded
        backend = await run_in_threadpool(partial(open_server_backend, settings, auth=auth))
        state = await run_in_threadpool(lifespan_state, backend, auth=auth)
        mlflow = mlflow_context(
            backend.tracking_service,
            backend.registry_service,
            backend.store,
            artifacts_destination=config.mlflow_artifacts_destination,
        )
        try:
            yield {**state, "telemetry": telemetry, "mlflow": mlflow}
        finally:
            backend.close()

    app = FastAPI(
        title="mlcycle tracking server",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # the UI serves /docs with Swagger UI's files from the package
        redoc_url=None,
        dependencies=[authorization()] if auth else None,
    )
    errors.install(app)
    for module in (
        experiments,
        runs,
        metrics,
        artifacts,
        ops,
        governance,
        registry,
        deployments,
        prediction_logs,
        monitoring,
        datasets,
    ):
        app.include_router(module.router)
    app.include_router(mlflow_router())  # MLflow's REST API (docs/mlflow.md)
    app.include_router(ui.router())  # the web UI at / (docs/ui.md)
    if auth:
        app.add_middleware(
            AuthMiddleware,
            public_paths=DEFAULT_PUBLIC_PATHS | ui.PUBLIC_PATHS,
            public_prefixes=ui.PUBLIC_PREFIXES,
            login_path=ui.LOGIN_PATH,
        )  # inside RequestContext: 401s get request IDs
    app.add_middleware(RequestContext, telemetry=telemetry, config=config)
    document(app)  # the entity schemas of the native routes' answers
    return app


def create_app_from_env() -> FastAPI:
    """The app factory each worker process of ``serve(..., workers=N)`` calls."""
    options = ServerConfig.from_json(os.environ.get(WORKER_OPTIONS_ENV))
    return create_app(Settings.from_env(), options)
