"""MLflow's REST API on the mlcycle server, over mlcycle's own services (one data model).

What an unmodified ``mlflow`` client logs (experiments, runs, params, metrics, tags,
artifacts, logged models, registered models, versions, aliases) is what mlcycle's API, CLI
and reports show, and the other way round. Served: tracking under ``/api/2.0/mlflow/`` and
its ``/ajax-api/2.0/mlflow/`` twin, MLflow 3's logged models, the model registry, and the
artifact proxy under ``/api/2.0/mlflow-artifacts/``; docs/mlflow.md lists every endpoint.

>>> import mlflow  # doctest: +SKIP
>>> mlflow.set_tracking_uri("http://127.0.0.1:5000")  # an `mlcycle server`  # doctest: +SKIP
"""

from __future__ import annotations

from fastapi import APIRouter

from mlcycle.artifacts import open_artifact_store
from mlcycle.ports.api import RegistryAPI
from mlcycle.server.mlflow import (
    artifacts,
    experiments,
    graphql_route,
    logged_models,
    metrics,
    registry,
    runs,
    search,
    webui,
)
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.routing import build_router
from mlcycle.store.sql.mlflow import SqlMlflow
from mlcycle.store.sql.store import SqlStore
from mlcycle.tracking.service import TrackingService


def mlflow_router() -> APIRouter:
    """Every MLflow route (build one per app)."""
    return build_router(
        experiments.endpoints,
        runs.endpoints,
        search.endpoints,
        metrics.endpoints,
        artifacts.endpoints,
        logged_models.endpoints,
        registry.endpoints,
        webui.endpoints,
        extra=(artifacts.proxy, webui.router, graphql_route.router),
    )


def mlflow_context(
    tracking: TrackingService,
    registry: RegistryAPI,
    store: SqlStore,
    *,
    artifacts_destination: str | None = None,
) -> MlflowContext:
    """What the MLflow routes of one server process work with (built in the lifespan).
    ``artifacts_destination``: where the artifact proxy keeps files outside any run."""
    area = open_artifact_store(artifacts_destination) if artifacts_destination else None
    return MlflowContext(tracking, registry, SqlMlflow(store.db), area)


__all__ = ["MlflowContext", "mlflow_context", "mlflow_router"]
