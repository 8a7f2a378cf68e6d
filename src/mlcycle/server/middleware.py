"""The ASGI middleware around every request: request ID, body limit, metrics, access log.

One pure ASGI class rather than several ``BaseHTTPMiddleware`` layers: it adds no task per
request and never buffers a streamed body. It also turns an unexpected exception into a
500 in the JSON error shape that names the request ID, so even that response carries the
``X-Request-ID`` header and is counted and logged.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlcycle.server.config import ServerConfig
from mlcycle.server.errors import error_response
from mlcycle.server.telemetry import Telemetry

REQUEST_ID_HEADER = "X-Request-ID"

access_logger = logging.getLogger("mlcycle.server.access")
logger = logging.getLogger("mlcycle.server")

_VALID_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
# artifact uploads (ours, and MLflow's artifact proxy) stream, so they have their own limit
DATASET_UPLOAD = "/api/v1/datasets/versions"
_ARTIFACT_UPLOAD = re.compile(
    r"^/api/v1/runs/[^/]+/artifacts/.|^/(?:ajax-)?api/2\.0/mlflow-artifacts/artifacts/."
)


def _too_large(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes ({limit / 2**20:g} MiB)"


_SLASHES = re.compile(r"/{2,}")


class RequestContext:
    """Request ID (taken from the client's ``X-Request-ID`` when sane), body size limit,
    Prometheus counters and one access-log line per request."""

    def __init__(self, app: ASGIApp, *, telemetry: Telemetry, config: ServerConfig) -> None:
        self.app = app
        self.telemetry = telemetry
        self.config = config

    def _limit(self, scope: Scope) -> int | None:
        if scope["method"] == "PUT" and _ARTIFACT_UPLOAD.match(scope["path"]):
            return self.config.max_artifact_bytes
        if scope["method"] == "POST" and scope["path"] == DATASET_UPLOAD:
            return self.config.max_artifact_bytes  # a dataset's Parquet, streamed to disk
        return self.config.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "//" in scope["path"]:
            # Repeated slashes name the same route (as in Flask, so MLflow clients given a
            # tracking URI ending in "/" reach their endpoints).
            scope["path"] = _SLASHES.sub("/", scope["path"])
        started_at = time.perf_counter()
        headers = Headers(scope=scope)
        given = headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        limit = self._limit(scope)
        status = 500
        sent = 0
        started = False
        received = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if limit is not None and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        self.telemetry.in_flight.inc()
        try:
            declared = headers.get("content-length", "")
            if (
                limit is not None
                and declared.isascii()
                and declared.isdigit()
                and int(declared) > limit
            ):
                response = error_response(413, "InvalidInputError", _too_large(limit), field="body")
                await response(scope, receive, send_with_id)
            elif "\x00" in scope["path"]:  # no ID, key or file name holds one; stores reject it
                response = error_response(404, "NotFoundError", "no resource has NUL in its path")
                await response(scope, receive, send_with_id)
            else:
                await self.app(scope, receive_limited, send_with_id)
        except ClientDisconnect:
            status = 499  # the client went away mid-request (nginx's code for it)
            logger.info("client disconnected during %s %s (request %s)", *_line(scope), request_id)
        except Exception:
            logger.exception("unhandled error in %s %s (request %s)", *_line(scope), request_id)
            if not started:
                response = error_response(
                    500,
                    "InternalError",
                    f"the server failed to answer; quote request ID {request_id} when reporting",
                    request_id=request_id,
                )
                await response(scope, receive, send_with_id)
        finally:
            self.telemetry.in_flight.dec()
            elapsed = time.perf_counter() - started_at
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.telemetry.requests.labels(method, template, str(status)).inc()
            self.telemetry.latency.labels(method, template).observe(elapsed)
            client = scope.get("client")
            access_logger.info(
                '%s "%s %s HTTP/%s" %d %dB %.1fms rid=%s',
                f"{client[0]}:{client[1]}" if client else "-",
                method,
                _target(scope),
                scope.get("http_version", "1.1"),
                status,
                sent,
                elapsed * 1000,
                request_id,
            )


def _line(scope: Scope) -> tuple[str, str]:
    return scope["method"], _target(scope)


def _target(scope: Scope) -> str:
    query = scope.get("query_string", b"")
    path: str = scope.get("path", "")
    return f"{path}?{query.decode('latin-1')}" if query else path
