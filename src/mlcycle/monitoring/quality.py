"""Data quality of a window against the reference: missing values, values outside the
reference range, categories never seen in the reference, and schema violations (a column
missing, a column the model does not take, values of the wrong type).

Every check gives a per-column status; nothing here raises on odd data (all-NaN or
constant columns, mixed types, empty windows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.entities import DatasetProfile

if TYPE_CHECKING:
    import pandas as pd

#: Categories kept per reference column to recognise unseen ones.
MAX_CATEGORIES = 10_000
#: Unseen categories listed per column in a result.
SHOWN_CATEGORIES = 10


@dataclass(frozen=True)
class QualityThresholds:
    """When a check counts as a breach.

    ``missing_increase``: the missing share may exceed the reference's by this much;
    ``out_of_range_share``: share of values outside the reference's [min, max];
    ``unseen_share``: share of values in categories the reference never had.
    """

    missing_increase: float = 0.05
    out_of_range_share: float = 0.01
    unseen_share: float = 0.0


@dataclass(frozen=True)
class ColumnStats:
    """What quality checks need of one reference column."""

    kind: str  # "numeric", "categorical" or "other"
    missing_share: float
    min: float | None = None
    max: float | None = None
    categories: frozenset[str] | None = None  # None: too many to keep


@dataclass(frozen=True)
class ReferenceStats:
    rows: int
    columns: Mapping[str, ColumnStats] = field(default_factory=dict)


def _kind(series: pd.Series) -> str:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "other"
    return "categorical"


def reference_stats(frame: pd.DataFrame, profile: DatasetProfile | None = None) -> ReferenceStats:
    """Per-column statistics of the reference (the stored profile's missing shares and
    ranges when given, else computed)."""
    import pandas as pd

    out: dict[str, ColumnStats] = {}
    profiled = {c.name: c for c in profile.columns} if profile is not None else {}
    for name in frame.columns:
        series = frame[name]
        kind = _kind(series)
        known = profiled.get(str(name))
        missing = known.missing_share if known else _missing_share(series)
        if kind == "numeric":
            values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            finite = values[np.isfinite(values)]
            lo = float(finite.min()) if finite.size else None
            hi = float(finite.max()) if finite.size else None
            out[str(name)] = ColumnStats("numeric", missing, lo, hi)
        elif kind == "categorical":
            distinct = series.dropna().astype(str).unique()
            cats = frozenset(distinct.tolist()) if len(distinct) <= MAX_CATEGORIES else None
            out[str(name)] = ColumnStats("categorical", missing, categories=cats)
        else:
            out[str(name)] = ColumnStats("other", missing)
    return ReferenceStats(len(frame), out)


def _missing_share(series: pd.Series) -> float:
    return float(series.isna().mean()) if len(series) else 0.0


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def data_quality(
    reference: ReferenceStats,
    current: pd.DataFrame,
    *,
    features: Sequence[str],
    thresholds: QualityThresholds | None = None,
) -> dict[str, Any]:
    """The quality section of a result: ``{"columns": {name: {...}}, "issues": n,
    "missing_columns": [...], "new_columns": [...]}``.

    Each column has a ``status`` (``ok``, ``issues``, ``missing_column``, ``new_column``,
    ``no_reference``) and the list of breached checks in ``issues``.
    """
    limits = thresholds or QualityThresholds()
    columns: dict[str, dict[str, Any]] = {}
    missing_columns = [f for f in features if f not in current.columns]
    new_columns = [str(c) for c in current.columns if c not in set(features)]
    for name in missing_columns:
        columns[name] = {
            "status": "missing_column",
            "issues": ["schema: the column is missing from the logged inputs"],
        }
    for name in new_columns:
        columns[name] = {
            "status": "new_column",
            "issues": ["schema: the model does not take this column"],
        }
    for name in features:
        if name in missing_columns:
            continue
        stats = reference.columns.get(name)
        if stats is None:
            columns[name] = {"status": "no_reference", "issues": []}
            continue
        columns[name] = _column(stats, current[name], limits)
    issues = sum(len(c["issues"]) for c in columns.values())
    return {
        "rows": len(current),
        "issues": issues,
        "missing_columns": missing_columns,
        "new_columns": new_columns,
        "thresholds": {
            "missing_increase": limits.missing_increase,
            "out_of_range_share": limits.out_of_range_share,
            "unseen_share": limits.unseen_share,
        },
        "columns": columns,
    }


def _column(stats: ColumnStats, series: pd.Series, limits: QualityThresholds) -> dict[str, Any]:
    import pandas as pd

    total = len(series)
    missing = int(series.isna().sum())
    share = _share(missing, total)
    out: dict[str, Any] = {
        "kind": stats.kind,
        "missing_share": share,
        "reference_missing_share": stats.missing_share,
    }
    issues: list[str] = []
    if total and share > stats.missing_share + limits.missing_increase:
        issues.append(
            f"missing: {share:.1%} of values are missing, the reference had "
            f"{stats.missing_share:.1%}"
        )
    present = series.dropna()
    if stats.kind == "numeric":
        values = pd.to_numeric(present, errors="coerce")
        wrong = int(values.isna().sum())
        out["type_violations"] = wrong
        if wrong:
            issues.append(f"schema: {wrong} value(s) are not numbers")
        numbers = values.dropna().to_numpy(dtype=float)
        outside = 0
        if stats.min is not None and stats.max is not None and numbers.size:
            finite = numbers[np.isfinite(numbers)]
            outside = int(np.count_nonzero((finite < stats.min) | (finite > stats.max)))
        out["reference_min"] = stats.min
        out["reference_max"] = stats.max
        out["out_of_range"] = outside
        out["out_of_range_share"] = _share(outside, total)
        if total and outside and out["out_of_range_share"] > limits.out_of_range_share:
            issues.append(
                f"range: {outside} value(s) ({out['out_of_range_share']:.1%}) outside the "
                f"reference range [{_g(stats.min)}, {_g(stats.max)}]"
            )
    elif stats.kind == "categorical" and stats.categories is not None:
        text = present.astype(str)
        unseen_mask = ~text.isin(stats.categories)
        unseen = int(unseen_mask.sum())
        out["unseen"] = unseen
        out["unseen_share"] = _share(unseen, total)
        out["unseen_categories"] = sorted(set(text[unseen_mask].tolist()))[:SHOWN_CATEGORIES]
        if total and unseen and out["unseen_share"] > limits.unseen_share:
            shown = ", ".join(out["unseen_categories"])
            issues.append(
                f"categories: {unseen} value(s) ({out['unseen_share']:.1%}) in categories "
                f"the reference never had ({shown})"
            )
    out["issues"] = issues
    out["status"] = "issues" if issues else "ok"
    return out


def _g(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"
