"""The permission walk: every route of the app, with every role and without credentials,
against a live ``--auth`` server, checked against the one permission table.

Routes come from the app itself, so a new route (the MLflow-compatible API's too) is walked
as soon as it exists, and one missing from the table fails here.
"""

from __future__ import annotations

import re

import httpx
from fastapi.routing import iter_route_contexts

from mlcycle.entities.governance import Permission, Principal, Role
from mlcycle.server import ServerConfig, create_app
from mlcycle.server.permissions import requirement_for
from mlcycle.settings import Settings
from tests.server.authlive import ROLES, AuthServer

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
_VALUES = {
    "experiment_id": "0" * 32,
    "run_id": "0" * 32,
    "approval_id": "0" * 32,
    "token_id": "0" * 16,
    "name": "no-such-model",
    "version": "1",
    "key": "k",
    "path": "a.txt",
}


def app_routes() -> list[tuple[str, str]]:
    settings = Settings.from_env({"MLCYCLE_TRACKING_URI": "sqlite:///unused.db"})
    app = create_app(settings, ServerConfig(auth=True))
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD" and route.path is not None:
                found.add((method, route.path))
    return sorted(found)


def test_every_route_is_in_the_permission_table() -> None:
    missing = [f"{m} {p}" for m, p in app_routes() if requirement_for(m, p) is None]
    assert missing == [], f"add these to mlcycle.server.permissions.ROUTES: {missing}"


def body_of(method: str) -> dict[str, object] | None:
    return {} if method in ("POST", "PATCH", "PUT") else None


def _concrete(template: str) -> str:
    def value(match: re.Match[str]) -> str:
        return _VALUES.get(match.group(1), "x")

    return _PARAM.sub(value, template)


def test_walk_every_route_with_every_role(auth_server: AuthServer) -> None:
    problems: list[str] = []
    with httpx.Client(base_url=auth_server.url, timeout=30) as api:
        for method, template in app_routes():
            needed = requirement_for(method, template)
            assert needed is not None
            path = _concrete(template)

            def call(
                headers: dict[str, str], method: str = method, path: str = path
            ) -> httpx.Response:
                return api.request(method, path, json=body_of(method), headers=headers)

            anonymous = call({})
            if needed.permission == Permission.PUBLIC:
                if anonymous.status_code in (401, 403):
                    problems.append(f"{method} {template}: public but {anonymous.status_code}")
                continue
            if anonymous.status_code != 401:
                problems.append(f"{method} {template}: anonymous got {anonymous.status_code}")
            for role in ROLES:
                allowed = Principal(name=role, role=Role(role)).can(needed.permission)
                status = call(auth_server.header(role)).status_code
                if allowed and status in (401, 403):
                    problems.append(f"{method} {template}: {role} refused ({status})")
                if not allowed and status != 403:
                    problems.append(f"{method} {template}: {role} got {status}, not 403")
    assert problems == []
