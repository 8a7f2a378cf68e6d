"""MLflow's wire protocol: error codes and their status codes, request parameters, answers.

Every answer of an MLflow route is JSON; an error is ``{"error_code": ..., "message": ...}``
with the HTTP status MLflow gives that code, so the ``mlflow`` client raises the
``MlflowException`` (with the ``error_code``) its users already catch. mlcycle's own errors
are translated in one table::

    NotFoundError                    RESOURCE_DOES_NOT_EXIST   404
    AuthenticationError              UNAUTHENTICATED           401
    PermissionDeniedError            PERMISSION_DENIED         403
    AlreadyExistsError               RESOURCE_ALREADY_EXISTS   400
    InvalidInputError, ConflictError INVALID_PARAMETER_VALUE   400
    StoreError                       TEMPORARILY_UNAVAILABLE   503
    anything else                    INTERNAL_ERROR            500

Request parameters come from the JSON body (POST, PATCH, DELETE) or the query string
(GET), as MLflow's client sends them; numbers may arrive as JSON numbers or as strings
(proto3's JSON form of int64, and every query parameter).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response

from mlcycle.bounds import INT64_MAX, INT64_MIN
from mlcycle.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    MlcycleError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
)

logger = logging.getLogger("mlcycle.server.mlflow")

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"
BAD_REQUEST = "BAD_REQUEST"
UNAUTHENTICATED = "UNAUTHENTICATED"
PERMISSION_DENIED = "PERMISSION_DENIED"

#: MLflow's HTTP status of each error code (mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS).
STATUS: dict[str, int] = {
    INVALID_PARAMETER_VALUE: 400,
    BAD_REQUEST: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    ENDPOINT_NOT_FOUND: 404,
    NOT_IMPLEMENTED: 501,
    TEMPORARILY_UNAVAILABLE: 503,
    INTERNAL_ERROR: 500,
    UNAUTHENTICATED: 401,
    PERMISSION_DENIED: 403,
}

_CODES: tuple[tuple[type[MlcycleError], str], ...] = (
    (NotFoundError, RESOURCE_DOES_NOT_EXIST),
    (AuthenticationError, UNAUTHENTICATED),
    (PermissionDeniedError, PERMISSION_DENIED),
    (AlreadyExistsError, RESOURCE_ALREADY_EXISTS),
    (InvalidInputError, INVALID_PARAMETER_VALUE),
    (ConflictError, INVALID_PARAMETER_VALUE),
    (StoreError, TEMPORARILY_UNAVAILABLE),
)


class MlflowError(Exception):
    """An error answered in MLflow's shape (raised by the MLflow routes themselves)."""

    def __init__(self, message: str, code: str = INVALID_PARAMETER_VALUE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def error_code(exc: MlcycleError) -> str:
    """MLflow's error code for an mlcycle error (see the module docstring)."""
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return INTERNAL_ERROR


def error_response(code: str, message: str) -> Response:
    body = orjson.dumps({"error_code": code, "message": message})
    return Response(body, status_code=STATUS.get(code, 500), media_type="application/json")


#: mlcycle's messages of errors MLflow's clients (and their users' code) match on, in
#: MLflow's words.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"no run with ID '(?P<id>[^']*)'"), "Run with id={id} not found"),
    (
        re.compile(r"run (?P<id>\S+) has no tag '(?P<key>.*)'$"),
        "No tag with name: {key} in run with id {id}",
    ),
    (
        re.compile(r"registered model '(?P<name>.*)' does not exist"),
        "Registered Model with name={name} not found",
    ),
    (
        re.compile(r"registered model '(?P<name>.*)' exists already"),
        "Registered Model (name={name}) already exists.",
    ),
    (
        re.compile(r"logged model (?P<id>\S+) has no tag '(?P<key>.*)'$"),
        "No tag with key '{key}' found for logged model {id}",
    ),
)


def mlflow_message(message: str) -> str:
    """``message`` in MLflow's words where MLflow's clients match on them."""
    for pattern, template in _MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            return template.format(**found.groupdict())
    return message


def answer_error(exc: Exception, what: str) -> Response:
    """The MLflow error answer for any exception a route raised."""
    if isinstance(exc, MlflowError):
        return error_response(exc.code, exc.message)
    if isinstance(exc, MlcycleError):
        return error_response(error_code(exc), mlflow_message(exc.message))
    logger.exception("unexpected error in %s", what)
    return error_response(INTERNAL_ERROR, f"the server failed to answer {what}")


def json_response(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def number(value: float) -> float | str:
    """A double as proto3 JSON writes it: non-finite values as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _missing(name: str) -> MlflowError:
    return MlflowError(
        f"Missing value for required parameter '{name}'. See the API docs for more "
        "information about request parameters."
    )


def shown(value: object) -> str:
    """A value as MLflow's messages show it (JSON, keys sorted)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(value)


def _invalid(name: str, value: object, rule: str) -> MlflowError:
    return MlflowError(
        f"Invalid value {shown(value)} for parameter '{name}' supplied: {rule}. Hint: Value "
        f"was of type '{type(value).__name__}'. See the API docs for more information about "
        "request parameters."
    )


_SPECIAL = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf}


class Params:
    """The parameters of one request, read with the type each field has in MLflow's protos.

    ``values`` maps each name to its value (JSON) or to the list of its values (query
    string, where a repeated field is a repeated name).
    """

    def __init__(self, values: Mapping[str, Any], *, query: bool = False) -> None:
        self._values = values
        self._query = query

    @classmethod
    def from_query(cls, items: Sequence[tuple[str, str]]) -> Params:
        grouped: dict[str, list[str]] = {}
        for key, value in items:
            grouped.setdefault(key, []).append(value)
        return cls(grouped, query=True)

    def with_path(self, path: Mapping[str, str]) -> Params:
        merged = dict(self._values)
        merged.update({k: [v] if self._query else v for k, v in path.items()})
        return Params(merged, query=self._query)

    def _raw(self, name: str) -> Any:
        value = self._values.get(name)
        if self._query and isinstance(value, list):
            return value[-1] if value else None
        return value

    def has(self, name: str) -> bool:
        return self._raw(name) is not None

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self._raw(name)
        if value is None or (required and value == ""):
            if required:
                raise _missing(name)
            return default
        if not isinstance(value, str):
            raise _invalid(name, value, "a string is expected")
        return _no_nul(name, value)

    def req(self, name: str) -> str:
        """A required, non-empty string parameter."""
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(
        self, name: str, *, default: int | None = None, required: bool = False
    ) -> int | None:
        value = self._raw(name)
        if value is None or value == "":
            if required:
                raise _missing(name)
            return default
        if isinstance(value, bool):
            raise _invalid(name, value, "an integer is expected")
        number: int | None = None
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = int(value.strip())
        if number is None:
            raise _invalid(name, value, "an integer is expected")
        if not INT64_MIN <= number <= INT64_MAX:
            raise _invalid(name, value, "a 64-bit integer is expected")
        return number

    def double(self, name: str, *, required: bool = False) -> float | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise _missing(name)
            return None
        return to_float(name, value)

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self._raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _invalid(name, value, "true or false is expected")

    def strs(self, name: str) -> list[str]:
        """A repeated string field."""
        value = self._values.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str):
                raise _invalid(name, item, "a list of strings is expected")
        return list(items)

    def objects(self, name: str) -> list[Mapping[str, Any]]:
        """A repeated message field (JSON only)."""
        value = self._values.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise _invalid(name, value, "a list of objects is expected")
        return value

    def message(self, name: str) -> Mapping[str, Any] | None:
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise _invalid(name, value, "an object is expected")
        return value

    def enum(self, name: str, names: Sequence[str], *, default: str | None = None) -> str | None:
        """An enum field given by name or by number (1 is the first of ``names``)."""
        value = self._raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(names):
            return names[value - 1]
        if isinstance(value, str):
            if value.isascii() and value.isdigit() and 1 <= int(value) <= len(names):
                return names[int(value) - 1]
            if value.upper() in names:
                return value.upper()
        raise _invalid(name, value, f"one of {', '.join(names)} is expected")


def to_float(name: str, value: object) -> float:
    """A double from JSON: a number, or "NaN", "Infinity", "-Infinity" as proto3 writes."""
    if isinstance(value, bool):
        raise _invalid(name, value, "a number is expected")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        special = _SPECIAL.get(value.strip().lower())
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            pass
    raise _invalid(name, value, "a number is expected")


def _no_nul(name: str, value: str) -> str:
    """Refuse NUL characters, which PostgreSQL cannot store (MLflow 3.18's rule)."""
    if "\x00" in value:
        raise MlflowError(f"'{name}' cannot contain NUL (0x00) characters")
    return value


def key_values(items: Sequence[Mapping[str, Any]], field: str) -> dict[str, str]:
    """``[{"key": k, "value": v}, ...]`` (tags, params) as a dict; a missing value is ""."""
    out: dict[str, str] = {}
    for item in items:
        key = item.get("key")
        value = item.get("value", "")
        if not isinstance(key, str) or not key:
            raise MlflowError(f"every item of '{field}' needs a string 'key'")
        if not isinstance(value, str):
            value = str(value)
        out[_no_nul(f"{field}.key", key)] = _no_nul(f"{field}.value", value)
    return out


def pairs(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    """A dict as MLflow's list of ``{"key", "value"}``."""
    return [{"key": k, "value": v} for k, v in mapping.items()]
