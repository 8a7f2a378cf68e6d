"""The route class of the UI's pages: an mlcycle error raised by a page, or by the
permission check before it, becomes an HTML error page with the status the server's error
table gives it (a JSON body would be useless in a browser tab)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from mlcycle.errors import FilterSyntaxError, MlcycleError, PermissionDeniedError
from mlcycle.server.errors import status_for
from mlcycle.server.ui.render import page

_MAX_FORM = 1 << 16


class HtmlRoute(APIRoute):
    """An APIRoute whose mlcycle errors render ``error.html``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except MlcycleError as exc:
                return error_page(request, exc)

        return handle


def error_page(request: Request, exc: MlcycleError) -> Response:
    status = status_for(exc)
    return page(
        request,
        "error.html",
        status_code=status,
        title=f"{status} {type(exc).__name__}",
        kind=type(exc).__name__,
        message=exc.message,
        field=exc.field,
        position=exc.position if isinstance(exc, FilterSyntaxError) else None,
    )


def check_origin(request: Request) -> None:
    """Refuse a form posted from another site (cross-site request forgery): browsers send
    ``Origin`` with every cross-site POST, and a form post needs no CORS preflight, so
    even ``mlcycle ui`` on localhost (no login) must check it."""
    origin = request.headers.get("origin")
    if origin is None or (origin == "null" and "sec-fetch-site" not in request.headers):
        return
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise PermissionDeniedError(
            f"a form posted from {origin[:100]} is refused: post it from this site's pages"
        )


async def form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (the last value of each), at most 64 KiB,
    after :func:`check_origin`."""
    check_origin(request)
    body = await request.body()
    if len(body) > _MAX_FORM:
        body = b""
    return {k: v[-1] for k, v in parse_qs(body.decode(errors="replace")).items()}
