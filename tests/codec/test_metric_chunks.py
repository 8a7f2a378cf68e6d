"""The columnar metric chunk encoding."""

from __future__ import annotations

import numpy as np
import pytest

from mlcycle.codec.metric_chunks import decode, encode
from mlcycle.errors import StoreError


@pytest.mark.parametrize("n", [0, 1, 7, 100_000])
def test_round_trip_is_bit_exact(n: int) -> None:
    rng = np.random.default_rng(n)
    steps = np.cumsum(rng.integers(0, 3, n)).astype(np.int64)
    ts = (1_700_000_000_000 + np.cumsum(rng.integers(0, 5, n))).astype(np.int64)
    values = rng.standard_normal(n)
    if n > 3:
        values[:3] = [np.nan, np.inf, -np.inf]
    s, t, v = decode(encode(steps, ts, values))
    assert np.array_equal(s, steps)
    assert np.array_equal(t, ts)
    assert np.array_equal(v.view(np.uint64), values.view(np.uint64))


def test_regular_series_compress_well() -> None:
    n = 100_000
    blob = encode(
        np.arange(n, dtype=np.int64),
        np.arange(n, dtype=np.int64) + 1_700_000_000_000,
        np.round(np.linspace(0, 1, n), 3),
    )
    assert len(blob) / n < 4


def test_corrupt_chunks_raise_store_errors() -> None:
    with pytest.raises(StoreError, match="corrupt"):
        decode(b"garbage")
    blob = encode(np.arange(3), np.arange(3), np.ones(3))
    with pytest.raises(StoreError):
        decode(blob[:-3])
    with pytest.raises(ValueError, match="same length"):
        encode(np.arange(3), np.arange(2), np.ones(3))
