"""Dataset profiles as values: what the profiler found, per column, kept with each version.

:mod:`mlcycle.datasets.profile` computes them (``Profiler``, ``profile``); they are stored as
JSON (:meth:`DatasetProfile.to_dict`) and are the reference monitoring compares with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from mlcycle.entities import _html
from mlcycle.errors import InvalidInputError

#: The logical column types users reason about (see :mod:`mlcycle.datasets.schema`).
LogicalType = Literal[
    "numeric", "integer", "float", "boolean", "string", "categorical", "datetime", "other"
]
LOGICAL_TYPES: tuple[str, ...] = get_args(LogicalType)
NUMERIC_TYPES: frozenset[str] = frozenset({"numeric", "integer", "float"})

#: A JSON value of a column: a number, text (ISO text for dates and times) or a bool.
Scalar = int | float | str | bool

QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_FORMAT = 1


@dataclass(frozen=True)
class ProfileSettings:
    """Knobs of the profiler; recorded in each profile so results can be reproduced."""

    reservoir_size: int = 100_000
    distinct_bound: int = 100_000
    top_k: int = 10
    bins: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("reservoir_size", "distinct_bound", "top_k", "bins"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an integer >= 1", field=name)


@dataclass(frozen=True)
class Histogram:
    """``counts[i]`` values fall in ``[edges[i], edges[i+1])`` (the last bin is closed)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class NumericSummary:
    """Moments, quantiles and histogram of the finite values of a number column."""

    mean: float
    std: float
    quantiles: tuple[float, ...]  # aligned with QUANTILES
    quantiles_exact: bool
    histogram: Histogram
    infinite_count: int = 0

    def quantile(self, q: float) -> float:
        """One of the stored quantiles, e.g. ``quantile(0.5)`` for the median."""
        if q not in QUANTILES:
            raise InvalidInputError(f"quantile {q} not stored; one of {QUANTILES}", field="q")
        return self.quantiles[QUANTILES.index(q)]


@dataclass(frozen=True)
class CategoryCount:
    value: Scalar
    count: int


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    logical_type: LogicalType
    arrow_type: str
    count: int
    missing_count: int
    distinct_count: int | None  # None for "other" columns (lists, structs, ...)
    distinct_exact: bool
    min: Scalar | None = None  # numbers, or ISO strings for datetimes
    max: Scalar | None = None
    numeric: NumericSummary | None = None
    top_values: tuple[CategoryCount, ...] = ()
    top_values_exact: bool = True

    @property
    def missing_share(self) -> float:
        return self.missing_count / self.count if self.count else 0.0


@dataclass(frozen=True)
class DatasetProfile:
    num_rows: int
    columns: tuple[ColumnProfile, ...]
    settings: ProfileSettings = ProfileSettings()

    @property
    def num_columns(self) -> int:
        return len(self.columns)

    def column(self, name: str) -> ColumnProfile:
        for col in self.columns:
            if col.name == name:
                return col
        raise InvalidInputError(f"no column '{name}' in the profile", field="name")

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (tuples become lists); inverse of :meth:`from_dict`."""
        return {"format": _FORMAT, **_lists(dataclasses.asdict(self))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        try:
            return cls(
                num_rows=int(data["num_rows"]),
                columns=tuple(_column_from_dict(c) for c in data["columns"]),
                settings=ProfileSettings(**data.get("settings", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a dataset profile: {exc!r}", field="data") from exc

    def _repr_html_(self) -> str:
        rows = []
        for c in self.columns:
            num = c.numeric
            distinct = "" if c.distinct_count is None else _html.fmt(c.distinct_count)
            top = ", ".join(f"{_html.fmt(t.value)} ({t.count:,})" for t in c.top_values[:3])
            rows.append(
                [
                    f"<b>{_html.fmt(c.name)}</b>",
                    _html.fmt(c.logical_type),
                    f"{c.missing_share:.1%}",
                    distinct if c.distinct_exact else f"≈{distinct}",
                    _html.fmt(c.min),
                    _html.fmt(c.max),
                    _html.fmt(num.mean if num else None),
                    _html.fmt(num.std if num else None),
                    _html.fmt(num.quantile(0.5) if num else None),
                    top,
                ]
            )
        headers = ["column", "type", "missing", "distinct", "min", "max", "mean", "std"]
        caption = f"Dataset profile: {self.num_rows:,} rows × {self.num_columns} columns"
        return _html.table(caption, [*headers, "median", "top values"], rows)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def _column_from_dict(d: Mapping[str, Any]) -> ColumnProfile:
    num = d.get("numeric")
    numeric = None
    if num is not None:
        hist = num["histogram"]
        numeric = NumericSummary(
            mean=float(num["mean"]),
            std=float(num["std"]),
            quantiles=tuple(float(q) for q in num["quantiles"]),
            quantiles_exact=bool(num["quantiles_exact"]),
            histogram=Histogram(tuple(map(float, hist["edges"])), tuple(map(int, hist["counts"]))),
            infinite_count=int(num.get("infinite_count", 0)),
        )
    if d["logical_type"] not in LOGICAL_TYPES:
        raise ValueError(f"unknown logical_type {d['logical_type']!r}")
    return ColumnProfile(
        name=str(d["name"]),
        logical_type=d["logical_type"],
        arrow_type=str(d["arrow_type"]),
        count=int(d["count"]),
        missing_count=int(d["missing_count"]),
        distinct_count=None if d["distinct_count"] is None else int(d["distinct_count"]),
        distinct_exact=bool(d["distinct_exact"]),
        min=d.get("min"),
        max=d.get("max"),
        numeric=numeric,
        top_values=tuple(CategoryCount(t["value"], int(t["count"])) for t in d["top_values"]),
        top_values_exact=bool(d.get("top_values_exact", True)),
    )
