"""Page tokens for the MLflow listings paged in Python (experiments, registry, logged
models, metric histories): an opaque base64 of the offset of the next page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

import orjson

from mlcycle.server.mlflow.protocol import MlflowError

T = TypeVar("T")


def encode(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


def decode(token: str | None) -> int:
    if not token:
        return 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        offset = data["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise MlflowError(f"Invalid page token {token!r}") from None
    if not isinstance(offset, int) or offset < 0:
        raise MlflowError(f"Invalid page token {token!r}")
    return offset


def page(items: Sequence[T], token: str | None, size: int) -> tuple[list[T], str | None]:
    """One page of ``items`` from the token's offset, and the token of the next page."""
    start = decode(token)
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, encode(start + size) if more else None


def check_size(value: int, *, name: str, limit: int) -> int:
    if not 1 <= value <= limit:
        raise MlflowError(
            f"Invalid value {value} for parameter '{name}' supplied: it must be at most "
            f"{limit} and at least 1"
        )
    return value
