"""Keyset page tokens: pages follow each other without gaps or repeats, in both orders,
and a token from elsewhere is refused naming ``page_token``."""

from __future__ import annotations

import pytest

from mlcycle.errors import InvalidInputError
from mlcycle.server.paging import decode_token, encode_token, key_of, page


def _walk(items: list[tuple[int, str]], *, descending: bool) -> list[list[tuple[int, str]]]:
    pages: list[list[tuple[int, str]]] = []
    token: str | None = None
    while True:
        chosen, token = page(items, key=lambda x: x, token=token, limit=3, descending=descending)
        pages.append(chosen)
        if token is None:
            return pages


def test_pages_cover_the_listing_once_in_both_orders() -> None:
    items = [(t, f"id{t}") for t in range(10)]
    ascending = _walk(items, descending=False)
    assert [len(p) for p in ascending] == [3, 3, 3, 1]
    assert [x for p in ascending for x in p] == items
    newest_first = list(reversed(items))
    descending = _walk(newest_first, descending=True)
    assert [x for p in descending for x in p] == newest_first


def test_a_page_starts_after_its_key_even_when_that_item_is_gone() -> None:
    items = [1, 2, 3, 4, 5, 6]
    first, token = page(items, key=lambda n: n, token=None, limit=2)
    assert first == [1, 2]
    rest = [n for n in items if n != 2]  # the last item of the page was deleted meanwhile
    assert page(rest, key=lambda n: n, token=token, limit=2)[0] == [3, 4]


def test_tokens_round_trip_and_foreign_tokens_are_refused() -> None:
    assert decode_token(encode_token([5, "x"])) == (5, "x")
    assert key_of(encode_token(7), int) == 7
    assert key_of(encode_token([5, "x"]), tuple) == (5, "x")
    for bad in ("zz", encode_token("text")):
        with pytest.raises(InvalidInputError, match="page_token") as info:
            key_of(bad, int)
        assert info.value.field == "page_token"
    with pytest.raises(InvalidInputError, match="does not belong"):
        page([1, 2], key=lambda n: n, token=encode_token("a"), limit=1)
