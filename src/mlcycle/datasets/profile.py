"""One-pass, bounded-memory dataset profiles.

A :class:`Profiler` consumes record batches (``update``) and produces a
:class:`DatasetProfile` (``result``); memory depends on the batch size and the settings,
not on the number of rows. :func:`profile` does both for a DataFrame, Table or file::

    >>> import pandas as pd
    >>> p = profile(pd.DataFrame({"age": [31, 45, None], "city": ["Oslo", "Rome", "Oslo"]}))
    >>> p.column("age").missing_count, p.column("city").top_values[0].value
    (1, 'Oslo')

What is exact and what is estimated, per column:

* ``count``, ``missing_count`` (null, or NaN for floats), ``min``, ``max``, ``mean`` and
  ``std`` are exact (population std, ddof=0; moments merged per batch with Chan's formulas,
  so float rounding is like NumPy's). Number statistics ignore ±inf, which are counted in
  ``infinite_count``.
* Quantiles (p1 … p99, linear interpolation as ``numpy.quantile``) and the equal-width
  histogram between the exact min and max come from a uniform reservoir sample of
  ``reservoir_size`` finite values drawn with a seeded RNG. They are exact when a column
  has at most ``reservoir_size`` finite values (``quantiles_exact``); otherwise a quantile's
  rank error is about ``1/sqrt(reservoir_size)`` (±0.3 percentile points for 100,000) and
  histogram counts are the sample's counts scaled to the column's count (they still sum
  to it).
* ``distinct_count`` is exact up to ``distinct_bound`` distinct values (integers and dates
  spanning fewer than 4 million values stay exact at any count), then a HyperLogLog
  estimate with about 0.8% standard error; ``distinct_exact`` tells which.
* ``top_values`` of string, categorical and boolean columns have exact counts while the
  column has at most ``distinct_bound`` distinct values; above that only that many
  candidates are kept after each batch, so frequent values are still found but their
  counts may be too low (``top_values_exact`` is False).
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets._columns import ColumnAccumulator
from mlcycle.datasets.reading import DEFAULT_BATCH_ROWS, DataLike, open_batches
from mlcycle.datasets.schema import is_string_type
from mlcycle.entities.profiles import (
    QUANTILES,
    CategoryCount,
    ColumnProfile,
    DatasetProfile,
    Histogram,
    NumericSummary,
    ProfileSettings,
)
from mlcycle.errors import InvalidInputError

__all__ = [
    "QUANTILES",
    "CategoryCount",
    "ColumnProfile",
    "DatasetProfile",
    "Histogram",
    "NumericSummary",
    "ProfileSettings",
    "Profiler",
    "profile",
]


class Profiler:
    """Accumulates a :class:`DatasetProfile` over record batches in one pass.

    Columns are updated in parallel threads (NumPy and Arrow release the GIL); every
    column has its own RNG seeded from ``seed`` and its position, so results do not depend
    on the thread schedule.

    >>> import pyarrow as pa
    >>> profiler = Profiler()
    >>> for batch in pa.table({"x": [1.0, 2.0, 3.0]}).to_batches(max_chunksize=2):
    ...     profiler.update(batch)
    >>> profiler.result().column("x").numeric.mean
    2.0
    """

    def __init__(
        self,
        schema: pa.Schema | None = None,
        *,
        settings: ProfileSettings | None = None,
        threads: int | None = None,
    ) -> None:
        self.settings = settings or ProfileSettings()
        self.threads = threads if threads is not None else min(4, os.cpu_count() or 1)
        self.schema: pa.Schema | None = None
        self.num_rows = 0
        self._columns: list[ColumnAccumulator] = []
        if schema is not None:
            self._start(schema)

    def _start(self, schema: pa.Schema) -> None:
        self.schema = schema
        seeds = np.random.SeedSequence(self.settings.seed).spawn(len(schema))
        self._columns = [
            ColumnAccumulator(
                field,
                bound=self.settings.distinct_bound,
                reservoir_size=self.settings.reservoir_size,
                rng=np.random.default_rng(seed),
            )
            for field, seed in zip(schema, seeds, strict=True)
        ]

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add the rows of a RecordBatch (or of every batch of a Table)."""
        if isinstance(batch, pa.Table):
            for part in batch.to_batches():
                self.update(part)
            return
        if not isinstance(batch, pa.RecordBatch):
            raise InvalidInputError(
                f"expected a pyarrow RecordBatch, got {type(batch).__name__}", field="batch"
            )
        if self.schema is None:
            self._start(batch.schema)
        assert self.schema is not None
        if batch.schema.names != self.schema.names or not all(
            _compatible(got, want)
            for got, want in zip(batch.schema.types, self.schema.types, strict=True)
        ):
            got = ", ".join(f"{f.name}: {f.type}" for f in batch.schema)
            want = ", ".join(f"{f.name}: {f.type}" for f in self.schema)
            raise InvalidInputError(
                f"batch columns ({got}) differ from the profiled columns ({want})", field="batch"
            )
        self.num_rows += batch.num_rows
        jobs = list(zip(self._columns, batch.columns, strict=True))
        if self.threads <= 1 or len(jobs) == 1:
            for acc, arr in jobs:
                acc.update(arr)
            return
        with concurrent.futures.ThreadPoolExecutor(self.threads) as pool:
            for future in [pool.submit(acc.update, arr) for acc, arr in jobs]:
                future.result()

    def result(self) -> DatasetProfile:
        """The profile of all rows seen so far (the profiler can keep going afterwards)."""
        if self.schema is None:
            raise InvalidInputError("no batches were profiled and no schema given", field="batch")
        cols = tuple(_finish(acc, self.settings) for acc in self._columns)
        return DatasetProfile(num_rows=self.num_rows, columns=cols, settings=self.settings)


def profile(
    data: DataLike,
    *,
    columns: Sequence[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    settings: ProfileSettings | None = None,
    threads: int | None = None,
) -> DatasetProfile:
    """Profile a DataFrame, Table, RecordBatch or Parquet/CSV file in one streaming pass.

    >>> import pyarrow as pa
    >>> profile(pa.table({"ok": [True, False, True]})).column("ok").top_values[0].count
    2
    """
    stream = open_batches(data, batch_rows=batch_rows, columns=columns, strings_as_dictionary=True)
    profiler = Profiler(stream.stored_schema, settings=settings, threads=threads)
    for batch in stream.prefetched():
        profiler.update(batch)
    return profiler.result()


def _compatible(got: pa.DataType, want: pa.DataType) -> bool:
    """Same type, or a dictionary of it (strings read as dictionaries, see reading)."""
    if got == want:
        return True
    if not pa.types.is_dictionary(got):
        return False
    value = got.value_type
    return bool(value == want or (is_string_type(value) and is_string_type(want)))


def _finish(acc: ColumnAccumulator, settings: ProfileSettings) -> ColumnProfile:
    distinct, exact = acc.distinct.result() if acc.distinct is not None else (None, True)
    lo, hi = acc.bounds()
    numeric = None
    if acc.moments is not None and acc.reservoir is not None and acc.moments.n:
        sample = acc.reservoir.sample()
        numeric = NumericSummary(
            mean=acc.moments.mean,
            std=acc.moments.std,
            quantiles=tuple(float(q) for q in np.quantile(sample, QUANTILES)),
            quantiles_exact=len(sample) == acc.moments.n,
            histogram=_histogram(
                sample, cast(float, lo), cast(float, hi), acc.moments.n, settings.bins
            ),
            infinite_count=acc.infinite,
        )
    top = acc.top.top(settings.top_k) if acc.top is not None else []
    return ColumnProfile(
        name=acc.name,
        logical_type=acc.logical,
        arrow_type=str(acc.type),
        count=acc.count,
        missing_count=acc.missing,
        distinct_count=distinct,
        distinct_exact=exact,
        min=lo,
        max=hi,
        numeric=numeric,
        top_values=tuple(CategoryCount(v, c) for v, c in top),
        top_values_exact=acc.top.exact if acc.top is not None else True,
    )


def _histogram(sample: np.ndarray[Any, Any], lo: float, hi: float, n: int, bins: int) -> Histogram:
    if lo == hi:
        return Histogram(edges=(lo, hi), counts=(n,))
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.histogram(sample, bins=edges)[0].astype(np.float64)
    if len(sample) != n:
        # Scale the sample's counts to n, rounding so that they still sum to n exactly
        # (largest remainder first).
        scaled = counts * (n / len(sample))
        counts = np.floor(scaled)
        short = n - int(counts.sum())
        counts[np.argsort(-(scaled - counts), kind="stable")[:short]] += 1
    return Histogram(edges=tuple(float(e) for e in edges), counts=tuple(int(c) for c in counts))
