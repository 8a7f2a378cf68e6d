"""``/api/v1/runs/{run_id}/metrics``: bulk metric ingest and metric histories.

Ingest takes many points per request: the binary body of
:mod:`mlcycle.codec.metric_batches` (what the Python client sends) or JSON for simple
clients. An ``Idempotency-Key`` header (a UUID per batch, the same on every retry) makes a
retried batch be acknowledged without being stored twice.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from mlcycle.codec.metric_batches import (
    BATCHES_MEDIA_TYPE,
    SERIES_MEDIA_TYPE,
    decode_batches,
    encode_series,
)
from mlcycle.entities import MetricBatch
from mlcycle.errors import InvalidInputError
from mlcycle.server import encode
from mlcycle.server.deps import Metrics, Service
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.schemas import HistoryOut, IngestOut, Key, MetricsIn
from mlcycle.server.telemetry import Telemetry
from mlcycle.tracking.service import TrackingService

router = APIRouter(prefix="/api/v1/runs", tags=["metrics"], responses=ERROR_RESPONSES)

_BATCH_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="A unique ID per batch (e.g. a UUID), the same on every retry of it",
    ),
]

_BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {BATCHES_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _batch_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not _BATCH_ID.match(value):
        raise InvalidInputError(
            "Idempotency-Key must be 1 to 64 letters, digits, '-' or '_'",
            field="Idempotency-Key",
        )
    return value


def _ingest(
    service: TrackingService,
    telemetry: Telemetry,
    run_id: str,
    batches: list[MetricBatch],
    batch_id: str | None,
) -> Response:
    points = sum(len(b) for b in batches)
    stored = service.ingest_metrics(run_id, batches, batch_id=batch_id)
    if stored:
        telemetry.points.inc(points)
    telemetry.batches.labels("stored" if stored else "duplicate").inc()
    return OrjsonResponse({"points": points, "duplicate": not stored})


@router.post("/{run_id}/metrics/batches", response_model=IngestOut, openapi_extra=_BINARY_BODY)
async def log_metric_batches(
    run_id: str,
    request: Request,
    service: Service,
    telemetry: Metrics,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Store metric batches in one transaction (binary body, ``application/vnd.mlcycle.
    metric-batches``: compressed columnar chunks, see ``mlcycle.codec.metric_batches``)."""
    batch_id = _batch_id(idempotency_key)
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media != BATCHES_MEDIA_TYPE:
        raise InvalidInputError(
            f"this endpoint takes Content-Type {BATCHES_MEDIA_TYPE}; "
            f"POST JSON to /api/v1/runs/{{run_id}}/metrics instead",
            field="Content-Type",
        )
    body = await request.body()

    def work() -> Response:
        return _ingest(service, telemetry, run_id, decode_batches(body), batch_id)

    return await run_in_threadpool(work)


@router.post("/{run_id}/metrics", response_model=IngestOut)
def log_metrics(
    run_id: str,
    body: MetricsIn,
    service: Service,
    telemetry: Metrics,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Store metric points (JSON) in one transaction; points of a key keep their order."""
    batch_id = _batch_id(idempotency_key)
    now = service.clock()
    by_key: dict[str, list[tuple[int, int, float]]] = {}
    for p in body.metrics:
        by_key.setdefault(p.key, []).append(
            (p.step, now if p.timestamp is None else p.timestamp, p.value)
        )
    batches = [
        MetricBatch(
            key=key,
            steps=np.array([p[0] for p in points], dtype=np.int64),
            timestamps=np.array([p[1] for p in points], dtype=np.int64),
            values=np.array([p[2] for p in points], dtype=np.float64),
        )
        for key, points in by_key.items()
    ]
    if not batches:
        service.get_run(run_id)
    return _ingest(service, telemetry, run_id, batches, batch_id)


@router.get(
    "/{run_id}/metrics/history",
    response_model=HistoryOut,
    responses={
        200: {
            "content": {SERIES_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": f"JSON, or raw columns with Accept: {SERIES_MEDIA_TYPE}",
        }
    },
)
def get_metric_history(
    run_id: str,
    key: Annotated[Key, Query()],
    service: Service,
    request: Request,
    max_points: Annotated[int | None, Query(ge=2, le=10_000_000)] = None,
) -> Response:
    """Every point of a metric ordered by step, or at most ``max_points`` of them (each
    bucket's minimum and maximum are kept, so spikes stay visible)."""
    history = service.get_metric_history(run_id, key, max_points=max_points)
    if SERIES_MEDIA_TYPE in request.headers.get("accept", ""):
        return Response(
            encode_series(history.steps, history.timestamps, history.values),
            media_type=SERIES_MEDIA_TYPE,
        )
    return OrjsonResponse(encode.history(history))
