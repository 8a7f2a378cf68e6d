"""Chart data that keeps every extreme: a metric series cut into about 1,000 buckets over
the visible step range, each with its min, max and last value, so a 10 M-point series is
exact at every zoom level and never ships whole to the browser (W&B's approach).

A :class:`Series` is read once from the store and keeps, beside its columns, the min and
max of each block of ``BLOCK`` points; a query over many points reads those blocks
instead of the points, so the cost of a request depends on the number of buckets, not the
length of the series. Bucket edges fall on block boundaries (except the first and last),
which moves them by less than one block and keeps every min and max exact.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlcycle.entities import MetricHistory
from mlcycle.errors import InvalidInputError

BLOCK = 256
DEFAULT_BUCKETS = 1000
MAX_BUCKETS = 5000
_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]


class Series:
    """One metric series sorted by step, with per-block extremes."""

    def __init__(self, history: MetricHistory) -> None:
        order = np.argsort(history.steps, kind="stable")
        sorted_ = bool(np.all(order == np.arange(order.size)))
        self.steps: _I = np.asarray(history.steps if sorted_ else history.steps[order], np.int64)
        self.times: _I = np.asarray(
            history.timestamps if sorted_ else history.timestamps[order], np.int64
        )
        self.values: _F = np.asarray(
            history.values if sorted_ else history.values[order], np.float64
        )
        n = self.values.size
        starts = np.arange(0, n, BLOCK)
        if n:
            self.block_min: _F = np.fmin.reduceat(self.values, starts)
            self.block_max: _F = np.fmax.reduceat(self.values, starts)
        else:
            self.block_min = self.block_max = np.empty(0)

    def __len__(self) -> int:
        return int(self.values.size)


@dataclass(frozen=True)
class Buckets:
    """Per bucket: the step and time of its last point, and its min, max and last value."""

    step: list[int]
    time: list[int]
    min: list[float | None]
    max: list[float | None]
    last: list[float | None]
    points: int  # points in the requested range
    total: int  # points in the whole series
    first_step: int | None
    last_step: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "time": self.time,
            "min": self.min,
            "max": self.max,
            "last": self.last,
            "points": self.points,
            "total": self.total,
            "first_step": self.first_step,
            "last_step": self.last_step,
        }


def _clean(values: _F) -> list[float | None]:
    """JSON has no NaN: NaN becomes null; infinities are clipped to the float range."""
    finite = np.nan_to_num(values).tolist()
    missing = np.isnan(values)
    if not missing.any():
        return list(finite)
    return [None if gap else v for v, gap in zip(finite, missing.tolist(), strict=True)]


def bucketize(
    series: Series,
    *,
    start: int | None = None,
    end: int | None = None,
    buckets: int = DEFAULT_BUCKETS,
) -> Buckets:
    """The buckets of ``series`` over steps ``start``..``end`` (inclusive; None: the ends)."""
    if not 2 <= buckets <= MAX_BUCKETS:
        raise InvalidInputError(f"buckets must be from 2 to {MAX_BUCKETS}", field="buckets")
    if start is not None and end is not None and end < start:
        raise InvalidInputError("end must not be before start", field="end")
    n = len(series)
    lo = 0 if start is None else int(np.searchsorted(series.steps, start, "left"))
    hi = n if end is None else int(np.searchsorted(series.steps, end, "right"))
    count = max(0, hi - lo)
    first = int(series.steps[0]) if n else None
    last = int(series.steps[-1]) if n else None
    if count <= buckets:
        v = series.values[lo:hi]
        cleaned = _clean(v)
        return Buckets(
            series.steps[lo:hi].tolist(),
            series.times[lo:hi].tolist(),
            cleaned,
            cleaned,
            cleaned,
            count,
            n,
            first,
            last,
        )
    raw = lo + (np.arange(buckets + 1, dtype=np.int64) * count) // buckets
    if count >= 4 * BLOCK * buckets:
        inner = -(-raw[1:-1] // BLOCK) * BLOCK  # up to the next block boundary
        raw = np.concatenate([[lo], np.clip(inner, lo, hi), [hi]])
    edges = np.unique(raw)
    starts, ends = edges[:-1], edges[1:]
    mins = np.empty(starts.size)
    maxs = np.empty(starts.size)
    aligned = (starts % BLOCK == 0) & (ends % BLOCK == 0)
    if count >= 4 * BLOCK * buckets and aligned.sum() >= 2:
        # contiguous whole-block buckets in the middle: read the block extremes
        inner = np.flatnonzero(aligned)
        first_i, last_i = int(inner[0]), int(inner[-1])
        index = np.append(starts[first_i : last_i + 1], ends[last_i]) // BLOCK
        bmin = np.append(series.block_min, np.nan)
        bmax = np.append(series.block_max, np.nan)
        mins[first_i : last_i + 1] = np.fmin.reduceat(bmin, index)[:-1]
        maxs[first_i : last_i + 1] = np.fmax.reduceat(bmax, index)[:-1]
        for i in [*range(first_i), *range(last_i + 1, starts.size)]:
            chunk = series.values[starts[i] : ends[i]]
            mins[i], maxs[i] = np.fmin.reduce(chunk), np.fmax.reduce(chunk)
    else:
        mins[:] = np.fmin.reduceat(series.values, starts)
        maxs[:] = np.fmax.reduceat(series.values, starts)
    tail = ends - 1
    return Buckets(
        series.steps[tail].tolist(),
        series.times[tail].tolist(),
        _clean(mins),
        _clean(maxs),
        _clean(series.values[tail]),
        count,
        n,
        first,
        last,
    )


class SeriesCache:
    """The last series read, up to ``max_points`` in all (finished runs only: a running
    run's series grows, so it is read again on every request)."""

    def __init__(self, max_points: int = 40_000_000) -> None:
        self.max_points = max_points
        self._items: OrderedDict[tuple[str, str], Series] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, run_id: str, key: str, load: Callable[[], MetricHistory], *, final: bool
    ) -> Series:
        if not final:
            return Series(load())
        with self._lock:
            found = self._items.get((run_id, key))
            if found is not None:
                self._items.move_to_end((run_id, key))
                return found
        series = Series(load())
        with self._lock:
            self._items[(run_id, key)] = series
            while (
                sum(len(s) for s in self._items.values()) > self.max_points and len(self._items) > 1
            ):
                self._items.popitem(last=False)
        return series
