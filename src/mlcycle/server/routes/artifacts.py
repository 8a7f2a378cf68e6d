"""``/api/v1/runs/{run_id}/artifacts``: artifacts through the server (proxy mode), or
straight between the client and object storage (direct mode).

Proxy: clients need no storage credentials: bytes stream through the server in both
directions, never held whole in memory. An upload may send ``X-Content-SHA256``; the server
hashes the stream as it stores it and, on a mismatch, answers 400 and keeps nothing (the previous
version of the file, if any, stays). A download names the stored sha256 in the same header
so the client can check what it received.

Direct (when the artifact store can sign URLs, as S3 can): ``GET ...?direct=true``
answers 307 to a presigned URL (the sha256 in the same header); an upload asks
``POST .../artifacts-direct`` for a presigned PUT URL, puts the file there, and commits it
with ``POST .../artifacts-direct/commit``: the server hashes what arrived in the bucket and
records it only when it matches. A store that cannot sign answers 409, and the client falls
back to the proxy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, BinaryIO, cast

import anyio.from_thread
from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from mlcycle.errors import ArtifactNotFoundError, ConflictError, InvalidInputError
from mlcycle.server import encode
from mlcycle.server.deps import Metrics, Service
from mlcycle.server.encode import OrjsonResponse
from mlcycle.server.errors import ERROR_RESPONSES
from mlcycle.server.schemas import ArtifactList, ArtifactOut, Str, _In
from mlcycle.server.telemetry import Telemetry

router = APIRouter(prefix="/api/v1/runs", tags=["artifacts"], responses=ERROR_RESPONSES)

SHA256_HEADER = "X-Content-SHA256"
_BLOCK = 1 << 20
_SHA = re.compile(r"^[0-9a-fA-F]{64}$")
_MAX_PATH = 1000  # the artifact index column
_MAX_PART = 255  # a file name on common file systems

_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": f"The file's bytes; its sha256 is in the {SHA256_HEADER} header",
    }
}


def _check_path(path: str) -> str:
    clean = path.strip("/")
    if len(clean) > _MAX_PATH or any(len(part) > _MAX_PART for part in clean.split("/")):
        raise InvalidInputError(
            f"artifact path must have at most {_MAX_PATH} characters and at most {_MAX_PART} "
            "per folder or file name",
            field="artifact_path",
        )
    return clean


class _UploadReader:
    """The request body as a blocking file-like object for ``ArtifactStore.put_stream``.

    It runs in a worker thread and pulls each piece of the body from the event loop. At the
    end of the body it compares the sha256 of what it delivered with the one the client
    sent and raises instead of signalling the end, so the store discards the file.
    """

    def __init__(self, stream: AsyncIterator[bytes], expected: str | None, t: Telemetry) -> None:
        self._stream = stream
        self._expected = expected
        self._telemetry = t
        self._digest = hashlib.sha256()
        self._pending = b""
        self._done = False

    async def _next(self) -> bytes | None:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            return None

    def read(self, size: int = -1) -> bytes:
        while not self._pending and not self._done:
            piece = anyio.from_thread.run(self._next)
            if piece is None:
                self._done = True
                self._verify()
            elif piece:
                self._digest.update(piece)
                self._telemetry.artifact_bytes.labels("upload").inc(len(piece))
                self._pending = piece
        if size is None or size < 0 or size >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def _verify(self) -> None:
        actual = self._digest.hexdigest()
        if self._expected is not None and actual != self._expected:
            raise InvalidInputError(
                f"the upload's sha256 is {actual} but {SHA256_HEADER} says {self._expected}: "
                "the file was corrupted on the way and was not stored",
                field=SHA256_HEADER,
            )


@router.put(
    "/{run_id}/artifacts/{path:path}",
    status_code=201,
    response_model=ArtifactOut,
    openapi_extra=_RAW_BODY,
)
async def upload_artifact(
    run_id: str,
    path: str,
    request: Request,
    service: Service,
    telemetry: Metrics,
    sha256: Annotated[str | None, Header(alias=SHA256_HEADER)] = None,
) -> Response:
    """Store the raw request body as the artifact ``path`` of the run (streamed to the
    artifact store; an existing file at that path is replaced)."""
    if sha256 is not None and not _SHA.match(sha256):
        raise InvalidInputError(f"{SHA256_HEADER} must be 64 hex digits", field=SHA256_HEADER)
    clean = _check_path(path)
    reader = _UploadReader(request.stream(), sha256.lower() if sha256 else None, telemetry)
    info = await run_in_threadpool(
        service.log_artifact_stream, run_id, clean, cast(BinaryIO, reader)
    )
    return OrjsonResponse(encode.artifact(info), status_code=201)


@router.get("/{run_id}/artifacts", response_model=ArtifactList)
def list_artifacts(
    run_id: str, service: Service, path: Annotated[Str | None, Query()] = None
) -> Response:
    """The run's files (under the folder ``path``) with size and sha256."""
    files = service.list_artifacts(run_id, path)
    return OrjsonResponse({"files": [encode.artifact(f) for f in files]})


def _blocks(handle: BinaryIO, telemetry: Telemetry) -> Iterator[bytes]:
    with handle:
        while block := handle.read(_BLOCK):
            telemetry.artifact_bytes.labels("download").inc(len(block))
            yield block


@router.get("/{run_id}/artifacts/{path:path}", responses=_FILE_RESPONSE)
def download_artifact(
    run_id: str,
    path: str,
    service: Service,
    telemetry: Metrics,
    direct: Annotated[bool, Query()] = False,
) -> Response:
    """The bytes of one artifact, streamed, with its sha256 in ``X-Content-SHA256``; with
    ``direct=true`` and an artifact store that signs URLs, a 307 to a presigned URL."""
    clean = path.strip("/")
    found = [f for f in service.list_artifacts(run_id, clean) if f.path == clean]
    if not found:
        raise ArtifactNotFoundError(f"run {run_id} has no artifact at {clean!r}", field="path")
    info = found[0]
    if direct:
        url = service.artifact_url(run_id, clean, method="GET", expires_s=DIRECT_EXPIRES_S)
        if url is not None:
            return RedirectResponse(
                url, status_code=307, headers={SHA256_HEADER: info.sha256 or ""}
            )
    handle = service.open_artifact(run_id, clean)
    headers = {SHA256_HEADER: info.sha256 or "", "Content-Length": str(info.size or 0)}
    return StreamingResponse(
        _blocks(handle, telemetry), media_type="application/octet-stream", headers=headers
    )


#: How long a presigned URL stays valid.
DIRECT_EXPIRES_S = 900


class DirectUploadIn(_In):
    path: Str


class DirectCommitIn(_In):
    path: Str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class DirectUploadOut(BaseModel):
    url: str
    method: str
    expires_s: int


@router.post("/{run_id}/artifacts-direct", response_model=DirectUploadOut)
def direct_upload(run_id: str, body: DirectUploadIn, service: Service) -> Response:
    """A presigned URL to PUT the artifact ``path`` straight into object storage; commit
    it afterwards. 409 when the artifact store cannot sign URLs (upload through the proxy)."""
    clean = _check_path(body.path)
    url = service.artifact_url(run_id, clean, method="PUT", expires_s=DIRECT_EXPIRES_S)
    if url is None:
        raise ConflictError(
            "this server's artifact store cannot hand out direct URLs; upload through "
            f"PUT /api/v1/runs/{run_id}/artifacts/{clean}",
            field="direct",
        )
    return OrjsonResponse({"url": url, "method": "PUT", "expires_s": DIRECT_EXPIRES_S})


@router.post("/{run_id}/artifacts-direct/commit", status_code=201, response_model=ArtifactOut)
def direct_commit(run_id: str, body: DirectCommitIn, service: Service) -> Response:
    """Record a file put with a presigned URL, once the server has checked its sha256."""
    clean = _check_path(body.path)
    info = service.commit_artifact(run_id, clean, body.sha256)
    return OrjsonResponse(encode.artifact(info), status_code=201)
