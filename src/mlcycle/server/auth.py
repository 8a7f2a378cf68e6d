"""Authentication and authorization for mlcycle's HTTP apps (the tracking server, and the
serving process's admin routes), in two reusable pieces:

1. :class:`AuthMiddleware` (ASGI) authenticates every request except the public paths
   (health probes): a bearer token, or HTTP basic with user and token (so MLflow clients'
   ``MLFLOW_TRACKING_TOKEN`` or ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` work). Without
   valid credentials: 401 with ``WWW-Authenticate``. It stores the principal in the
   request state and runs the request as that actor (audit events name them).
2. :func:`authorization` is an app-wide FastAPI dependency: after routing, it looks the
   route's method and path template up in the permission table
   (:mod:`mlcycle.server.permissions`) and answers 403 naming what was missing.

An app installs both and puts an :class:`AuthContext` in its lifespan state under
``"auth"``::

    app = FastAPI(lifespan=lifespan, dependencies=[authorization(my_table)])
    app.add_middleware(AuthMiddleware, public_paths={"/health", "/ready"})
    # lifespan yields {"auth": AuthContext(Authenticator(store.governance)), ...}

Tokens and passwords never appear in logs or error messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mlcycle.entities.governance import Permission, Principal, ResourceKind
from mlcycle.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    TooManyAttemptsError,
)
from mlcycle.governance.access import Authenticator
from mlcycle.governance.actor import acting_as
from mlcycle.server.errors import WWW_AUTHENTICATE, error_response
from mlcycle.server.permissions import Requirement, RequirementLookup, requirement_for

logger = logging.getLogger("mlcycle.server")

STATE_KEY = "auth"
PRINCIPAL_KEY = "principal"
#: The web UI's session cookie: a short-lived API token of the logged-in user, sent as a
#: bearer token when a request carries no ``Authorization`` header.
SESSION_COOKIE = "mlcycle_session"
DEFAULT_PUBLIC_PATHS = frozenset({"/health", "/ready"})
_MAX_SCOPED_BODY = 1 << 20


@dataclass(frozen=True)
class AuthContext:
    """What auth needs from the app: the authenticator over the store, and how to find
    the experiment of a run (for grants on experiments)."""

    authenticator: Authenticator
    experiment_of_run: Callable[[str], str] | None = None


class AuthMiddleware:
    """Authenticate every request but ``public_paths`` (exact) and ``public_prefixes``.

    Needs ``AuthContext`` in the lifespan state under ``state_key``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        public_paths: Collection[str] = DEFAULT_PUBLIC_PATHS,
        public_prefixes: tuple[str, ...] = (),
        state_key: str = STATE_KEY,
        login_path: str | None = None,
    ) -> None:
        self.app = app
        self.login_path = login_path
        self.public_paths = frozenset(public_paths)
        self.public_prefixes = public_prefixes
        self.state_key = state_key

    def _public(self, path: str) -> bool:
        return path in self.public_paths or (
            bool(self.public_prefixes) and path.startswith(self.public_prefixes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._public(scope["path"]):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        context = state.get(self.state_key)
        if not isinstance(context, AuthContext):
            logger.error("auth is on but the app's state has no AuthContext: refusing")
            response = error_response(
                503, "StoreError", "authentication is not available (the server is starting)"
            )
            await response(scope, receive, send)
            return
        headers = Headers(scope=scope)
        header = headers.get("authorization") or _session_header(headers)
        client = scope.get("client")
        address = str(client[0]) if client else None
        try:
            principal = await run_in_threadpool(context.authenticator.authenticate, header, address)
        except TooManyAttemptsError as exc:
            response = error_response(
                429,
                "TooManyAttemptsError",
                exc.message,
                headers={"Retry-After": str(exc.retry_after_s)},
            )
            await response(scope, receive, send)
            return
        except AuthenticationError as exc:
            if self._to_login(scope, headers):
                await _redirect_to_login(self.login_path or "/", scope, receive, send)
                return
            response = error_response(
                401, "AuthenticationError", exc.message, headers=WWW_AUTHENTICATE
            )
            await response(scope, receive, send)
            return
        state[PRINCIPAL_KEY] = principal
        with acting_as(principal.name):
            await self.app(scope, receive, send)

    def _to_login(self, scope: Scope, headers: Headers) -> bool:
        """Whether to send a browser asking for a page to the login page instead of a 401."""
        return (
            self.login_path is not None
            and scope.get("method") == "GET"
            and "text/html" in headers.get("accept", "")
            and not scope["path"].startswith("/api/")
        )


def _session_header(headers: Headers) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return f"Bearer {value}"
    return None


async def _redirect_to_login(login_path: str, scope: Scope, receive: Receive, send: Send) -> None:
    target = scope["path"] + (
        f"?{scope['query_string'].decode()}" if scope.get("query_string") else ""
    )
    response = RedirectResponse(f"{login_path}?{urlencode({'next': target})}", status_code=303)
    await response(scope, receive, send)


def principal_of(request: Request) -> Principal | None:
    """The authenticated principal of a request (None when auth is off)."""
    found = request.scope.get("state", {}).get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def authorization(lookup: RequirementLookup = requirement_for) -> DependsParam:
    """The app-wide dependency that checks each route against the permission table.

    Install it with ``FastAPI(dependencies=[authorization(table)])`` together with
    :class:`AuthMiddleware`; without an authenticated principal (auth off) it does nothing.
    """

    async def authorize(request: Request) -> None:
        principal = principal_of(request)
        if principal is None:
            return
        route = request.scope.get("route")
        template: str = getattr(route, "path", None) or request.url.path
        method = request.method
        needed = lookup(method, template)
        if needed is None:
            logger.error("route %s %s is missing from the permission table", method, template)
            raise PermissionDeniedError(
                f"{method} {template} is not in the permission table; refused until it is"
            )
        if needed.permission == Permission.PUBLIC or principal.can(needed.permission):
            return
        context = request.scope.get("state", {}).get(STATE_KEY)
        if needed.kind is not None and isinstance(context, AuthContext):
            resource = await _resource(request, needed, context)
            if resource is not None:
                granted = await run_in_threadpool(context.authenticator.with_grants, principal)
                if granted.can(needed.permission, needed.kind, resource):
                    return
        raise PermissionDeniedError(
            f"user {principal.name!r} (role {principal.role.value}) may not "
            f"{method} {request.url.path}: it needs {needed.describe()}"
        )

    dependency: DependsParam = Depends(authorize)
    return dependency


async def _resource(request: Request, needed: Requirement, context: AuthContext) -> str | None:
    """The experiment ID or model name a scoped requirement is about (None: unknown)."""
    via = needed.via or ""
    params: Mapping[str, Any] = request.path_params
    if via.startswith("body:"):
        key = via.removeprefix("body:")
        if int(request.headers.get("content-length") or 0) > _MAX_SCOPED_BODY:
            return None
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        value = body.get(key) if isinstance(body, dict) else None
        return value if isinstance(value, str) else None
    value = params.get(via)
    if not isinstance(value, str):
        return None
    if via == "run_id" and needed.kind == ResourceKind.EXPERIMENT:
        if context.experiment_of_run is None:
            return None
        try:
            return await run_in_threadpool(context.experiment_of_run, value)
        except NotFoundError:
            return None
    return value
