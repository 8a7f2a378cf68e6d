"""Chart buckets keep every extreme: the block path agrees with reading every point."""

from __future__ import annotations

import numpy as np
import pytest

from mlcycle.entities import MetricHistory
from mlcycle.errors import InvalidInputError
from mlcycle.server.ui.buckets import BLOCK, Series, bucketize


def series(values: np.ndarray, steps: np.ndarray | None = None) -> Series:
    steps = np.arange(values.size, dtype=np.int64) if steps is None else steps
    return Series(
        MetricHistory(run_id="r", key="k", steps=steps, timestamps=steps * 10, values=values)
    )


def exact(
    s: Series, start: int, end: int, edges_step: list[int]
) -> tuple[list[float], list[float]]:
    """Min and max of each bucket from every point, the buckets ending at ``edges_step``."""
    lo, hi = [], []
    previous = start
    for last in edges_step:
        mask = (s.steps >= previous) & (s.steps <= last)
        lo.append(float(np.nanmin(s.values[mask])))
        hi.append(float(np.nanmax(s.values[mask])))
        previous = last + 1
    return lo, hi


@pytest.mark.parametrize(("start", "end"), [(None, None), (1234, 987_654), (5, 300_000)])
def test_block_extremes_equal_the_exact_ones(start: int | None, end: int | None) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=1_000_000)
    values[[17, 400_001, 999_999]] = [50.0, -50.0, 70.0]
    values[rng.integers(0, values.size, 100)] = np.nan
    s = series(values)
    got = bucketize(s, start=start, end=end, buckets=100)
    lo, hi = exact(s, start or 0, end or values.size - 1, got.step)
    assert got.min == pytest.approx(lo)
    assert got.max == pytest.approx(hi)
    assert len(got.step) == 100
    inside = values[(start or 0) : (end or values.size - 1) + 1]
    assert max(x for x in got.max if x is not None) == np.nanmax(inside)
    assert got.last[-1] == pytest.approx(inside[-1])


def test_a_short_range_returns_its_points_and_nan_becomes_null() -> None:
    s = series(np.array([1.0, np.nan, 3.0, np.inf]))
    got = bucketize(s, start=1, end=3)
    assert got.step == [1, 2, 3]
    assert got.last == [None, 3.0, pytest.approx(1.7976931348623157e308)]
    assert got.points == 3
    assert got.total == 4


def test_unsorted_steps_are_sorted_and_an_empty_range_is_empty() -> None:
    s = series(np.array([3.0, 1.0, 2.0]), steps=np.array([30, 10, 20], dtype=np.int64))
    assert bucketize(s).step == [10, 20, 30]
    assert bucketize(s, start=40, end=50).step == []
    assert bucketize(series(np.empty(0))).total == 0


def test_bad_arguments_name_their_field() -> None:
    s = series(np.arange(BLOCK * 3, dtype=float))
    with pytest.raises(InvalidInputError) as raised:
        bucketize(s, buckets=1)
    assert raised.value.field == "buckets"
    with pytest.raises(InvalidInputError) as raised:
        bucketize(s, start=10, end=5)
    assert raised.value.field == "end"
