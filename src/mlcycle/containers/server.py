"""Serve a build context's model with no store: what the image's entry point runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import uvicorn

from mlcycle.containers.source import ContextRouteSource
from mlcycle.containers.spec import MODEL_DIR, ContextSpec, verify_files
from mlcycle.errors import InvalidInputError
from mlcycle.serving.app import ServingApp
from mlcycle.serving.config import ServingConfig
from mlcycle.serving.runtime import Runtime
from mlcycle.serving.serve import log_config
from mlcycle.settings import Settings


def prepare(root: Path) -> ContextSpec:
    """Read and check the context at ``root``; put its code folders on ``sys.path``."""
    spec = ContextSpec.read(root)
    verify_files(root / MODEL_DIR, spec.files)
    for rel in spec.code_paths:
        folder = str(root / rel)
        if folder not in sys.path:
            sys.path.insert(0, folder)
    return spec


def serve_context(
    root: Path,
    *,
    host: str = "0.0.0.0",
    port: int | None = None,
    log_level: str = "info",
    settings: Settings | None = None,
) -> None:
    """Serve the context at ``root`` until stopped (blocking); loads and warms the model
    before listening, so a model that cannot serve fails here."""
    spec = prepare(root)
    settings = settings or Settings.from_env()
    if "://" in settings.artifact_uri and not settings.artifact_uri.startswith("file://"):
        # the prediction log's writer takes local folders only, so far
        raise InvalidInputError(
            f"the prediction log goes to a local folder or file:// URI, not "
            f"{settings.artifact_uri!r}: mount a volume and point MLCYCLE_ARTIFACT_URI at it",
            field="artifact_uri",
        )
    config = ServingConfig(trusted=spec.trusted, log_level=log_level)
    source = ContextRouteSource(root, spec, artifact_root=settings.artifact_uri)
    runtime = Runtime(source, artifact_root=settings.artifact_uri, config=config)
    runtime.start()
    app = ServingApp(lambda: runtime, max_body_bytes=config.max_body_bytes)
    options: dict[str, Any] = {
        "host": host,
        "port": spec.port if port is None else port,
        "log_config": log_config(config.log_level),
        "access_log": False,
        "timeout_graceful_shutdown": config.graceful_shutdown_s,
        "server_header": False,
        "date_header": False,
        "proxy_headers": False,
    }
    uvicorn.run(app, **options)
