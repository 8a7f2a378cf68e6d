"""The web UI: server-rendered pages (Jinja2), a little vanilla JavaScript and uPlot for
charts, all inside the package (no CDN, no Node). ``create_app`` mounts :func:`router`;
``mlcycle ui`` serves it over a local store.

Pages (each a stable link): ``/experiments``, ``/experiments/{id}`` (runs table),
``/runs/{id}``, ``/runs/{id}/artifacts``, ``/compare?runs=a,b``, ``/models``,
``/datasets/{name}/versions/{v}``, ``/models/{name}/versions/{v}``,
``/deployments/{name}``, ``/monitors/{name}``, ``/alerts``, ``/audit``; ``/`` maps MLflow's
``/#/experiments/<id>/runs/<run_id>`` links to them.
"""

from __future__ import annotations

from fastapi import APIRouter

from mlcycle.server.ui import assets
from mlcycle.server.ui.pages import (
    artifacts,
    compare,
    datasets,
    deployments,
    experiments,
    governance,
    home,
    monitoring,
    registry,
    runs,
)

LOGIN_PATH = "/login"
PUBLIC_PATHS = frozenset({LOGIN_PATH})
PUBLIC_PREFIXES = (assets.PREFIX,)

__all__ = ["LOGIN_PATH", "PUBLIC_PATHS", "PUBLIC_PREFIXES", "router"]


def router() -> APIRouter:
    """Every route of the UI (pages, their JSON endpoints and static files)."""
    combined = APIRouter(include_in_schema=False)
    pages = (home, experiments, runs, artifacts, compare, datasets, registry, deployments)
    for module in (*pages, monitoring, governance):
        combined.include_router(module.router)
    combined.include_router(runs.api)
    combined.include_router(assets.router)
    return combined
