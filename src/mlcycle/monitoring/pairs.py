"""The two samples of one column, prepared for every method: :class:`NumericPair` (finite
floats, with what each method needs computed once, when first needed) and
:class:`CategoryPair` (counts aligned on the union of both samples' categories). Each picks
Evidently 0.7's default method, scores any method, and bins both samples for plotting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mlcycle.monitoring import binning, stattests
from mlcycle.monitoring.methods import DriftMethod
from mlcycle.monitoring.profile import ColumnSample, distinct_upto
from mlcycle.monitoring.report import Distribution
from mlcycle.monitoring.wasserstein import (
    PLOT_BINS,
    SMALL,
    BucketedPair,
    Workspace,
    bucket_count,
)

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.int64]

#: Up to this many reference values, the statistical tests are the defaults.
SMALL_REFERENCE = 1000
#: Numeric columns with more distinct values (both samples) get KS or Wasserstein.
NUMERIC_DISTINCT = 5
#: References with more distinct values get Sturges bins for the binned methods.
BINNED_DISTINCT = 20
_BINNED = (DriftMethod.JENSENSHANNON, DriftMethod.PSI, DriftMethod.KL_DIV)


class Pair(Protocol):
    """What comparing a column needs from its two samples."""

    def default_method(self) -> DriftMethod: ...

    def score(self, method: DriftMethod) -> float: ...

    def distribution(self) -> Distribution: ...


@dataclass
class CategoryPair(Pair):
    """Two categorical samples as counts aligned on the union of their categories."""

    ref: ColumnSample
    cur: ColumnSample

    def __post_init__(self) -> None:
        assert self.ref.counts is not None
        assert self.cur.counts is not None
        keys = list(self.ref.counts)
        keys += [k for k in self.cur.counts if k not in self.ref.counts]
        self.keys = keys
        self.ref_counts = np.array([self.ref.counts.get(k, 0) for k in keys], dtype=np.int64)
        self.cur_counts = np.array([self.cur.counts.get(k, 0) for k in keys], dtype=np.int64)

    def default_method(self) -> DriftMethod:
        if self.ref.size <= SMALL_REFERENCE:
            return DriftMethod.CHISQUARE if len(self.keys) > 2 else DriftMethod.Z
        return DriftMethod.JENSENSHANNON

    def score(self, method: DriftMethod) -> float:
        return _category_score(method, self.ref_counts, self.cur_counts, _smallest(self.keys))

    def distribution(self) -> Distribution:
        labels = [binning.label(k) for k in self.keys]
        order = sorted(range(len(labels)), key=labels.__getitem__)  # bars in label order
        return _category_distribution(
            [labels[i] for i in order], self.ref_counts[order], self.cur_counts[order]
        )


class NumericPair(Pair):
    """Two numeric samples; what each method needs is computed once, when first needed."""

    def __init__(
        self, ref: ColumnSample, cur: ColumnSample, workspace: Workspace | None = None
    ) -> None:
        self.ref = ref
        self.workspace = workspace
        self.cur = cur
        self.r = ref.numbers
        self.c = cur.numbers
        self.lo = min(ref.lo, cur.lo)
        self.hi = max(ref.hi, cur.hi)

    @cached_property
    def union_distinct(self) -> int:
        """Distinct values of both samples, exact up to 5 (6 means more)."""
        if self.ref.distinct > NUMERIC_DISTINCT:
            return NUMERIC_DISTINCT + 1
        if distinct_upto(self.c, NUMERIC_DISTINCT) > NUMERIC_DISTINCT:
            return NUMERIC_DISTINCT + 1
        return min(self.keys.size, NUMERIC_DISTINCT + 1)

    @cached_property
    def keys(self) -> Floats:
        """The sorted distinct values of both samples (only asked for when few)."""
        return np.union1d(_unique(self.r), _unique(self.c))

    @cached_property
    def buckets(self) -> BucketedPair | None:
        """Both samples counted into fine buckets (large samples with a range only)."""
        total = self.r.size + self.c.size
        if total < SMALL or self.hi <= self.lo:
            return None
        buckets = bucket_count(total)
        return BucketedPair(
            self.r, self.c, lo=self.lo, hi=self.hi, buckets=buckets, workspace=self.workspace
        )

    def default_method(self) -> DriftMethod:
        many = self.union_distinct > NUMERIC_DISTINCT
        if self.ref.size <= SMALL_REFERENCE:
            if many:
                return DriftMethod.KS
            return DriftMethod.CHISQUARE if self.union_distinct > 2 else DriftMethod.Z
        return DriftMethod.WASSERSTEIN if many else DriftMethod.JENSENSHANNON

    def score(self, method: DriftMethod) -> float:
        if method is DriftMethod.KS:
            return stattests.ks(self.r, self.c)
        if method is DriftMethod.WASSERSTEIN:
            return stattests.wasserstein_normed(
                self.r, self.c, std=self.ref.std, lo=self.lo, hi=self.hi, pair=self.buckets
            )
        if method in _BINNED and self.ref.distinct > BINNED_DISTINCT:
            first, last, bins = binning.sturges_range(
                self.lo,
                self.hi,
                self.r.size + self.c.size,
                integer=self.ref.integer and self.cur.integer,
            )
            ref_counts = binning.histogram(self.r, first, last, bins)
            cur_counts = binning.histogram(self.c, first, last, bins)
            return _binned_score(method, ref_counts, cur_counts)
        keys = self.keys  # sorted: the smallest value comes first
        ref_counts = binning.count_values(self.r, keys)
        cur_counts = binning.count_values(self.c, keys)
        return _category_score(method, ref_counts, cur_counts, 0)

    @cached_property
    def few_values(self) -> bool:
        """Whether both samples together hold at most 20 distinct values."""
        if self.ref.distinct > BINNED_DISTINCT:
            return False
        if distinct_upto(self.c, BINNED_DISTINCT) > BINNED_DISTINCT:
            return False
        return bool(self.keys.size <= BINNED_DISTINCT)

    def distribution(self) -> Distribution:
        if self.hi <= self.lo or self.few_values:
            keys = self.keys
            return _category_distribution(
                [binning.label(k) for k in keys.tolist()],
                binning.count_values(self.r, keys),
                binning.count_values(self.c, keys),
            )
        edges = np.linspace(self.lo, self.hi, PLOT_BINS + 1)
        if self.buckets is not None:
            ref_counts, cur_counts = self.buckets.plot_counts(PLOT_BINS)
        else:
            ref_counts = binning.histogram(self.r, self.lo, self.hi, PLOT_BINS)
            cur_counts = binning.histogram(self.c, self.lo, self.hi, PLOT_BINS)
        return Distribution(
            kind="histogram",
            edges=tuple(edges.tolist()),
            reference=tuple((ref_counts / self.r.size).tolist()),
            current=tuple((cur_counts / self.c.size).tolist()),
        )


def _unique(values: Floats) -> Floats:
    import pandas as pd

    return np.asarray(pd.unique(values)) if values.size > 50_000 else np.unique(values)


def _category_score(
    method: DriftMethod, ref_counts: Counts, cur_counts: Counts, first: int
) -> float:
    """A method's score on counts per value; ``first`` indexes the smallest value."""
    if method is DriftMethod.CHISQUARE:
        return stattests.chisquare(ref_counts, cur_counts)
    if method is DriftMethod.Z:
        n, m = int(ref_counts.sum()), int(cur_counts.sum())
        return stattests.z_test(int(ref_counts[first]), n, int(cur_counts[first]), m)
    return _binned_score(method, ref_counts, cur_counts)


def _binned_score(method: DriftMethod, ref_counts: Counts, cur_counts: Counts) -> float:
    ref_shares = ref_counts / ref_counts.sum()
    cur_shares = cur_counts / cur_counts.sum()
    if method is DriftMethod.JENSENSHANNON:
        return stattests.jensenshannon(ref_shares, cur_shares)
    ref_shares = binning.fill_empty(ref_shares)
    cur_shares = binning.fill_empty(cur_shares)
    if method is DriftMethod.PSI:
        return stattests.psi(ref_shares, cur_shares)
    return stattests.kl_div(ref_shares, cur_shares)


def _smallest(keys: list[Any]) -> int:
    """The index of the smallest key (Evidently's z-test compares it with the rest)."""
    try:
        return min(range(len(keys)), key=lambda i: keys[i])
    except TypeError:  # values of several types: order them as text
        return min(range(len(keys)), key=lambda i: str(keys[i]))


def _category_distribution(
    labels: list[str], ref_counts: Counts, cur_counts: Counts
) -> Distribution:
    labels, ref_counts, cur_counts = binning.top_categories(labels, ref_counts, cur_counts)
    n = max(int(ref_counts.sum()), 1)
    m = max(int(cur_counts.sum()), 1)
    return Distribution(
        kind="categories",
        labels=tuple(labels),
        reference=tuple((ref_counts / n).tolist()),
        current=tuple((cur_counts / m).tolist()),
    )
