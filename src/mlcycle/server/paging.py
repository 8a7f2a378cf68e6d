"""Keyset paging for the native list endpoints: ``page_token`` and ``max_results``.

A page token names the sort key of the last item of the previous page (opaque to the
client: base64 of a JSON array), so the next page starts right after it even when items
were added or removed in between, and no offset is ever counted.

    >>> items, token = page([1, 2, 3], key=lambda n: n, token=None, limit=2)
    >>> items, page([1, 2, 3], key=lambda n: n, token=token, limit=2)[0]
    ([1, 2], [3])
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query

from mlcycle.errors import InvalidInputError

T = TypeVar("T")

DEFAULT_MAX_RESULTS = 1000
LIMIT = 10_000

PageToken = Annotated[
    str | None,
    Query(max_length=1000, description="next_page_token of the previous page"),
]
MaxResults = Annotated[int, Query(ge=1, le=LIMIT, description=f"items per page (at most {LIMIT})")]


def encode_token(key: Any) -> str:
    """The token of a page that ended at an item of sort key ``key``."""
    return base64.urlsafe_b64encode(orjson.dumps([key])).decode()


def decode_token(token: str) -> Any:
    """The sort key inside a page token; InvalidInputError naming ``page_token``."""
    try:
        found = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        found = None
    if not isinstance(found, list) or len(found) != 1:
        raise InvalidInputError(
            "page_token is not a token this server gave out (pass next_page_token as is)",
            field="page_token",
        )
    key = found[0]
    return tuple(key) if isinstance(key, list) else key


class _Descending:
    """A sort key compared the other way round (for listings newest first)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.key < self.key)


def key_of(token: str, kind: type) -> Any:
    """The sort key in ``token``, checked to be an ``int`` or a ``(int, str)`` tuple."""
    key = decode_token(token)
    ok = (
        isinstance(key, int) and not isinstance(key, bool)
        if kind is int
        else isinstance(key, tuple)
        and len(key) == 2
        and isinstance(key[0], int)
        and isinstance(key[1], str)
    )
    if not ok:
        raise InvalidInputError("page_token does not belong to this listing", field="page_token")
    return key


def page(
    items: Sequence[T],
    *,
    key: Callable[[T], Any],
    token: str | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The items after ``token`` (``items`` sorted by ``key``, ascending, or descending
    with ``descending``), at most ``limit`` of them, and the token of the next page (None
    on the last page)."""
    start = 0
    if token is not None:
        after = decode_token(token)
        try:
            if descending:
                start = bisect_right(
                    items, _Descending(after), key=lambda item: _Descending(key(item))
                )
            else:
                start = bisect_right(items, after, key=key)
        except TypeError:
            raise InvalidInputError(
                "page_token does not belong to this listing", field="page_token"
            ) from None
    chosen = list(items[start : start + limit])
    more = start + limit < len(items)
    return chosen, (encode_token(_plain(key(chosen[-1]))) if more and chosen else None)


def _plain(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key
