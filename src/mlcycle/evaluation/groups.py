"""Rows grouped by a column's values or by numeric bins, as index arrays.

The row indices of every group come from one stable argsort of the group codes, so
slicing 1,000,000 rows into groups costs one sort, and each metric then runs on plain
NumPy arrays rather than on DataFrame groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mlcycle.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

#: A numeric column with more distinct values than this is binned, unless told otherwise.
MAX_CATEGORIES = 10
DEFAULT_BINS = 4
MISSING = "missing"
OTHER = "other"

#: How to slice a column: None (categories, or quartile bins for numeric columns with many
#: values), a number of quantile bins, or explicit bin edges.
BinSpec = int | Sequence[float] | None


@dataclass(frozen=True)
class Grouping:
    """The groups of one column: a label and the row indices of each non-empty group."""

    column: str
    kind: str  # "category" or "bins"
    labels: tuple[str, ...]
    indices: tuple[np.ndarray, ...]


def group_rows(data: pd.DataFrame, column: str, spec: BinSpec = None) -> Grouping:
    """Group the rows of ``data`` by ``column`` (see :data:`BinSpec`)."""
    import pandas as pd

    if column not in data.columns:
        raise InvalidInputError(
            f"cannot slice by {column!r}: the data has no such column", field="slices"
        )
    series = data[column]
    numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )
    if spec is not None and not numeric:
        raise InvalidInputError(
            f"column {column!r} is not numeric, so it cannot be binned; slice it by value",
            field="slices",
        )
    if numeric and (spec is not None or series.nunique() > MAX_CATEGORIES):
        return _bins(column, series.to_numpy(dtype=float, na_value=np.nan), spec)
    codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
    labels = [str(u) for u in uniques]
    return _grouping(column, "category", np.asarray(codes), labels, MISSING)


def _bins(column: str, values: np.ndarray, spec: BinSpec) -> Grouping:
    finite = values[~np.isnan(values)]
    if isinstance(spec, Sequence):
        edges = np.asarray(sorted(float(e) for e in spec))
        if len(edges) < 2:
            raise InvalidInputError(f"bins of {column!r} need at least two edges", field="slices")
    else:
        count = DEFAULT_BINS if spec is None else int(spec)
        if count < 1:
            raise InvalidInputError(
                f"the number of bins of {column!r} must be at least 1", field="slices"
            )
        if len(finite) == 0:
            edges = np.asarray([0.0, 0.0])
        else:
            edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, count + 1)))
            if len(edges) == 1:
                edges = np.repeat(edges, 2)
    n_bins = len(edges) - 1
    codes = np.searchsorted(edges[1:-1], values, side="right")
    outside = (values < edges[0]) | (values > edges[-1])
    codes[outside] = n_bins  # explicit edges leave some values out
    codes[np.isnan(values)] = -1
    labels = [_bin_label(edges[i], edges[i + 1], last=i == n_bins - 1) for i in range(n_bins)]
    if outside.any():
        labels.append(OTHER)
    return _grouping(column, "bins", codes, labels, MISSING)


def _bin_label(low: float, high: float, *, last: bool) -> str:
    return f"[{low:.4g}, {high:.4g}{']' if last else ')'}"


def _grouping(
    column: str, kind: str, codes: np.ndarray, labels: list[str], missing: str
) -> Grouping:
    """Index arrays per code (-1, the missing values, becomes a last group)."""
    n = len(labels)
    shifted = codes.astype(np.intp) + 1  # -1 (missing) -> 0
    order = np.argsort(shifted, kind="stable")
    counts = np.bincount(shifted, minlength=n + 1)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    out_labels: list[str] = []
    out_indices: list[np.ndarray] = []
    for code in [*range(1, n + 1), 0]:
        if counts[code] == 0:
            continue
        out_labels.append(labels[code - 1] if code else missing)
        out_indices.append(order[bounds[code] : bounds[code + 1]])
    return Grouping(column, kind, tuple(out_labels), tuple(out_indices))
