"""The server's one table from exceptions to HTTP status codes, and the JSON error shape.

Every error response has the body ``{"error": {"type", "message", "field"?, ...}}``, where
``type`` is the name of the :mod:`mlcycle.errors` class, so the remote client raises the
same class the local store would have raised; errors that carry data carry it too
(``report`` of a refused dataset, ``results`` of refused promotion gates, ``types`` of an
untrusted model, ``reason`` of a retirement, ``chunk``/``rows`` of a failed prediction)::

    NotFoundError (ArtifactNotFoundError)        404
    AlreadyExistsError, ConflictError            409
    ModelRetiredError                            410
    AuthenticationError                          401   (with WWW-Authenticate)
    TooManyAttemptsError                         429   (with Retry-After)
    PermissionDeniedError (ApprovalRequired)     403
    InvalidInputError (FilterSyntaxError)        400   (422 for request validation)
    PredictionFailedError                        422
    StoreError (SchemaOutdatedError)             503
    RemoteError                                  502
    anything else                                500   InternalError, with the request ID
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from mlcycle.entities.codec import to_json
from mlcycle.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    FilterSyntaxError,
    InvalidInputError,
    MlcycleError,
    ModelRetiredError,
    NotFoundError,
    PermissionDeniedError,
    PredictionFailedError,
    PromotionRefusedError,
    RemoteError,
    StoreError,
    TooManyAttemptsError,
    UntrustedTypesError,
    ValidationFailedError,
)

logger = logging.getLogger("mlcycle.server")

STATUS: dict[type[MlcycleError], int] = {
    NotFoundError: 404,
    AlreadyExistsError: 409,
    ConflictError: 409,
    ModelRetiredError: 410,
    AuthenticationError: 401,
    TooManyAttemptsError: 429,
    PermissionDeniedError: 403,
    InvalidInputError: 400,
    PredictionFailedError: 422,
    StoreError: 503,
    RemoteError: 502,
}

#: Sent with every 401: the schemes a client may answer with.
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="mlcycle", Basic realm="mlcycle"'}

#: Error ``type`` of HTTP-level failures that are not raised by mlcycle code.
_HTTP_TYPES = {404: "NotFoundError", 500: "InternalError"}


class ErrorBody(BaseModel):
    type: str
    message: str
    field: str | None = None
    position: int | None = None
    request_id: str | None = None


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorBody


#: Where the error body's schema is in the OpenAPI document (added by
#: :func:`mlcycle.server.responses.document`).
ERROR_SCHEMA_REF = "#/components/schemas/ErrorOut"


def described(description: str) -> dict[str, Any]:
    """An error response for a route's OpenAPI ``responses``. It refers to the ErrorOut
    component rather than naming the pydantic model: FastAPI builds a validator for every
    response model of every route when the route is declared (about 1,100 of them here,
    a fifth of the server's start), and these are never validated, only documented."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}},
    }


def error_schemas() -> dict[str, Any]:
    """The OpenAPI components of the error body: ErrorOut and the ErrorBody it holds."""
    found = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**found.pop("$defs", {}), "ErrorOut": found}


#: Documented on every API route, so clients (and schema checkers) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: described("Invalid input (the message names the field and the rule)"),
    404: described("Unknown ID, name or path"),
    409: described("Already exists, or conflicts with the stored state"),
    413: described("Request body larger than the limit"),
    401: described("Missing, malformed, expired or revoked token (auth enabled)"),
    403: described("The caller's role or grants do not allow this (auth enabled)"),
    422: described("Request does not match the schema (names the field)"),
    503: described("The store cannot be reached or needs `mlcycle db upgrade`"),
}


def status_for(exc: MlcycleError) -> int:
    """The HTTP status of an mlcycle error: its nearest class in :data:`STATUS`."""
    for kind in type(exc).__mro__:
        status = STATUS.get(kind)
        if status is not None:
            return status
    return 500


def error_response(
    status: int,
    kind: str,
    message: str,
    *,
    field: str | None = None,
    position: int | None = None,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": kind, "message": message, **(extra or {})}
    if field is not None:
        body["field"] = field
    if position is not None:
        body["position"] = position
    if request_id is not None:
        body["request_id"] = request_id
    return Response(
        orjson.dumps({"error": body}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _mlcycle_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MlcycleError)
    status = status_for(exc)
    if status >= 500:
        logger.warning("%s: %s (request %s)", type(exc).__name__, exc, _request_id(request))
    return error_response(
        status,
        type(exc).__name__,
        exc.message,
        field=exc.field,
        position=exc.position if isinstance(exc, FilterSyntaxError) else None,
        request_id=_request_id(request) if status >= 500 else None,
        headers=WWW_AUTHENTICATE if status == 401 else None,
        extra=_carried(exc),
    )


def _carried(exc: MlcycleError) -> dict[str, Any] | None:
    """The data an error carries besides its message, for the remote side to rebuild it."""
    if isinstance(exc, ValidationFailedError):
        return {"report": to_json(exc.report)}
    if isinstance(exc, PromotionRefusedError):
        return {"results": to_json(exc.results)}
    if isinstance(exc, UntrustedTypesError):
        return {"types": list(exc.types)}
    if isinstance(exc, ModelRetiredError):
        return {"reason": exc.reason}
    if isinstance(exc, PredictionFailedError):
        return {"chunk": exc.chunk, "rows": None if exc.rows is None else list(exc.rows)}
    return None


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if not errors:
        return error_response(422, "InvalidInputError", "invalid request", field="body")
    first = errors[0]
    if first.get("type") == "json_invalid":
        detail = first.get("ctx", {}).get("error", "")
        return error_response(
            400, "InvalidInputError", f"the body is not valid JSON: {detail}", field="body"
        )
    field = _field(tuple(first.get("loc", ())))
    message = f"{field}: {first.get('msg', 'invalid value')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return error_response(422, "InvalidInputError", message, field=field)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    kind = _HTTP_TYPES.get(status, "InvalidInputError")
    message = str(exc.detail)
    if status in (404, 405) and message in ("Not Found", "Method Not Allowed"):
        what = "no such endpoint" if status == 404 else "method not allowed"
        message = f"{what}: {request.method} {request.url.path} (see /docs)"
    field = "body" if status in (413, 415) else None
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = allowed_methods(request)
    return error_response(status, kind, message, field=field, headers=headers)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route answers on this path (starlette's own 405 names only the
    methods of the first route that matched the path, though GET and POST of one path are
    often two routes)."""
    methods: set[str] = set()
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        for route in request.app.router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                methods.add(method)
                break
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the JSON error shape."""
    app.add_exception_handler(MlcycleError, _mlcycle_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
