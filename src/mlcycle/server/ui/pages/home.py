"""``/`` (which maps MLflow's ``/#/...`` links to pages), the login page and the API docs
with Swagger UI served from the package."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mlcycle.errors import AuthenticationError
from mlcycle.server.auth import SESSION_COOKIE, principal_of
from mlcycle.server.ui import assets
from mlcycle.server.ui.deps import Services
from mlcycle.server.ui.render import page, render
from mlcycle.server.ui.routing import HtmlRoute, check_origin, form

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

SESSION_HOURS = 12


@router.get("/")
def home() -> HTMLResponse:
    """A tiny page whose script opens the page an MLflow-style ``/#/...`` link means
    (the fragment never reaches the server), or the experiments."""
    return HTMLResponse(render("hash.html"))


@router.get("/docs")
def docs() -> HTMLResponse:
    """The API reference (Swagger UI) with every asset served locally."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="mlcycle API",
        swagger_js_url=assets.url("vendor/swagger-ui-bundle.js"),
        swagger_css_url=assets.url("vendor/swagger-ui.css"),
        swagger_favicon_url=assets.url("favicon.svg"),
        oauth2_redirect_url="/docs/oauth2-redirect",
        # no badge from swagger.io's validator: the page makes no request to another host
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/docs/oauth2-redirect")
def docs_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def _safe_next(target: str) -> str:
    """Only a local path (never ``//host`` or a scheme): no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/experiments"


@router.get("/login")
def login_page(request: Request, next: str = "/experiments") -> HTMLResponse:
    return page(request, "login.html", title="Log in", next=_safe_next(next), error=None, name="")


@router.post("/login")
async def login(request: Request, ui: Services) -> Response:
    """Check a user's password or token; on success set the session cookie (a new API
    token of the user, valid 12 hours) and go to ``next``."""
    fields = await form(request)
    name, secret = fields.get("user", "").strip(), fields.get("secret", "")
    target = _safe_next(fields.get("next", "/experiments"))
    if not ui.governance.auth_enabled:
        return RedirectResponse(target, status_code=303)
    if not name or not secret:
        return page(
            request,
            "login.html",
            status_code=400,
            title="Log in",
            next=target,
            error="enter your user name and your password or API token",
            name=name,
        )
    header = "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()
    try:
        address = request.client.host if request.client else None  # failed logins back off
        user = await run_in_threadpool(ui.governance.authenticator.authenticate, header, address)
        token = await run_in_threadpool(
            lambda: ui.governance.users.create_token(
                user.name, expires=f"{SESSION_HOURS}h", name="web session"
            )
        )
    except AuthenticationError as exc:
        return page(
            request,
            "login.html",
            status_code=401,
            title="Log in",
            next=target,
            error=exc.message,
            name=name,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.secret,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request, ui: Services) -> Response:
    """Revoke the session's token and forget the cookie."""
    check_origin(request)
    secret = request.cookies.get(SESSION_COOKIE, "")
    if secret and principal_of(request) is not None:
        token_id = secret.split("_")[1] if secret.count("_") >= 2 else ""
        if token_id:
            await run_in_threadpool(ui.governance.users.revoke_token, token_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
