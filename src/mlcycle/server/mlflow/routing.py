"""How MLflow operations become routes: one async handler per endpoint reads the request's
parameters (JSON body, or query string for GET), runs the operation in a worker thread and
answers JSON; any error becomes MLflow's error shape (see :mod:`.protocol`).

Each endpoint is served under ``/api/2.0/mlflow/`` and its ``/ajax-api/2.0/mlflow/`` twin;
a path under those prefixes that matches no endpoint gets MLflow's ENDPOINT_NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from mlcycle.server.mlflow.context import MlflowContext, context
from mlcycle.server.mlflow.protocol import (
    BAD_REQUEST,
    ENDPOINT_NOT_FOUND,
    MlflowError,
    Params,
    answer_error,
    error_response,
    json_response,
)

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
Operation = Callable[[MlflowContext, Params], Mapping[str, Any] | None]
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    path: str  # after the prefix, e.g. "/experiments/create"
    method: str
    operation: Operation


class Endpoints:
    """The endpoints of one group (experiments, runs, ...), declared with :meth:`route`."""

    def __init__(self) -> None:
        self.items: list[Endpoint] = []

    def route(self, path: str, method: str) -> Callable[[Operation], Operation]:
        def register(operation: Operation) -> Operation:
            self.items.append(Endpoint(path, method, operation))
            return operation

        return register


async def read_params(request: Request) -> Params:
    """The request's parameters, with the path's parameters added."""
    if request.method == "GET":
        params = Params.from_query(request.query_params.multi_items())
    else:
        body = await request.body()
        data: dict[str, Any] = {}
        if body.strip():
            try:
                loaded = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise MlflowError(
                    f"the request body is not valid JSON: {exc}", BAD_REQUEST
                ) from None
            if not isinstance(loaded, dict):
                raise MlflowError("the request body must be a JSON object", BAD_REQUEST)
            data = loaded
        for key, value in request.query_params.items():
            data.setdefault(key, value)
        params = Params(data)
    return params.with_path(request.path_params) if request.path_params else params


def handler(endpoint: Endpoint) -> Handler:
    async def handle(request: Request) -> Response:
        try:
            params = await read_params(request)
            result = await run_in_threadpool(endpoint.operation, context(request), params)
        except Exception as exc:
            return answer_error(exc, f"{request.method} {request.url.path}")
        return json_response(result or {})

    handle.__name__ = f"mlflow_{endpoint.operation.__name__}"
    return handle


async def _no_endpoint(request: Request) -> Response:
    return error_response(
        ENDPOINT_NOT_FOUND,
        f"No API endpoint {request.method} {request.url.path} on this server (see "
        "docs/mlflow.md for the MLflow endpoints mlcycle serves)",
    )


def build_router(*groups: Endpoints, extra: Sequence[APIRouter] = ()) -> APIRouter:
    """Every endpoint of ``groups`` under both prefixes, then ``extra``'s routes, then the
    catch-all that answers ENDPOINT_NOT_FOUND."""
    router = APIRouter()
    for group in groups:
        for endpoint in group.items:
            for prefix in PREFIXES:
                router.add_api_route(
                    prefix + endpoint.path,
                    handler(endpoint),
                    methods=[endpoint.method],
                    include_in_schema=False,
                )
    for other in extra:
        router.include_router(other)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    for prefix in (*PREFIXES, "/api/2.0/mlflow-artifacts", "/api/3.0/mlflow"):
        router.add_api_route(
            prefix + "/{rest:path}", _no_endpoint, methods=methods, include_in_schema=False
        )
    return router
