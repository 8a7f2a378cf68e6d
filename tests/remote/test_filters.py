"""Typed filters go to the server as text that parses back into the same objects."""

from __future__ import annotations

import pytest

from mlcycle.errors import InvalidInputError
from mlcycle.remote.filters import render_filter, render_order_by
from mlcycle.search import Comparison, Entity, Field, Op, OrderBy, parse_filter, parse_order_by

FILTERS = [
    "metrics.m1 > 0.5",
    "metrics.`my metric` >= -1e-3 and params.p1 = 'a'",
    "params.p = 'it''s' or tags.t != \"x\"",
    "not (attributes.status = 'FINISHED') and start_time > 1700000000000",
    "tags.`odd``key` like 'a\\_b%' and params.lr in ('0.1', '0.01')",
    "metrics.loss not in (1, 2.5) and params.x is null and tags.y is not null",
    "(metrics.a < 1 or metrics.b < 2) and (metrics.c > 3 or not metrics.d = 4)",
    "tags.\"mlflow.runName\" ilike '%Run%' and duration <= 60000",
    "run_id = 'abc' and name != 'back\\\\slash'",
]


@pytest.mark.parametrize("text", FILTERS)
def test_filters_round_trip(text: str) -> None:
    parsed = parse_filter(text)
    assert parsed is not None
    assert parse_filter(render_filter(parsed)) == parsed


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_values_the_language_cannot_write_are_refused(value: float) -> None:
    with pytest.raises(InvalidInputError, match="cannot compare"):
        render_filter(Comparison(Field(Entity.METRIC, "m"), Op.LT, value))


def test_order_by_round_trips() -> None:
    orders = parse_order_by(["metrics.`a b` DESC", "params.p", "start_time ASC"])
    assert parse_order_by(render_order_by(orders)) == orders
    assert render_order_by("metrics.m DESC") == ["metrics.m DESC"]
    assert render_order_by(None) == []
    assert render_order_by([OrderBy(Field(Entity.TAG, "t"))]) == ["tags.`t` ASC"]
