"""Operations: liveness, readiness, Prometheus metrics and garbage collection."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from mlcycle.errors import SchemaOutdatedError, StoreError
from mlcycle.server.deps import Metrics, Service
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.schemas import GcIn, GcOut, HealthOut, ReadyOut
from mlcycle.server.telemetry import CONTENT_TYPE
from mlcycle.store.sql import migrate
from mlcycle.store.sql.store import SqlStore

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut)
async def health() -> Response:
    """Liveness: the process answers (it does not touch the store)."""
    return OrjsonResponse({"status": "ok"})


@router.get("/ready", response_model=ReadyOut, responses={503: ERROR_RESPONSES[503]})
async def ready(request: Request) -> Response:
    """Readiness: the store answers and its schema is the one this server needs."""
    store: SqlStore = request.state.store

    def check() -> str:
        try:
            current = migrate.current_revision(store.db)
        except Exception as exc:  # any driver error means "not ready", with its reason
            raise StoreError(f"the store cannot be reached: {exc}") from exc
        head = migrate.head_revision()
        if current != head:
            raise SchemaOutdatedError(
                f"the store's schema is at revision {current}, this server needs {head}: "
                "run `mlcycle db upgrade`"
            )
        return head

    revision = await run_in_threadpool(check)
    return OrjsonResponse({"status": "ready", "schema_revision": revision})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
async def metrics(telemetry: Metrics) -> Response:
    """Prometheus metrics in the text exposition format."""
    return Response(await run_in_threadpool(telemetry.render), media_type=CONTENT_TYPE)


@router.post("/api/v1/gc", response_model=GcOut, responses=ERROR_RESPONSES)
def collect_garbage(body: GcIn, service: Service) -> Response:
    """Remove runs and experiments deleted more than ``older_than_ms`` ago, for good."""
    return OrjsonResponse(service.collect_garbage(body.older_than_ms))
