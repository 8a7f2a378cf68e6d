"""What every HTTP backend shares: path segments, JSON answers, and walking pages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import orjson

from mlcycle.entities.codec import from_json
from mlcycle.remote.http import HttpSession

T = TypeVar("T")

#: Items asked for per page when a backend walks a listing to its end.
PAGE_SIZE = 5000


def seg(value: object) -> str:
    """One path segment, percent-encoded (a name may hold any character but ``/``)."""
    return quote(str(value), safe="")


def params(**values: Any) -> dict[str, Any]:
    """Query parameters without the None ones; booleans as ``true``/``false``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def get_json(http: HttpSession, path: str, query: Mapping[str, Any] | None = None) -> Any:
    return orjson.loads(http.request("GET", path, params=query).content)


def send_json(http: HttpSession, method: str, path: str, body: Any = None) -> Any:
    response = http.request(method, path, json=body if body is not None else {})
    return orjson.loads(response.content) if response.content else None


def entity(cls: type[T], data: Any) -> T:
    return from_json(cls, data)


def pages(
    http: HttpSession, path: str, field: str, query: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    """Every item of a paged listing, following ``next_page_token`` to the end."""
    token: str | None = None
    while True:
        ask = dict(query or {})
        ask["max_results"] = PAGE_SIZE
        if token is not None:
            ask["page_token"] = token
        body = get_json(http, path, ask)
        yield from body[field]
        token = body.get("next_page_token")
        if not token:
            return


def listed(
    cls: type[T],
    http: HttpSession,
    path: str,
    field: str,
    query: Mapping[str, Any] | None = None,
) -> list[T]:
    """Every item of a paged listing as ``cls``."""
    return [from_json(cls, item) for item in pages(http, path, field, query)]
