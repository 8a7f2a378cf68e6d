"""Downsampling of long metric series for charts."""

from __future__ import annotations

import numpy as np

from mlcycle.entities import MetricHistory


def downsample(history: MetricHistory, max_points: int) -> MetricHistory:
    """Keep at most ``max_points`` points: the first, the last, and each bucket's min and max.

    The series is cut into ``max_points // 2`` buckets of consecutive points; from each, the
    points holding the smallest and the largest value are kept in their original order, so
    spikes stay visible. NaN values count as neither smallest nor largest.
    """
    n = len(history)
    if max_points <= 0 or n <= max_points:
        return history
    buckets = max(1, max_points // 2)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    values = history.values
    finite = np.where(np.isnan(values), np.inf, values)
    finite_max = np.where(np.isnan(values), -np.inf, values)
    starts = edges[:-1]
    lo = np.minimum.reduceat(finite, starts)
    hi = np.maximum.reduceat(finite_max, starts)
    # Position of each bucket's min and max: the first index where the value equals it.
    keep = np.zeros(n, dtype=bool)
    bucket_of = np.repeat(np.arange(buckets), np.diff(edges))
    is_lo = finite == lo[bucket_of]
    is_hi = finite_max == hi[bucket_of]
    for mask in (is_lo, is_hi):
        idx = np.flatnonzero(mask)
        first = idx[np.unique(bucket_of[idx], return_index=True)[1]]
        keep[first] = True
    keep[0] = keep[-1] = True
    chosen = np.flatnonzero(keep)
    if chosen.size > max_points:  # first/last can add two points over the budget
        inner = chosen[1:-1]
        step = inner.size / (max_points - 2)
        inner = inner[(np.arange(max_points - 2) * step).astype(np.int64)]
        chosen = np.concatenate([chosen[:1], inner, chosen[-1:]])
    return MetricHistory(
        run_id=history.run_id,
        key=history.key,
        steps=history.steps[chosen],
        timestamps=history.timestamps[chosen],
        values=history.values[chosen],
    )
