"""``/api/v1/deployments/{name}/prediction-log``: the prediction log in the server's
artifact store, written by serving processes that run against the server and read by
anyone (``mlcycle.deployments.prediction_log``, the monitors the server runs).

* ``PUT .../prediction-log/{hour}/{part}``: one whole Parquet file of logged rows, the
  file ``part`` (an ID the writer picks, so a retried upload stores it once) of the
  ``hour`` partition (``YYYYMMDDHH``, UTC); checked to be a prediction log file.
* ``GET .../prediction-log?since=&until=&columns=``: the rows with ``since <= time <
  until`` as one Parquet file (204 when no file is in range).
* ``GET .../prediction-log/info``: ``{"exists": bool}``, whether anything was logged.
* ``POST .../prediction-log/find-requests``: which of the given request IDs were logged.

The name is a deployment's, or the model name ``mlcycle serve --name`` logs under, so it
need not be a stored deployment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from mlcycle.deployments.prediction_logs import (
    BASE_COLUMNS,
    StoredPredictionLogs,
    check_columns,
    check_hour,
    check_part,
)
from mlcycle.deployments.validation import check_feedback_target
from mlcycle.errors import InvalidInputError
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.responses import returns
from mlcycle.server.services import backend_of

if TYPE_CHECKING:
    import pyarrow as pa

router = APIRouter(
    prefix="/api/v1/deployments", tags=["prediction logs"], responses=ERROR_RESPONSES
)

PARQUET = "application/vnd.apache.parquet"
#: the largest log file a serving process sends (it flushes every 10,000 rows by default)
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_MS = 2**62
Ms = Annotated[int | None, Query(ge=0, le=MAX_MS, description="ms since the epoch")]

_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            PARQUET: {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_PARQUET_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {PARQUET: {"schema": {"type": "string", "format": "binary"}}}},
    204: {"description": "no log file in range"},
}


class LoggedOut(BaseModel):
    exists: bool


class FindIn(BaseModel):
    request_ids: Annotated[list[Annotated[str, Field(max_length=1_000)]], Field(max_length=100_000)]
    since_ms: Annotated[int | None, Field(ge=0, le=MAX_MS)] = None


class FoundOut(BaseModel):
    found: list[str]


def _logs(request: Request) -> StoredPredictionLogs:
    return StoredPredictionLogs(backend_of(request).artifact_store)


@router.put(
    "/{name}/prediction-log/{hour}/{part}",
    status_code=201,
    openapi_extra=_UPLOAD_DOC,
    responses=returns({"rows": int}, 201),
)
async def write_log_file(name: str, hour: str, part: str, request: Request) -> Response:
    """Store one Parquet file of logged predictions as ``part`` of the ``hour`` partition."""
    check_feedback_target(name)
    check_hour(hour)
    check_part(part)
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_FILE_BYTES:
            raise InvalidInputError(
                f"a prediction log file may hold at most {MAX_FILE_BYTES} bytes", field="body"
            )
    body = bytes(data)
    rows = await run_in_threadpool(_check_log_file, body)
    await run_in_threadpool(_logs(request).write_part, name, hour, part, body)
    return OrjsonResponse({"rows": rows}, 201)


# pyarrow loads on these routes' first call, not before the server answers /health.


def _check_log_file(data: bytes) -> int:
    """The number of rows of a Parquet file with the columns every prediction log file
    has, else 400: readers of the log must never meet a file they cannot read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(pa.BufferReader(data)).metadata
        names = set(metadata.schema.to_arrow_schema().names)
    except (pa.ArrowException, OSError, ValueError):
        raise InvalidInputError("the body is not a Parquet file", field="body") from None
    missing = [c for c in BASE_COLUMNS if c not in names]
    if missing:
        raise InvalidInputError(
            f"a prediction log file needs the columns {', '.join(BASE_COLUMNS)}; missing "
            + ", ".join(missing),
            field="body",
        )
    return int(metadata.num_rows)


def _parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


@router.get("/{name}/prediction-log", responses=_PARQUET_ANSWER)
def read_log(
    name: str,
    request: Request,
    since: Ms = None,
    until: Ms = None,
    columns: Annotated[str | None, Query(max_length=1_000)] = None,
) -> Response:
    """The logged rows with ``since <= time < until`` (unsorted) as one Parquet file;
    ``columns`` (comma-separated, from the columns every file has) keeps only those."""
    if since is not None and until is not None and until < since:
        raise InvalidInputError("until must not be before since", field="until")
    wanted = None if columns is None else check_columns([c for c in columns.split(",") if c])
    table = _logs(request).read(name, since, until, wanted)
    if table is None:
        return Response(status_code=204)
    return Response(_parquet_bytes(table), media_type=PARQUET)


@router.get("/{name}/prediction-log/info")
def log_info(name: str, request: Request) -> LoggedOut:
    """Whether anything was ever logged under ``name``."""
    return LoggedOut(exists=_logs(request).exists(name))


@router.post("/{name}/prediction-log/find-requests")
def find_requests(name: str, body: FindIn, request: Request) -> FoundOut:
    """Which of ``request_ids`` appear in the log from ``since_ms`` on."""
    found = _logs(request).find_requests(name, body.request_ids, body.since_ms)
    return FoundOut(found=sorted(found))
