"""Run a serving process: one model URI (``mlcycle serve``) or a stored deployment
(``mlcycle deployments serve``), with uvicorn, in one or several worker processes."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import orjson
import uvicorn

import mlcycle
from mlcycle.edges import check_listen, log_config, run_workers
from mlcycle.entities.deployments import ServingOptions
from mlcycle.errors import InvalidInputError
from mlcycle.serving.app import ServingApp
from mlcycle.serving.config import WORKER_OPTIONS_ENV, ServingConfig
from mlcycle.serving.runtime import Runtime
from mlcycle.serving.sources import RouteSource, StaticRouteSource, check_servable
from mlcycle.serving.store_source import StoreRouteSource
from mlcycle.settings import Settings

WORKER_START_TIMEOUT_S = 120

#: What a worker process serves (JSON), next to its options in WORKER_OPTIONS_ENV.
TARGET_ENV = "MLCYCLE_SERVING_TARGET"


def serve_model(
    uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    name: str | None = None,
    options: ServingOptions | None = None,
    config: ServingConfig | None = None,
    settings: Settings | None = None,
) -> None:
    """Serve the model at ``uri`` until stopped (blocking).

    ``uri`` is ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` (followed: when the alias
    moves, the new version is loaded, warmed and swapped in), ``runs:/RUN_ID/PATH`` or a
    model directory. ``name`` is the OIP model name and the prediction log's deployment
    (default: the registered model's name, else the model directory's name).

    >>> serve_model("models:/churn@champion", port=8080)  # doctest: +SKIP

    Raises NotFoundError for a model that does not exist and ModelRetiredError for a
    retired version, before anything listens.
    """
    settings = settings or Settings.from_env()
    config = config or ServingConfig()
    options = options or ServingOptions()
    _check_options(options)
    client = mlcycle.Client(settings=settings)
    source = StaticRouteSource(
        uri,
        client=client,
        name=name,
        options=options,
        trusted=config.trusted,
    )
    target = {
        "kind": "model",
        "uri": uri,
        "name": source.name,
        "options": dataclasses.asdict(options),
    }
    _run(source, client, target, settings, config, host=host, port=port, workers=workers)


def serve_deployment(
    name: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    settings: Settings | None = None,
    config: ServingConfig | None = None,
) -> None:
    """Serve the stored deployment ``name`` until stopped (blocking).

    Every ``config.poll_interval_s`` the store (or the tracking server, for an http(s)
    tracking URI) is read: a new revision (a split, a canary step, a rollback) or a moved
    alias loads and warms the new models in the background, then switches traffic at
    once; requests in flight finish on the old models. A running canary is judged every
    ``config.canary_interval_s`` on what this process saw. The prediction log goes to the
    store's artifact store, or through the server to its artifact store.

    >>> serve_deployment("churn", port=8080)  # doctest: +SKIP

    Raises NotFoundError for an unknown deployment and ModelRetiredError when an arm's
    version was retired, before anything listens.
    """
    settings = settings or Settings.from_env()
    config = config or ServingConfig()
    client = mlcycle.Client(settings=settings)
    source = StoreRouteSource(name, client=client, trusted=config.trusted)
    _run(
        source,
        client,
        {"kind": "deployment", "name": name},
        settings,
        config,
        host=host,
        port=port,
        workers=workers,
    )


def _check_options(options: ServingOptions) -> None:
    if options.max_batch_size < 1:
        raise InvalidInputError("max_batch_size must be at least 1", field="max_batch_size")
    if options.max_latency_ms < 0:
        raise InvalidInputError("max_latency_ms must not be negative", field="max_latency_ms")
    if not 0.0 <= options.log_sample_rate <= 1.0:
        raise InvalidInputError("log_sample_rate must be between 0 and 1", field="log_sample_rate")


def preflight(source: RouteSource, *, load: bool = False) -> None:
    """Resolve (and with ``load``, load) every arm now, so a missing, retired or broken
    model fails before any worker starts."""
    for arm in source.deployment().arms:
        target = source.resolve(arm)
        check_servable(target)
        if load:
            source.load(target)


def _run(
    source: RouteSource,
    client: mlcycle.Client,
    target: dict[str, Any],
    settings: Settings,
    config: ServingConfig,
    *,
    host: str,
    port: int,
    workers: int,
) -> None:
    check_listen(port, workers)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config(config.log_level, "mlcycle.serving"),
        "access_log": False,
        "timeout_graceful_shutdown": config.graceful_shutdown_s,
        "server_header": False,
        "date_header": False,
        "backlog": 2048,
        "proxy_headers": False,
    }
    if workers == 1:
        # Load and warm before listening: a model that cannot serve fails here, with its
        # message, instead of inside uvicorn's startup.
        try:
            runtime = Runtime(source, artifact_root=client.backend.prediction_logs, config=config)
            runtime.start()
        except BaseException:
            source.close()
            raise
        app = ServingApp(lambda: runtime, max_body_bytes=config.max_body_bytes)
        uvicorn.run(app, **options)
        return
    try:
        preflight(source, load=True)
    finally:
        source.close()  # each worker opens its own
    handoff = {
        "MLCYCLE_TRACKING_URI": settings.tracking_uri,
        "MLCYCLE_ARTIFACT_URI": settings.artifact_uri,
        WORKER_OPTIONS_ENV: config.to_json(),
        TARGET_ENV: orjson.dumps(target).decode(),
    }
    run_workers(
        "mlcycle.serving.serve:create_app_from_env",
        handoff,
        workers=workers,
        metrics_prefix="mlcycle-serving-prometheus-",
        # a worker imports the model's libraries and loads and warms the model before it
        # answers the supervisor's first health check
        timeout_worker_healthcheck=WORKER_START_TIMEOUT_S,
        **options,
    )


def create_app_from_env() -> ServingApp:
    """The app of one worker process, from the environment ``serve_*`` handed down."""
    settings = Settings.from_env()
    config = ServingConfig.from_json(os.environ.get(WORKER_OPTIONS_ENV))
    target = orjson.loads(os.environ.get(TARGET_ENV) or "{}")

    def make_source(client: mlcycle.Client) -> RouteSource:
        if target.get("kind") == "deployment":
            return StoreRouteSource(target["name"], client=client, trusted=config.trusted)
        return StaticRouteSource(
            target["uri"],
            client=client,
            name=target["name"],
            options=_options(target.get("options", {})),
            trusted=config.trusted,
        )

    def make_runtime() -> Runtime:
        client = mlcycle.Client(settings=settings)
        logs = client.backend.prediction_logs  # the store's artifacts, or the server's
        return Runtime(make_source(client), artifact_root=logs, config=config)

    return ServingApp(make_runtime, max_body_bytes=config.max_body_bytes)


def _options(data: dict[str, Any]) -> ServingOptions:
    return ServingOptions(**{**data, "trusted": tuple(data.get("trusted") or ())})
