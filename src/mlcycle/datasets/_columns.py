"""Per-column accumulators of the one-pass profiler (see :mod:`mlcycle.datasets.profile`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets._sketches import F64, DistinctCounter, Reservoir
from mlcycle.datasets.schema import NUMERIC_TYPES, logical_type
from mlcycle.entities.profiles import Scalar


class Moments:
    """Count, mean and sum of squared deviations, merged per batch (Chan et al.)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, x: F64) -> None:
        n_b = len(x)
        if n_b == 0:
            return
        mean_b = float(x.mean())
        dev = x - mean_b
        m2_b = float(np.einsum("i,i->", dev, dev))  # np.dot would go through (threaded) BLAS
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0)."""
        return float(np.sqrt(self.m2 / self.n)) if self.n else 0.0


class TopCounter:
    """Exact value counts while at most ``bound`` distinct values were seen.

    Beyond that only the ``bound`` most frequent values are kept after each batch, so counts
    become lower bounds (a value dropped once restarts from zero) and ``exact`` turns False.
    """

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.values: pa.Array | None = None
        self.counts: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.exact = True

    def add(self, arr: pa.Array) -> pa.Array:
        """Count the non-null values of ``arr``; returns the batch's distinct values."""
        values, new_counts = _value_counts(arr.drop_null() if arr.null_count else arr)
        if self.values is None:
            self.values, self.counts = values, new_counts
        else:
            # Known values add to their counters, new ones are appended.
            where = pc.index_in(values, value_set=self.values)
            known = where.is_valid().to_numpy(zero_copy_only=False)
            positions = where.drop_null().to_numpy()
            self.counts[positions] += new_counts[known]  # values are distinct: no repeats
            if not known.all():
                fresh = ~known
                self.values = pa.concat_arrays([self.values, values.filter(pa.array(fresh))])
                self.counts = np.concatenate([self.counts, new_counts[fresh]])
        if len(self.counts) > self.bound:
            keep = np.argpartition(-self.counts, self.bound - 1)[: self.bound]
            self.values, self.counts = self.values.take(pa.array(keep)), self.counts[keep]
            self.exact = False
        return values

    def top(self, k: int) -> list[tuple[Scalar, int]]:
        """The ``k`` most frequent values, ties broken by value for reproducibility."""
        if self.values is None:
            return []
        order = pc.sort_indices(
            pa.table({"c": self.counts, "v": self.values}),
            sort_keys=[("c", "descending"), ("v", "ascending")],
        ).to_numpy()[:k]
        values = self.values.take(pa.array(order)).to_pylist()
        return [(_jsonable(v), int(c)) for v, c in zip(values, self.counts[order], strict=True)]


def _value_counts(arr: pa.Array) -> tuple[pa.Array, npt.NDArray[np.int64]]:
    if pa.types.is_dictionary(arr.type):
        # Counting the dictionary codes avoids hashing the values.
        per_code = np.bincount(arr.indices.to_numpy(), minlength=len(arr.dictionary))
        used = np.flatnonzero(per_code)
        values = arr.dictionary.take(pa.array(used))
        if len(pc.unique(values)) == len(values):  # Arrow allows repeated dictionary values
            return values, per_code[used].astype(np.int64)
        arr = arr.dictionary_decode()
    counted = pc.value_counts(arr)
    return counted.field("values"), counted.field("counts").to_numpy().astype(np.int64)


class ColumnAccumulator:
    """Everything the profile needs about one column, updated batch by batch."""

    def __init__(
        self, field: pa.Field, *, bound: int, reservoir_size: int, rng: np.random.Generator
    ) -> None:
        self.name: str = field.name
        self.type = field.type
        self.logical = logical_type(field.type)
        self.count = 0
        self.missing = 0
        self.infinite = 0
        self.lo: int | float | None = None
        self.hi: int | float | None = None
        is_number = self.logical in NUMERIC_TYPES
        self.distinct = DistinctCounter(bound) if self.logical != "other" else None
        self.moments = Moments() if is_number else None
        self.reservoir = Reservoir(reservoir_size, rng) if is_number else None
        top_types = ("string", "categorical", "boolean")
        self.top = TopCounter(bound) if self.logical in top_types else None

    def update(self, arr: pa.Array) -> None:
        self.count += len(arr)
        if self.moments is not None:
            self._update_number(arr)
        elif self.logical == "datetime":
            self.missing += arr.null_count
            ints = (arr.drop_null() if arr.null_count else arr).view(
                pa.int64() if arr.type.bit_width == 64 else pa.int32()
            )
            if len(ints):
                values = ints.to_numpy()
                self._update_range(values)
        else:
            self.missing += arr.null_count
            if self.top is not None and self.distinct is not None and len(arr) > arr.null_count:
                self.distinct.add(self.top.add(arr), unique=True)

    def _update_number(self, arr: pa.Array) -> None:
        if pa.types.is_decimal(arr.type):
            arr = arr.cast(pa.float64())  # decimals are summarised as floats
        if pa.types.is_floating(arr.type):
            # to_numpy turns nulls into NaN; missing = null or NaN.
            x = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            finite = np.isfinite(x)
            valid = x
            if not finite.all():  # the common case needs no more passes
                valid = x[~np.isnan(x)]
                self.missing += len(x) - len(valid)
                x = x[finite]
                self.infinite += len(valid) - len(x)
            if len(valid):
                assert self.distinct is not None
                self.distinct.add(pa.array(valid))
            if len(x) == 0:
                return
            self._update_range(x)
            floats = x
        else:
            self.missing += arr.null_count
            ints = (arr.drop_null() if arr.null_count else arr).to_numpy()
            if len(ints) == 0:
                return
            self._update_range(ints)
            floats = ints.astype(np.float64)
        assert self.moments is not None
        assert self.reservoir is not None
        self.moments.add(floats)
        self.reservoir.add(floats)

    def _update_range(self, values: npt.NDArray[np.generic]) -> None:
        lo, hi = values.min().item(), values.max().item()
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)
        if self.distinct is not None and np.issubdtype(values.dtype, np.integer):
            self.distinct.add_ints(values, int(lo), int(hi))  # type: ignore[arg-type]

    def bounds(self) -> tuple[Scalar | None, Scalar | None]:
        """Min and max as JSON values (ISO strings for dates and timestamps)."""
        if self.lo is None or self.hi is None or self.logical != "datetime":
            return self.lo, self.hi
        width = pa.int64() if self.type.bit_width == 64 else pa.int32()
        pair = pa.array([self.lo, self.hi], type=width).view(self.type).to_pylist()
        return _jsonable(pair[0]), _jsonable(pair[1])


def _jsonable(value: object) -> Scalar:
    if isinstance(value, bool | int | float | str):
        return value
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat() if callable(isoformat) else value)
