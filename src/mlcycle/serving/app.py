"""The model-serving ASGI app: Open Inference Protocol v2, MLflow's scoring protocol,
feedback, health and Prometheus metrics.

Plain ASGI rather than a framework: the prediction routes are the hot path, and a request
costs only a header scan, one ``orjson`` parse, the signature check and the wait for its
batch. Every response carries ``x-request-id`` (the caller's, or a new one); predictions
also carry ``x-model-name``, ``x-model-version`` and ``x-deployment-arm``.

==========================================  =============================================
``POST /invocations``                       MLflow: dataframe_split / dataframe_records /
                                            instances / inputs JSON, or text/csv
``POST /v2/models/{name}[/versions/{v}]/infer``  OIP inference (``predict``, ``predict_proba``)
``POST /v2/models/{name}[/versions/{v}]/explain``  predictions with SHAP attributions
``GET /v2/models/{name}[/versions/{v}]``    OIP model metadata
``GET /v2/models/{name}/ready``             OIP model readiness
``GET /v2``, ``/v2/health/live|ready``      OIP server metadata and health
``GET /ping``, ``GET /health``              MLflow-style health (200 once loaded)
``POST /feedback``                          ``{request_id, label}`` or a list of them
``GET /metrics``                            Prometheus
==========================================  =============================================
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np
import orjson

from mlcycle import __version__
from mlcycle.errors import InvalidInputError, MlcycleError, NotFoundError
from mlcycle.serving import explain as explaining
from mlcycle.serving.decode import InferRequest, mlflow_inputs, oip_inputs, parse_json
from mlcycle.serving.errors import (
    MLFLOW_CODES,
    MalformedRequestError,
    PayloadTooLargeError,
    status_of,
)
from mlcycle.serving.explain_queue import Explainers
from mlcycle.serving.metrics import CONTENT_TYPE
from mlcycle.serving.runtime import PredictionFailedError, Runtime, Served
from mlcycle.serving.sources import ArmTarget

logger = logging.getLogger("mlcycle.serving")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON = b"application/json"
_NUMPY = orjson.OPT_SERIALIZE_NUMPY
_MAX_ID = 200


class _Disconnected(Exception):
    pass


_random = random.Random()  # seeded from the OS once per process


def new_request_id() -> str:
    """A time-sortable request ID (32 hex characters: milliseconds, then 80 random bits).
    Not a secret, so it skips ``os.urandom`` (a system call per request)."""
    return f"{time.time_ns() // 1_000_000:012x}{_random.getrandbits(80):020x}"


class ServingApp:
    """The ASGI app over a :class:`Runtime` (built by ``make_runtime`` at startup, so each
    worker process has its own).

    >>> app = ServingApp(lambda: Runtime(source, artifact_root="/tmp/a"))  # doctest: +SKIP
    >>> uvicorn.run(app, port=8080)  # doctest: +SKIP
    """

    def __init__(self, make_runtime: Callable[[], Runtime], *, max_body_bytes: int) -> None:
        self.make_runtime = make_runtime
        self.max_body_bytes = max_body_bytes
        self.runtime: Runtime | None = None
        self.explainers = Explainers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    # -- lifespan ---------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    runtime = self.make_runtime()
                    await loop.run_in_executor(None, runtime.start)
                except Exception as exc:
                    logger.exception("the serving app failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                self.runtime = runtime
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.runtime is not None:
                    await loop.run_in_executor(None, self.runtime.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- dispatch ---------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id: str | None = None
        content_type = ""
        routing_key: str | None = None
        length = 0
        for key, value in scope["headers"]:
            if key == b"content-type":
                content_type = value.decode("latin-1")
            elif key == b"x-request-id":
                request_id = value.decode("latin-1")[:_MAX_ID] or None
            elif key == b"x-routing-key":
                routing_key = value.decode("latin-1")
            elif key == b"content-length" and value.isdigit():
                length = int(value)
        rid = request_id or new_request_id()
        path: str = scope["path"]
        method: str = scope["method"]
        protocol = "v2" if path.startswith("/v2") else "mlflow" if path == "/invocations" else ""
        try:
            if method == "POST":
                if length > self.max_body_bytes:
                    raise PayloadTooLargeError(
                        f"the body is {length} bytes; this server takes at most "
                        f"{self.max_body_bytes}",
                        field="body",
                    )
                body = await self._body(receive, length)
                if path == "/invocations":
                    inputs = mlflow_inputs(body, content_type)
                    body = b""  # decoded: the bytes need not live as long as the request
                    served = await self._runtime().infer(
                        inputs,
                        request_id=rid,
                        routing_key=routing_key,
                        proba=False,
                    )
                    payload = _dumps({"predictions": served.answer.predictions})
                    await _respond(send, 200, payload, rid, _model_headers(served))
                    return
                if path.startswith("/v2/models/") and path.endswith("/infer"):
                    request = oip_inputs(body)
                    body = b""  # decoded: the bytes need not live as long as the request
                    await self._infer(path, request, rid, routing_key, send)
                    return
                if path.startswith("/v2/models/") and path.endswith("/explain"):
                    _, version = self._model_path(path.removesuffix("/explain"))
                    arm, document = await explaining.explain(
                        self._runtime(),
                        self.explainers,
                        body,
                        request_id=rid,
                        routing_key=routing_key,
                        version=version,
                    )
                    await _respond(send, 200, _dumps(document), rid, _target_headers(arm.target))
                    return
                if path == "/feedback":
                    await self._feedback(body, rid, send)
                    return
            elif method in ("GET", "HEAD"):
                await self._get(path, rid, send)
                return
            raise NotFoundError(f"no route {method} {path}", field="path")
        except _Disconnected:
            return
        except (MlcycleError, PredictionFailedError) as exc:
            await self._error(send, exc, rid, protocol)
        except Exception as exc:
            logger.exception("request %s (%s %s) failed", rid, method, path)
            await self._error(send, exc, rid, protocol)

    async def _body(self, receive: Receive, length: int) -> bytes:
        """The request body, refused (413) as soon as it passes the cap. With a declared
        ``length``, the chunks are copied into one buffer of that size as they arrive, so
        the body is held once (not as chunks plus their join)."""
        if length > 0:
            return await self._sized_body(receive, length)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise PayloadTooLargeError(
                        f"the body is larger than {self.max_body_bytes} bytes", field="body"
                    )
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _sized_body(self, receive: Receive, length: int) -> bytes:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and len(chunk) <= length:
            return chunk  # the usual case: the whole body in one message, no copy
        buffer = bytearray(length)
        size = 0
        while True:
            end = size + len(chunk)
            if end > length:  # more than declared: uvicorn refuses it first, but be sure
                raise MalformedRequestError(
                    f"the body is longer than its content-length ({length})", field="body"
                )
            buffer[size:end] = chunk
            size = end
            if not more:
                break
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
        if size < length:
            del buffer[size:]
        # orjson, csv and numpy read a bytearray as they read bytes
        return buffer  # type: ignore[return-value]

    def _runtime(self) -> Runtime:
        if self.runtime is None:
            raise NotFoundError("the serving runtime is not started", field="runtime")
        return self.runtime

    # -- Open Inference Protocol ------------------------------------------------------

    async def _infer(
        self, path: str, request: InferRequest, rid: str, routing_key: str | None, send: Send
    ) -> None:
        runtime = self._runtime()
        name, version = self._model_path(path.removesuffix("/infer"))
        wanted = request.outputs
        if wanted is not None:
            unknown = [o for o in wanted if o not in ("predict", "predict_proba")]
            if unknown:
                raise MalformedRequestError(
                    f"unknown output {unknown[0]!r}: this model has predict and predict_proba",
                    field="outputs",
                )
        served = await runtime.infer(
            request.inputs,
            request_id=rid,
            routing_key=routing_key,
            proba=wanted is None or "predict_proba" in wanted,
            version=version,
        )
        answer = served.answer
        outputs: list[dict[str, Any]] = []
        if wanted is None or "predict" in wanted:
            preds = answer.predictions
            outputs.append(
                {
                    "name": "predict",
                    "shape": list(preds.shape),
                    "datatype": served.arm.model.output_datatype(preds),
                    "data": preds.ravel(),
                }
            )
        if answer.proba is not None and (wanted is None or "predict_proba" in wanted):
            outputs.append(
                {
                    "name": "predict_proba",
                    "shape": list(answer.proba.shape),
                    "datatype": "FP64",
                    "data": answer.proba.ravel(),
                    "parameters": {"classes": served.arm.model.classes},
                }
            )
        document = {
            "model_name": name,
            "model_version": served.arm.target.label,
            "id": request.id or rid,
            "parameters": {"arm": served.arm.name, "model": served.arm.target.name},
            "outputs": outputs,
        }
        await _respond(send, 200, _dumps(document), rid, _model_headers(served))

    def _model_path(self, path: str) -> tuple[str, str | None]:
        """``/v2/models/{name}[/versions/{v}]`` -> (name, version); 404 for another name."""
        rest = path[len("/v2/models/") :]
        version = None
        if "/versions/" in rest:
            rest, version = rest.split("/versions/", 1)
        runtime = self._runtime()
        if rest != runtime.name:
            raise NotFoundError(
                f"no model {rest!r} is served here; this server serves {runtime.name!r}",
                field="name",
            )
        return rest, version

    async def _get(self, path: str, rid: str, send: Send) -> None:
        runtime = self._runtime()
        if path in ("/ping", "/health"):
            runtime.current()
            await _respond(send, 200, b"\n", rid, (), b"text/plain")
        elif path == "/v2/health/live":
            await _respond(send, 200, b'{"live":true}', rid)
        elif path == "/v2/health/ready":
            ready = runtime.ready and runtime.gone is None
            await _respond(send, 200 if ready else 503, _dumps({"ready": ready}), rid)
        elif path == "/v2":
            document = {"name": "mlcycle", "version": __version__, "extensions": []}
            await _respond(send, 200, _dumps(document), rid)
        elif path == "/metrics":
            await _respond(send, 200, runtime.metrics.render(), rid, (), CONTENT_TYPE.encode())
        elif path.startswith("/v2/models/") and path.endswith("/ready"):
            name, _ = self._model_path(path.removesuffix("/ready"))
            ready = runtime.ready and runtime.gone is None
            await _respond(send, 200 if ready else 503, _dumps({"name": name, "ready": ready}), rid)
        elif path.startswith("/v2/models/"):
            name, version = self._model_path(path.rstrip("/"))
            table = runtime.current()
            arm = table.primary if version is None else table.by_version(version)
            if arm is None:
                raise NotFoundError(
                    f"version {version!r} of {name!r} is not served", field="version"
                )
            versions = sorted({a.target.label for a in table.serving})
            await _respond(send, 200, _dumps(arm.model.metadata(name, versions)), rid)
        else:
            raise NotFoundError(f"no route GET {path}", field="path")

    # -- feedback ---------------------------------------------------------------------

    async def _feedback(self, body: bytes, rid: str, send: Send) -> None:
        runtime = self._runtime()
        data = parse_json(body)
        entries = data if isinstance(data, list) else [data]
        if not entries:
            raise MalformedRequestError("no feedback given", field="body")
        items: list[tuple[str, Any]] = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or "request_id" not in entry or "label" not in entry:
                raise MalformedRequestError(
                    f"feedback item {i} must be an object {{request_id, label}}", field="body"
                )
            request_id = entry["request_id"]
            if not isinstance(request_id, str) or not request_id:
                raise InvalidInputError(
                    f"feedback item {i}: request_id must be a non-empty string",
                    field="request_id",
                )
            items.append((request_id, entry["label"]))
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(None, runtime.feedback, items)
        document = {"stored": outcome.stored, "unknown": list(outcome.unknown)}
        await _respond(send, 200, _dumps(document), rid)

    # -- errors -----------------------------------------------------------------------

    async def _error(self, send: Send, exc: BaseException, rid: str, protocol: str) -> None:
        status = status_of(exc)
        message = (
            str(exc)
            if isinstance(exc, MlcycleError | PredictionFailedError)
            else (f"internal error while handling request {rid}; see the server log")
        )
        field = getattr(exc, "field", None)
        kind = type(exc).__name__
        document: dict[str, Any]
        if protocol == "mlflow":
            document = {
                "error_code": MLFLOW_CODES.get(status, "INTERNAL_ERROR"),
                "message": message,
            }
        else:
            document = {"error": message}
        document.update({"type": kind, "request_id": rid})
        if field is not None:
            document["field"] = field
        if self.runtime is not None and not isinstance(exc, PredictionFailedError):
            self.runtime.metrics.requests.labels(self.runtime.name, "-", "-", str(status)).inc()
        extra = _target_headers(exc.target) if isinstance(exc, PredictionFailedError) else ()
        await _respond(send, status, _dumps(document), rid, extra)


def _model_headers(served: Served) -> tuple[tuple[bytes, bytes], ...]:
    return _target_headers(served.arm.target)


def _target_headers(target: ArmTarget) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"x-model-name", target.name.encode()),
        (b"x-model-version", target.label.encode()),
        (b"x-deployment-arm", target.arm.name.encode()),
    )


def _dumps(document: Any) -> bytes:
    try:
        return orjson.dumps(document, option=_NUMPY)
    except TypeError:  # object arrays (string labels): plain lists
        return orjson.dumps(document, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    rid: str,
    extra: tuple[tuple[bytes, bytes], ...] = (),
    content_type: bytes = JSON,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", rid.encode("latin-1", "replace")),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
