"""The ``/graphql`` route (and its ``/ajax-api/graphql`` twin): the body is read here, and
:mod:`mlcycle.server.mlflow.graphql_api` (with graphql-core and MLflow's schema) is
imported on the first query, so a server does not pay for it before it is healthy."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from mlcycle.server.mlflow.context import context

router = APIRouter()


async def graphql(request: Request) -> Response:
    """Answer one GraphQL query (GET parameters or a JSON body)."""
    if request.method == "GET":
        body: Any = dict(request.query_params)
    else:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            body = None
    if not isinstance(body, dict):
        answer: dict[str, Any] = {"data": None, "errors": ["the body must be a JSON object"]}
    else:
        from mlcycle.server.mlflow.graphql_api import run_query

        answer = await run_in_threadpool(run_query, context(request), body)
    return Response(orjson.dumps(answer), media_type="application/json")


for _path in ("/graphql", "/ajax-api/graphql"):
    router.add_api_route(_path, graphql, methods=["GET", "POST"], include_in_schema=False)
