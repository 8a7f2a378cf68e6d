"""Binning two samples into shares, as Evidently's ``get_binned_data`` does, and into the
small summaries a report plots.

* A numeric column whose reference has more than 20 distinct values gets Sturges'
  equal-width bins over both samples together (``numpy.histogram_bin_edges(..., "sturges")``,
  reproduced without concatenating the samples); any other column one bin per value.
* Each side is divided by its own length.
* For PSI and KL an empty bin becomes 1e-4, or the smallest non-zero share divided by 1e6
  when that share is at most 1e-4 (:func:`fill_empty`).

    >>> fill_empty(np.array([0.5, 0.5, 0.0])).tolist()
    [0.5, 0.5, 0.0001]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.int64]


def sturges_range(lo: float, hi: float, total: int, *, integer: bool) -> tuple[float, float, int]:
    """NumPy's Sturges edges for ``total`` values spanning ``[lo, hi]``: (first edge, last
    edge, number of bins). ``integer`` applies NumPy's rule that integer data never gets
    bins narrower than 1."""
    if lo == hi:
        return lo - 0.5, hi + 0.5, 1
    span = hi - lo
    width = span / (float(np.log2(total)) + 1.0)  # NumPy's own arithmetic, to the bit
    if integer and width < 1:
        width = 1.0
    return lo, hi, math.ceil(span / width)


def histogram(values: Floats, first: float, last: float, bins: int) -> Counts:
    """Counts in ``bins`` equal-width bins over ``[first, last]`` (the last bin closed), the
    same as ``np.histogram(values, np.linspace(first, last, bins + 1))``."""
    counts, _ = np.histogram(values, bins=bins, range=(first, last))
    return counts.astype(np.int64)


def count_values(values: Floats, keys: Floats) -> Counts:
    """How often each of the sorted ``keys`` occurs in ``values`` (all of which are keys)."""
    index = np.searchsorted(keys, values)
    return np.bincount(index, minlength=keys.size).astype(np.int64)


def fill_empty(shares: Floats) -> Floats:
    """Replace empty bins for PSI and KL: 1e-4, or (smallest non-zero share) / 1e6 when
    that share is <= 1e-4."""
    nonzero = shares[shares != 0]
    if nonzero.size == 0 or nonzero.size == shares.size:
        return shares
    smallest = float(nonzero.min())
    fill = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(shares == 0, fill, shares)


def top_categories(
    labels: Sequence[str], reference: Counts, current: Counts, limit: int = 20
) -> tuple[list[str], Counts, Counts]:
    """The ``limit`` most frequent categories (both samples' shares together), then one
    ``(other)`` bar for the rest; bars keep the categories' order otherwise."""
    if len(labels) <= limit:
        return list(labels), reference, current
    n = max(int(reference.sum()), 1)
    m = max(int(current.sum()), 1)
    weight = reference / n + current / m
    keep = np.sort(np.argsort(-weight, kind="stable")[: limit - 1])
    rest = np.ones(len(labels), dtype=bool)
    rest[keep] = False
    return (
        [labels[i] for i in keep] + ["(other)"],
        np.append(reference[keep], reference[rest].sum()),
        np.append(current[keep], current[rest].sum()),
    )


def label(value: object) -> str:
    """A category's label: numbers compactly (``1`` and ``1.0`` both as ``1``)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else f"{number:.6g}"
    return str(value)
