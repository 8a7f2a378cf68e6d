"""The response schemas of the native routes in OpenAPI, written from the entity codec's
own rules, so the documentation says exactly what :func:`~mlcycle.entities.codec.to_json`
writes: an entity is an object keyed by its field names (every field, always present),
enums are their values, tuples and arrays are arrays, bytes are base64 text and a float
may also be one of the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

A route declares its answer with :func:`returns` (``responses=returns(ModelVersion)``,
``returns(listing("versions", ModelVersion))``, ``returns(..., 201)``); each entity becomes
one component under ``#/components/schemas``, added to the document by :func:`document`.
The routes still answer with orjson directly: these schemas describe, they do not
re-validate every answer on its way out.

    >>> from mlcycle.entities import ArtifactInfo
    >>> returns(ArtifactInfo)[200]["content"]["application/json"]["schema"]
    {'$ref': '#/components/schemas/ArtifactInfo'}
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import FastAPI

from mlcycle.entities.codec import encoded_fields
from mlcycle.server.errors import error_schemas

#: Every entity schema met so far, by component name.
COMPONENTS: dict[str, dict[str, Any]] = {}
_NAMES: dict[type, str] = {}

_FLOAT: dict[str, Any] = {"anyOf": [{"type": "number"}, {"enum": ["NaN", "Infinity", "-Infinity"]}]}


def listing(field: str, cls: type) -> dict[str, Any]:
    """The shape of a keyset-paged listing: ``{field: [cls, ...], "next_page_token": ...}``."""
    return {field: [cls], "next_page_token": str | None}


def returns(shape: Any, status: int = 200, description: str = "") -> dict[int | str, Any]:
    """``responses=`` for a route answering ``shape`` as JSON with ``status``: an entity
    class, ``[shape]`` (an array), ``{"key": shape}`` (an object with those keys) or a
    type hint (``str | None``, ``dict[str, X]``)."""
    return {
        status: {
            "description": description or "Successful Response",
            "content": {"application/json": {"schema": schema(shape)}},
        }
    }


def returns_file(media_type: str, status: int = 200) -> dict[int | str, Any]:
    """``responses=`` for a route streaming a file of ``media_type``."""
    body = {"type": "string", "format": "binary"}
    return {status: {"description": "The file", "content": {media_type: {"schema": body}}}}


def schema(shape: Any) -> dict[str, Any]:
    """The JSON schema of ``shape`` (see :func:`returns`)."""
    if isinstance(shape, list):
        (item,) = shape
        return {"type": "array", "items": schema(item)}
    if isinstance(shape, dict):
        return {
            "type": "object",
            "properties": {key: schema(value) for key, value in shape.items()},
            "required": list(shape),
        }
    return _hint(shape)


def _hint(hint: Any) -> dict[str, Any]:
    if hint is Any or hint is object:
        return {}
    if hint is None or hint is type(None):
        return {"type": "null"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return dict(_FLOAT)
    if hint is str:
        return {"type": "string"}
    if hint is bytes:
        return {"type": "string", "contentEncoding": "base64"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [member.value for member in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {"$ref": f"#/components/schemas/{_component(hint)}"}
    if isinstance(hint, type) and issubclass(hint, np.ndarray):
        return {"type": "array", "items": {}}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_hint(a) for a in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is np.ndarray:
        return {"type": "array", "items": {}}
    if origin in (tuple, list, collections.abc.Sequence, set, frozenset):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return {"type": "array", "prefixItems": [_hint(a) for a in args]}
        return {"type": "array", "items": _hint(args[0]) if args else {}}
    if origin in (dict, collections.abc.Mapping):
        values = _hint(args[1]) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": values}
    if hint in (dict, collections.abc.Mapping):
        return {"type": "object"}
    if hint in (list, tuple):
        return {"type": "array"}
    raise TypeError(f"no JSON schema for {hint!r}")


def _component(cls: type) -> str:
    name = _NAMES.get(cls)
    if name is not None:
        return name
    name = cls.__name__
    if name in COMPONENTS:  # two entity classes of one name: the second is qualified
        name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
    _NAMES[cls] = name
    COMPONENTS[name] = {}  # taken before the fields, for entities that nest themselves
    properties = {field: _hint(hint) for field, hint in encoded_fields(cls)}
    COMPONENTS[name] = {
        "title": cls.__name__,
        "type": "object",
        "properties": properties,
        "required": list(properties),
    }
    return name


def document(app: FastAPI) -> None:
    """Add the entity components to ``app``'s OpenAPI document, and drop the empty default
    200 answer of routes that document their real 2xx answer under another status."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        components.update(COMPONENTS)
        components.update(error_schemas())
        for operations in doc.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.get("responses", {})
                default = answers.get("200", {}).get("content", {}).get("application/json")
                others = [code for code in answers if code.startswith("2") and code != "200"]
                if others and default is not None and not default.get("schema"):
                    del answers["200"]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
